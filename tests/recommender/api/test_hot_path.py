"""The read hot path: a warm list is stored bytes (no SQL, no serializer), with ETag, 304 and Cache-Control."""

from __future__ import annotations

from typing import Any

import fakeredis
import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from shop.catalog.models import Product
from tests.recommender.api.test_serving import redis_cache

RLS = "how-to-treat-restless-leg-syndrome"
DROPS = "TM-CTD-8OZ"
BY_SLUG = f"/api/v1/pages/{RLS}/recommendations/"
BY_URL = "/api/v1/recommendations/"


@pytest.fixture
def api() -> APIClient:
    return APIClient()


def rls_url(api: APIClient) -> str:
    return str(api.get(BY_SLUG).json()["page"]["url"])


@pytest.mark.parametrize("limit", [None, 3])
def test_a_warm_read_by_slug_runs_no_query(demo: None, api: APIClient, django_assert_num_queries: Any, limit) -> None:
    params = {"limit": limit} if limit else {}
    cold = api.get(BY_SLUG, params)
    with django_assert_num_queries(0):
        warm = api.get(BY_SLUG, params)
    assert warm.status_code == cold.status_code == 200
    assert warm.content == cold.content
    assert len(warm.json()["items"]) == (limit or 6)


def test_a_warm_read_by_url_runs_no_query(demo: None, api: APIClient, django_assert_num_queries: Any) -> None:
    url = rls_url(api)
    cold = api.get(BY_URL, {"url": url})
    with django_assert_num_queries(0):
        warm = api.get(BY_URL, {"url": url})
    assert warm.status_code == 200
    assert warm.content == cold.content
    assert warm.json()["page"]["slug"] == RLS


def test_the_cached_bytes_match_the_contract(demo: None, api: APIClient) -> None:
    api.get(BY_SLUG)
    body = api.get(BY_SLUG).json()
    assert set(body) == {"page", "generated_at", "disclaimer", "items"}
    item = body["items"][0]
    assert item["product"]["sku"] == DROPS
    assert item["link"].startswith("http://testserver/") and item["product"]["url"].startswith("http://testserver/")


def test_hosts_do_not_share_absolute_urls(demo: None, api: APIClient, settings) -> None:
    settings.ALLOWED_HOSTS = ["testserver", "shop.example"]
    api.get(BY_SLUG)
    other = api.get(BY_SLUG, HTTP_HOST="shop.example").json()
    assert other["items"][0]["link"].startswith("http://shop.example/")


@pytest.mark.parametrize("backend", ["locmem", "redis"])
def test_hosts_outside_allowed_hosts_are_refused_warm_or_cold(demo: None, api: APIClient, settings, backend) -> None:
    if backend == "redis":
        settings.CACHES = redis_cache("redis://fake-redis.invalid:6379/0", connection_class=fakeredis.FakeConnection,
                                      server=fakeredis.FakeServer())  # fmt: skip
    # Without CommonMiddleware (which validates the host first) only the view's own check refuses a host.
    settings.MIDDLEWARE = [m for m in settings.MIDDLEWARE if m != "django.middleware.common.CommonMiddleware"]
    settings.ALLOWED_HOSTS = ["testserver", "shop.example"]
    assert api.get(BY_SLUG, HTTP_HOST="shop.example").status_code == 200
    assert api.get(BY_SLUG, HTTP_HOST="shop.example").status_code == 200  # stored, and the host remembered
    assert api.get(BY_SLUG, HTTP_HOST="evil.example").status_code == 400
    settings.ALLOWED_HOSTS = ["testserver"]
    assert api.get(BY_SLUG, HTTP_HOST="shop.example").status_code == 400


def test_etag_answers_304_with_no_body(demo: None, api: APIClient, django_assert_num_queries: Any) -> None:
    first = api.get(BY_SLUG)
    etag = first["ETag"]
    assert etag.startswith('"') and first["Cache-Control"] == "public, max-age=60"
    with django_assert_num_queries(0):
        again = api.get(BY_SLUG, HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304
    assert again.content == b""
    assert again["ETag"] == etag
    assert api.get(BY_SLUG, HTTP_IF_NONE_MATCH=f'"stale", W/{etag}').status_code == 304
    assert api.get(BY_SLUG, HTTP_IF_NONE_MATCH='"stale"').status_code == 200


def test_a_refresh_invalidates_the_cached_list(
    demo: None, api: APIClient, django_capture_on_commit_callbacks: Any
) -> None:
    before = api.get(BY_SLUG)
    by_url = api.get(BY_URL, {"url": rls_url(api)})
    assert DROPS in {i["product"]["sku"] for i in before.json()["items"]}
    Product.objects.filter(sku=DROPS).update(in_stock=False)  # no signal: only the refresh below can tell
    assert api.get(BY_SLUG).content == before.content
    with django_capture_on_commit_callbacks(execute=True):
        call_command("refresh_recommendations", page=RLS, verbosity=0)
    after = api.get(BY_SLUG)
    assert DROPS not in {i["product"]["sku"] for i in after.json()["items"]}
    assert after["ETag"] != before["ETag"]
    assert api.get(BY_SLUG, HTTP_IF_NONE_MATCH=before["ETag"]).status_code == 200
    assert api.get(BY_URL, {"url": rls_url(api)}).content != by_url.content


def test_unknown_pages_are_404_and_not_cached(demo: None, api: APIClient) -> None:
    assert api.get("/api/v1/pages/no-such-page/recommendations/").status_code == 404
    assert api.get(BY_URL, {"url": "https://nowhere.example/x"}).status_code == 404
    assert api.get(BY_URL).status_code == 400


def test_the_browsable_api_still_renders(demo: None, api: APIClient) -> None:
    response = api.get(BY_SLUG, HTTP_ACCEPT="text/html")
    assert response.status_code == 200
    assert b"ConcenTrace" in response.content
