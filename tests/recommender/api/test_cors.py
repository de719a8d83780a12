"""CORS: only an origin in CORS_ALLOWED_ORIGINS may read the widget's lists or post its events from a browser.

django-cors-headers answers for the widget's endpoints only (`CORS_URLS_REGEX`: the two list reads and events).
An origin not allowed, near misses of an allowed one (scheme, port, a longer or a prefixed host) and `Origin:
null` get no `Access-Control-Allow-Origin` on a GET, a warm (cached) GET or a preflight; an allowed origin gets
exactly its own origin and never `Access-Control-Allow-Credentials` (the widget sends no cookie). Every other API
route gives nothing even to an allowed origin. Whether an event from a foreign origin is counted is
`test_events.py`; this file is about the headers.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.core import checks
from django.test import Client

RLS = "how-to-treat-restless-leg-syndrome"
DROPS = "TM-CTD-8OZ"
BLOG = "https://blog.example"

READS = [f"/api/v1/pages/{RLS}/recommendations/", f"/api/v1/recommendations/?url=/learn/{RLS}/"]
EVENTS = "/api/v1/events/"
REFUSED = [
    "https://evil.example",
    "http://blog.example",  # the allowed host on another scheme
    "https://blog.example:8443",  # and on another port
    "https://blog.example.evil.example",
    "https://evilblog.example",
    "null",  # a sandboxed frame, a file, a data: url
]
# Routes outside CORS_URLS_REGEX: staff writes, the catalog and taxonomy, previews and the schema.
OTHER = [
    f"/api/v1/products/{DROPS}/",
    f"/api/v1/products/{DROPS}/related/",
    f"/api/v1/products/{DROPS}/articles/",
    "/api/v1/products/",
    "/api/v1/pages/",
    "/api/v1/tags/",
    "/api/v1/placements/",
    "/api/v1/recommendations/preview/",
    f"/api/v1/pages/{RLS}/",
]
CORS_HEADERS = [
    "Access-Control-Allow-Origin",
    "Access-Control-Allow-Credentials",
    "Access-Control-Allow-Methods",
    "Access-Control-Allow-Headers",
    "Access-Control-Expose-Headers",
]


@pytest.fixture
def allowed(settings: Any) -> None:
    settings.CORS_ALLOWED_ORIGINS = [BLOG]


def given(response: Any) -> dict[str, str]:
    return {name: response[name] for name in CORS_HEADERS if response.has_header(name)}


def varies_on_origin(response: Any) -> bool:
    return "origin" in [v.strip().lower() for v in response.get("Vary", "").split(",")]


def preflight(client: Client, path: str, origin: str, method: str = "GET") -> Any:
    return client.options(
        path,
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": method,
            "Access-Control-Request-Headers": "content-type",
        },
    )


@pytest.mark.parametrize("origin", REFUSED)
@pytest.mark.parametrize("path", READS)
def test_a_read_gives_nothing_to_an_origin_not_allowed(demo: None, allowed: None, path: str, origin: str) -> None:
    client = Client()
    cold = client.get(path, headers={"Origin": origin})
    warm = client.get(path, headers={"Origin": origin})  # served from the stored bytes
    client.get(path, headers={"Origin": BLOG})  # an allowed origin read it in between
    after = client.get(path, headers={"Origin": origin})
    for response in (cold, warm, after):
        assert response.status_code == 200  # CORS hides the answer from the page; it does not refuse it
        assert given(response) == {}
        assert varies_on_origin(response)  # a shared cache keeps one answer per origin


@pytest.mark.parametrize("origin", REFUSED)
@pytest.mark.parametrize(("path", "method"), [*((read, "GET") for read in READS), (EVENTS, "POST")])
def test_a_preflight_gives_nothing_to_an_origin_not_allowed(
    demo: None, allowed: None, path: str, method: str, origin: str
) -> None:
    response = preflight(Client(), path, origin, method)
    assert given(response) == {}


@pytest.mark.parametrize("path", READS)
def test_an_allowed_origin_gets_exactly_its_own_origin(demo: None, allowed: None, path: str) -> None:
    client = Client()
    client.get(path, headers={"Origin": "https://evil.example"})  # the stored answer was made for another origin
    for response in (client.get(path, headers={"Origin": BLOG}), client.get(path, headers={"Origin": BLOG})):
        assert response.status_code == 200
        assert given(response) == {"Access-Control-Allow-Origin": BLOG}
        assert varies_on_origin(response)
    options = preflight(client, path, BLOG)
    assert options["Access-Control-Allow-Origin"] == BLOG
    assert "GET" in options["Access-Control-Allow-Methods"]
    assert not options.has_header("Access-Control-Allow-Credentials")


def test_an_allowed_origin_may_post_events(demo: None, allowed: None) -> None:
    options = preflight(Client(), EVENTS, BLOG, "POST")
    assert options["Access-Control-Allow-Origin"] == BLOG
    assert "POST" in options["Access-Control-Allow-Methods"]
    assert "content-type" in options["Access-Control-Allow-Headers"]
    assert not options.has_header("Access-Control-Allow-Credentials")
    event = {"type": "impression", "page": RLS, "product": DROPS, "rank": 1}
    response = Client().post(EVENTS, json.dumps(event), content_type="text/plain", headers={"Origin": BLOG})
    assert response.status_code == 204
    assert given(response) == {"Access-Control-Allow-Origin": BLOG}


@pytest.mark.parametrize("path", OTHER)
def test_other_routes_give_nothing_even_to_an_allowed_origin(demo: None, allowed: None, path: str) -> None:
    client = Client()
    assert given(client.get(path, headers={"Origin": BLOG})) == {}
    for method in ("GET", "POST", "PATCH", "PUT", "DELETE"):
        assert given(preflight(client, path, BLOG, method)) == {}, method


@pytest.mark.parametrize("path", [*READS, EVENTS])
def test_with_no_origin_listed_none_is_allowed(demo: None, settings: Any, path: str) -> None:
    """The store's settings list none unless RECOMMENDER_WIDGET_ORIGINS does, and allow no other way."""
    assert not getattr(settings, "CORS_ALLOW_ALL_ORIGINS", False)
    assert not getattr(settings, "CORS_ALLOWED_ORIGIN_REGEXES", [])
    settings.CORS_ALLOWED_ORIGINS = []
    assert given(preflight(Client(), path, BLOG, "GET")) == {}
    if path != EVENTS:
        assert given(Client().get(path, headers={"Origin": BLOG})) == {}


def test_an_allowed_origin_without_a_scheme_is_a_check_error(settings: Any) -> None:
    """A typo in RECOMMENDER_WIDGET_ORIGINS is refused by django-cors-headers' own check (so by `migrate`).

    `blog.example` matches no browser's origin but `null`: both split into no scheme and no host, and
    corsheaders would answer `Origin: null` with `Access-Control-Allow-Origin: null` (tried by hand).
    """
    settings.CORS_ALLOWED_ORIGINS = ["blog.example"]
    errors = [m.id for m in checks.run_checks() if m.level >= checks.ERROR]
    assert "corsheaders.E013" in errors
