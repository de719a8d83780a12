"""Property-based API tests: schemathesis calls every operation of /api/schema/ in-process (Django's WSGI app).

Each run loads the demo, then for each operation makes generated calls (valid and invalid input) and checks
that no call fails with a 5xx and that every response's status code, content type and body are documented in
the schema. It runs twice: anonymous, and as a staff user in both `merchandiser` and `marketing` with a DRF
token. Generated path parameters, the `url` query and some bodies are mixed with real demo values, so the
successful responses (recommendation lists, related articles, ...) are exercised too, not only 404s.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.contrib.auth.models import Group, User
from django.core import signals
from django.core.management import call_command
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.test import Client
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from recommender.models import ContentPage, Tag
from shop.catalog.models import Product

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]

# Operations that must answer 200 at least once per run (issue 7: "schemathesis covers it").
MUST_SUCCEED = {
    "GET /api/v1/pages/{slug}/recommendations/",
    "GET /api/v1/recommendations/",
    "GET /api/v1/products/{sku}/related/",
    "GET /api/v1/products/{sku}/articles/",
}

# Status codes seen per operation in the current test, for the coverage assertion at teardown.
SEEN: dict[str, set[int]] = defaultdict(set)


@pytest.fixture(params=["anonymous", "staff"])
def identity(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def auth_headers(identity: str, db: None) -> dict[str, str]:
    if identity == "anonymous":
        return {}
    user = User.objects.create_user("schemathesis-staff", password="pw-123-secret", is_staff=True)
    user.groups.add(*Group.objects.filter(name__in=["merchandiser", "marketing"]))
    assert user.groups.count() == 2
    return {"Authorization": f"Token {Token.objects.create(user=user).key}"}


@pytest.fixture
def in_process_wsgi() -> Iterator[None]:
    """Keep the WSGI handler from closing the test's connection (it would drop the test transaction).

    Django's test client does the same: the handler runs in this thread, on this connection, inside the
    transaction pytest-django rolls back, so it sees the demo data loaded below.
    """
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


@pytest.fixture
def demo_api(db: None, identity: str, in_process_wsgi: None, settings: Any) -> Iterator[None]:
    """The demo, loaded in this test's database; asserts at teardown that the lists answered 200."""
    call_command("load_demo", verbosity=0)
    call_command("refresh_recommendations", verbosity=0)
    # Generated calls come in bursts; throttling is not what this test is about.
    settings.RECOMMENDER = {**settings.RECOMMENDER, "THROTTLE_RATES": {"anon": "100000/min", "events": "100000/min"}}
    SEEN.clear()
    yield
    for label, statuses in SEEN.items():
        assert label not in MUST_SUCCEED or 200 in statuses, f"{label} never answered 200 as {identity}: {statuses}"


def skus() -> list[str]:
    return sorted(Product.objects.values_list("sku", flat=True))


def slugs() -> list[str]:
    return sorted(ContentPage.objects.filter(published=True).values_list("slug", flat=True))


def page_urls() -> list[str]:
    urls = sorted(ContentPage.objects.filter(published=True).values_list("url", flat=True))
    return urls + [f"http://localhost{url}" for url in urls if url.startswith("/")]


def tag_slugs() -> list[str]:
    return sorted(Tag.objects.values_list("slug", flat=True))


def mixed(generated: Any, real: list[Any], build: Any) -> st.SearchStrategy[Any]:
    """A value built from a real demo value, or the generated one.

    The real branch comes first: Hypothesis favours the first branch of `one_of`, so every run reaches the
    endpoints' success path (the teardown asserts it did); generated values still probe the errors.
    """
    assert real, "the demo data is not loaded"
    return st.one_of(st.sampled_from(real).flatmap(build), st.just(generated))


def register_demo_values(schema: schemathesis.BaseSchema) -> None:
    """Mix real slugs, skus, urls and tag slugs into generated values; hooks run inside the test (with data)."""

    @schema.hook
    def flatmap_path_parameters(context: Any, path_parameters: dict[str, Any] | None) -> st.SearchStrategy[Any]:
        if not isinstance(path_parameters, dict):
            return st.just(path_parameters)
        if "sku" in path_parameters:
            return mixed(path_parameters, skus(), lambda sku: st.just({**path_parameters, "sku": sku}))
        if "slug" in path_parameters:
            return mixed(path_parameters, slugs(), lambda slug: st.just({**path_parameters, "slug": slug}))
        return st.just(path_parameters)

    @schema.hook
    def flatmap_query(context: Any, query: dict[str, Any] | None) -> st.SearchStrategy[Any]:
        if context.operation.path == "/api/v1/recommendations/" and isinstance(query, dict):
            return mixed(query, page_urls(), lambda url: st.just({**query, "url": url}))
        return st.just(query)

    @schema.hook
    def flatmap_body(context: Any, body: Any) -> st.SearchStrategy[Any]:
        label = f"{context.operation.method.upper()} {context.operation.path}"
        if label == "PUT /api/v1/products/{sku}/tags/":
            row = st.fixed_dictionaries({"tag": st.sampled_from(tag_slugs()), "relevance": st.floats(0, 1)})
            rows = st.lists(row, max_size=3, unique_by=lambda r: r["tag"])
            return st.one_of(st.just(body), rows.map(lambda tags: {"tags": tags}))
        if label == "POST /api/v1/events/":
            real = st.fixed_dictionaries(
                {
                    "type": st.sampled_from(["impression", "click"]),
                    "page": st.sampled_from(slugs()),
                    "product": st.sampled_from(skus()),
                },
                optional={"rank": st.integers(1, 1000)},
            )
            return st.one_of(st.just(body), real)
        return st.just(body)


schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", get_wsgi_application())
register_demo_values(schema)


@schema.parametrize()
@settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_conforms_to_schema(
    case: schemathesis.Case, demo_api: None, identity: str, auth_headers: dict[str, str]
) -> None:
    response = case.call(headers=auth_headers)
    SEEN[f"{case.method.upper()} {case.operation.path}"].add(response.status_code)
    case.validate_response(response, checks=CHECKS, headers=auth_headers)


def test_list_endpoints_document_their_shapes(db: None, client: Client) -> None:
    """The lists are described field by field, so the conformance check above means something."""
    spec = json.loads(client.get("/api/schema/", {"format": "json"}).content)
    paths = spec["paths"]

    def ok_schema(path: str, method: str = "get") -> str:
        return str(paths[path][method]["responses"]["200"]["content"]["application/json"]["schema"]["$ref"])

    components = spec["components"]["schemas"]
    for path in ("/api/v1/pages/{slug}/recommendations/", "/api/v1/recommendations/"):
        assert ok_schema(path).endswith("/RecommendationList")
    assert ok_schema("/api/v1/recommendations/preview/", "post").endswith("/RecommendationList")
    assert ok_schema("/api/v1/products/{sku}/related/").endswith("/RelatedProducts")
    assert ok_schema("/api/v1/products/{sku}/articles/").endswith("/ProductArticles")
    assert set(components["RecommendationList"]["properties"]) == {"page", "generated_at", "disclaimer", "items"}
    assert set(components["RecommendationItem"]["properties"]) == {
        "rank", "score", "product", "reasons", "cautions", "link",
    }  # fmt: skip
    assert set(components["ProductArticles"]["properties"]) == {"product", "items"}
    assert set(components["ArticleItem"]["properties"]) == {"rank", "score", "page", "reasons", "link"}
