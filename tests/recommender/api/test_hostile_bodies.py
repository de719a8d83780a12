"""Hostile bodies to every API write, as the role it is meant for: always a 4xx with a message, nothing written.

The writes (recommender/api/urls.py; the shop has no API of its own): POST pages, POST preview, PATCH product,
PUT product tags, POST events, POST placement, PUT and PATCH placement. DELETE placement reads no body. Each gets:
a body that is not an object, invalid JSON, invalid UTF-8, 10,000 nested `[` and `{"a":` (also as a field's
value), a 3 MB body (over DATA_UPLOAD_MAX_MEMORY_SIZE, as JSON and as a form), and each field in turn replaced by a
list, an object, NUL ("\\u0000" in JSON) and a lone surrogate; a numeric or boolean field by 1e309, 10**400 written
out as a JSON integer and -1e39; a name-like field by 100 kB of text.

Every answer is a 400, 413 or 415 with a JSON body carrying a message (`detail` or field errors); the tables a
write could touch are unchanged; no query is sent with NUL or a lone surrogate in a parameter (PostgreSQL refuses
NUL in text: such strings must be refused at validation, not by the database). The good body, sent last, still
succeeds, so the refusals were not about the role.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.db import connection
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from recommender.models import ContentPage, DailyStat, PageTag, Placement, ProductTag, Recommendation
from shop.catalog.models import Product
from tests.recommender.api.test_events import BROWSER
from tests.recommender.api.test_roles import DROPS, RLS, client_as


@dataclass
class Write:
    method: str
    path: str  # `{pk}` is the placement the test made
    role: str
    body: dict[str, Any]
    kinds: dict[str, str] = field(default_factory=dict)  # field -> number, bool, name, text, list


WRITES = {
    "POST pages": Write(
        "POST", "/api/v1/pages/", "marketing",
        {"url": "https://blog.example.org/minerals", "title": "Minerals", "text": "Magnesium and zinc."},
        {"url": "name", "title": "name", "text": "text"},
    ),
    "POST preview": Write(
        "POST", "/api/v1/recommendations/preview/", "marketing",
        {"title": "Cramps", "text": "Magnesium for leg cramps.", "limit": 3},
        {"title": "name", "text": "text", "limit": "number"},
    ),
    "PATCH product": Write(
        "PATCH", f"/api/v1/products/{DROPS}/", "merchandiser",
        {"in_stock": False, "price": "21.00"}, {"in_stock": "bool", "price": "number"},
    ),
    "PUT product tags": Write(
        "PUT", f"/api/v1/products/{DROPS}/tags/", "merchandiser",
        {"tags": [{"tag": "magnesium", "relevance": 0.5}]}, {"tags": "list"},
    ),
    "POST events": Write(
        "POST", "/api/v1/events/", "anonymous",
        {"type": "click", "page": RLS, "product": DROPS, "rank": 1},
        {"type": "name", "page": "name", "product": "name", "rank": "number"},
    ),
    "POST placement": Write(
        "POST", "/api/v1/placements/", "marketing",
        {"page": RLS, "product": DROPS, "action": "boost", "factor": 1.5, "campaign": "winter"},
        {"page": "name", "product": "name", "action": "name", "factor": "number", "campaign": "name"},
    ),
    "PUT placement": Write(
        "PUT", "/api/v1/placements/{pk}/", "marketing",
        {"page": RLS, "product": "TM-CTT-90", "action": "pin", "position": 2},
        {"page": "name", "product": "name", "action": "name", "position": "number"},
    ),
    "PATCH placement": Write(
        "PATCH", "/api/v1/placements/{pk}/", "marketing",
        {"factor": 2.0, "tag": None, "page": RLS}, {"factor": "number", "page": "name"},
    ),
}  # fmt: skip

DEEP = 10_000
NUMBERS = {"1e309": "1e309", "10**400": "1" + "0" * 400, "-1e39": "-1e39"}
JSON = "application/json"
FORM = "application/x-www-form-urlencoded"


def with_raw(body: dict[str, Any], name: str, raw: str) -> bytes:
    """The body as JSON with this field's value replaced by raw JSON text (numbers JSON can write, Python cannot)."""
    return json.dumps({**body, name: "\x01RAW\x01"}).replace(json.dumps("\x01RAW\x01"), raw).encode()


def field_bodies(name: str, value: Any, kind: str) -> Iterator[tuple[str, str]]:
    """(label, raw JSON text) of hostile values for one field."""
    yield "list", json.dumps([value])
    yield "object", json.dumps({"a": value})
    text = value if isinstance(value, str) else "x"
    yield "NUL", json.dumps(f"{text}\u0000")
    yield "lone surrogate", json.dumps(text)[:-1] + '\\ud800"'
    yield "nested 10,000 deep", "[" * DEEP + "]" * DEEP
    if kind in {"number", "bool"}:
        yield from NUMBERS.items()
    if kind == "name":
        yield "100 kB", json.dumps("x" * 100_000)


def hostile_bodies(write: Write) -> Iterator[tuple[str, bytes, str]]:
    """(label, body bytes, content type) of every hostile body for this write."""
    good = json.dumps(write.body)
    yield "list instead of object", f"[{good}]".encode(), JSON
    for label, text in [("string", '"x"'), ("number", "1e309"), ("null", "null"), ("empty list", "[]")]:
        yield f"{label} instead of object", text.encode(), JSON
    yield "invalid JSON", b"{not json", JSON
    yield "truncated JSON", good[:-1].encode(), JSON
    yield "NaN", with_raw(write.body, next(iter(write.body)), "NaN"), JSON
    yield "invalid UTF-8", good.encode().replace(b'": "', b'": "\xff', 1), JSON
    yield (
        "latin-1",
        json.dumps({**write.body, next(iter(write.body)): "Magnésium"}, ensure_ascii=False).encode("latin-1"),
        JSON,
    )
    yield "10,000 nested [", b"[" * DEEP, JSON
    yield '10,000 nested {"a":', b'{"a":' * DEEP, JSON
    yield "3 MB JSON", json.dumps({**write.body, "text": "magnesium " * 300_000}).encode(), JSON
    yield "3 MB form", ("title=x&text=" + "x" * 3_000_000).encode(), FORM
    for name, value in write.body.items():
        if name == "tags":  # a list of objects: hostile values inside its first item
            for inner, inner_kind in [("tag", "name"), ("relevance", "number")]:
                for label, raw in field_bodies(inner, value[0][inner], inner_kind):
                    item = with_raw(value[0], inner, raw).decode()
                    yield f"tags[0].{inner}: {label}", with_raw(write.body, name, f"[{item}]"), JSON
        for label, raw in field_bodies(name, value, write.kinds.get(name, "name")):
            yield f"{name}: {label}", with_raw(write.body, name, raw), JSON


def state() -> list[list[Any]]:
    """Every row an API write could change."""
    return [
        list(ContentPage.objects.order_by("pk").values_list("pk", "slug", "url", "title", "text", "updated_at")),
        list(PageTag.objects.order_by("pk").values_list("pk", "page_id", "tag_id", "weight")),
        list(Product.objects.order_by("pk").values_list("pk", "in_stock", "active", "price", "updated_at")),
        list(ProductTag.objects.order_by("pk").values_list("pk", "tag_id", "source", "relevance", "status")),
        list(Placement.objects.order_by("pk").values()),
        list(DailyStat.objects.order_by("pk").values()),
        list(Recommendation.objects.order_by("pk").values_list("pk", "page_id", "product_id", "rank")),
    ]


def unstorable(value: Any) -> bool:
    """Whether a query parameter holds NUL or a lone surrogate (PostgreSQL would raise DataError)."""
    if isinstance(value, str):
        return "\x00" in value or any("\ud800" <= c <= "\udfff" for c in value)
    if isinstance(value, list | tuple):
        return any(unstorable(v) for v in value)
    return False


@contextmanager
def queries_checked(bad: list[str]) -> Iterator[None]:
    """Record every query sent with a parameter PostgreSQL would refuse."""

    def check(execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
        if unstorable(params):
            bad.append(sql[:80])
        return execute(sql, params, many, context)

    with connection.execute_wrapper(check):
        yield


def message_in(body: Any) -> bool:
    """A non-empty message somewhere in DRF's error format: `detail`, or field -> [messages] (nested for lists)."""
    if isinstance(body, str):
        return bool(body.strip())
    if isinstance(body, dict):
        return bool(body) and all(message_in(v) for v in body.values())
    if isinstance(body, list):
        return bool(body) and any(message_in(v) for v in body)
    return False


@pytest.mark.parametrize("name", WRITES)
def test_hostile_bodies_are_refused_with_a_message_and_change_nothing(demo: None, name: str) -> None:
    write = WRITES[name]
    page = ContentPage.objects.get(slug=RLS)
    placement = Placement.objects.create(page=page, product=Product.objects.get(sku="VN-MGG-120"), action="bury")
    path = write.path.format(pk=placement.pk)
    api = client_as(write.role)
    api.credentials(HTTP_USER_AGENT=BROWSER)
    before = state()
    wrong: list[str] = []
    bad_queries: list[str] = []
    cases = list(hostile_bodies(write))
    for label, body, content_type in cases:
        with queries_checked(bad_queries):
            response = api.generic(write.method, path, body, content_type=content_type)
        try:
            payload = response.json()
        except ValueError:
            payload = None
        if response.status_code not in (400, 413, 415) or not message_in(payload):
            wrong.append(f"{label}: {response.status_code} {response.content[:160]!r}")
        if state() != before:
            wrong.append(f"{label}: wrote something")
            before = state()
    assert wrong == [], f"{name}: {wrong}"
    assert bad_queries == [], f"{name}: queries sent with NUL or a lone surrogate: {bad_queries}"
    good = api.generic(write.method, path, json.dumps(write.body), content_type=JSON)
    assert 200 <= good.status_code < 300, (name, good.status_code, good.content[:300])
    print(f"{name}: {len(cases)} hostile bodies refused")


def test_text_plain_events_too(demo: None) -> None:
    """The widget's beacons arrive as text/plain: the same bodies through that parser."""
    api = APIClient(HTTP_USER_AGENT=BROWSER)
    before = state()
    for label, body, content_type in hostile_bodies(WRITES["POST events"]):
        if content_type != JSON:
            continue
        response = api.generic("POST", "/api/v1/events/", body, content_type="text/plain;charset=UTF-8")
        assert response.status_code == 400 and message_in(response.json()), (label, response.content[:160])
    assert state() == before


def test_a_nul_in_the_sku_of_the_path_is_a_404_before_any_query(demo: None) -> None:
    api = client_as("merchandiser")
    bad: list[str] = []
    with queries_checked(bad):
        for method, path, body in [
            ("PATCH", f"/api/v1/products/{DROPS}%00/", {"in_stock": False}),
            ("PUT", f"/api/v1/products/{DROPS}%00/tags/", {"tags": []}),
        ]:
            response = api.generic(method, path, json.dumps(body), content_type=JSON)
            assert response.status_code == 404 and response.json()["detail"], (path, response.content)
    assert bad == []


@pytest.mark.parametrize(
    ("path", "param"),
    [
        ("/api/v1/recommendations/?url=%00", "url"),
        ("/api/v1/recommendations/?url=https://example.com/a%00b", "url"),
        ("/api/v1/products/?tag=%00", "tag"),
        ("/api/v1/products/?tag=magnesium%00", "tag"),
    ],
)
def test_a_nul_in_a_query_parameter_is_a_400_naming_it_before_any_query(demo: None, path: str, param: str) -> None:
    bad: list[str] = []
    with queries_checked(bad):
        response = APIClient().get(path)
    assert response.status_code == 400, response.content
    assert param in response.json()
    assert bad == []
    # The schema says so (schemathesis found the products list's 400 undocumented).
    schema = SchemaGenerator().get_schema(request=None, public=True)
    operation = schema["paths"][path.split("?")[0]]["get"]
    assert "400" in operation["responses"]
