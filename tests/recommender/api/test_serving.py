"""Serving guarantees of the cached list reads: at most one Redis round trip a hit (none for a repeat within
LOCAL_CACHE_SECONDS), a refresh served at once by the process that made it and within LOCAL_CACHE_SECONDS by
the others, the database when Redis is away, reads that never write, a throttle that costs one INCRBY or a
local count and trusts X-Forwarded-For only behind the configured proxies."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import fakeredis
import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from redis.client import Pipeline, Redis
from rest_framework.test import APIClient

from recommender.api import caching
from recommender.api.caching import Counter, LocalCounts
from shop.catalog.models import Product

RLS = "how-to-treat-restless-leg-syndrome"
DROPS = "TM-CTD-8OZ"
BY_SLUG = f"/api/v1/pages/{RLS}/recommendations/"
BY_URL = "/api/v1/recommendations/"
THREE_A_MINUTE = {"anon": "3/min", "events": "9/min"}


def redis_cache(location: str, **pool: Any) -> dict[str, Any]:
    """django-redis settings; each fake server gets its own address, so no connection pool is shared between
    tests (django-redis keeps pools per address)."""
    if "fake-redis.invalid" in location:
        location = location.replace("fake-redis.invalid", f"fake-{uuid.uuid4().hex[:12]}.invalid")
    options = {"CLIENT_CLASS": "django_redis.client.DefaultClient", "IGNORE_EXCEPTIONS": True}
    options.update({"SOCKET_CONNECT_TIMEOUT": 0.2, "SOCKET_TIMEOUT": 0.2, "CONNECTION_POOL_KWARGS": pool})
    return {"default": {"BACKEND": "django_redis.cache.RedisCache", "LOCATION": location, "OPTIONS": options}}


@pytest.fixture
def fake_redis(settings) -> None:
    """django-redis on an in-process fake Redis server: the real client code, pipelines included."""
    server = fakeredis.FakeServer()
    settings.CACHES = redis_cache("redis://fake-redis.invalid:6379/0", connection_class=fakeredis.FakeConnection,
                                  server=server)  # fmt: skip


@pytest.fixture
def round_trips(monkeypatch) -> Iterator[list[str]]:
    """Every Redis round trip, by kind: a single command or a pipeline."""
    trips: list[str] = []
    command, execute = Redis.execute_command, Pipeline.execute

    def counted_command(self: Redis, *args: Any, **options: Any) -> Any:
        trips.append(str(args[0]))
        return command(self, *args, **options)

    def counted_execute(self: Pipeline, *args: Any, **kwargs: Any) -> Any:
        trips.append("pipeline")
        return execute(self, *args, **kwargs)

    monkeypatch.setattr(Redis, "execute_command", counted_command)
    monkeypatch.setattr(Pipeline, "execute", counted_execute)
    yield trips


@pytest.fixture
def api() -> APIClient:
    return APIClient()


def skus(response: Any) -> set[str]:
    return {i["product"]["sku"] for i in response.json()["items"]}


def local_tier(settings, seconds: float) -> None:
    settings.RECOMMENDER = {**settings.RECOMMENDER, "LOCAL_CACHE_SECONDS": seconds}


def test_a_hit_is_one_redis_round_trip_and_no_query(
    demo: None, fake_redis: None, api: APIClient, round_trips: list[str], django_assert_num_queries: Any, settings
) -> None:
    local_tier(settings, 0)
    url = api.get(BY_SLUG).json()["page"]["url"]
    cold = api.get(BY_URL, {"url": url})
    round_trips.clear()
    with django_assert_num_queries(0):
        warm = api.get(BY_SLUG)
        by_url = api.get(BY_URL, {"url": url})
        not_modified = api.get(BY_SLUG, HTTP_IF_NONE_MATCH=warm["ETag"])
    assert round_trips == ["pipeline"] * 3
    assert warm.status_code == by_url.status_code == 200 and warm.content == by_url.content == cold.content
    assert not_modified.status_code == 304 and not_modified.content == b""


def test_a_repeat_within_the_local_window_makes_no_round_trip(
    demo: None, fake_redis: None, api: APIClient, round_trips: list[str], django_assert_num_queries: Any, monkeypatch
) -> None:
    now = [1000.0]
    monkeypatch.setattr(caching, "monotonic", lambda: now[0])
    url = api.get(BY_SLUG).json()["page"]["url"]
    api.get(BY_URL, {"url": url})
    now[0] += 1.1
    from_redis = api.get(BY_SLUG)  # the local copy is out of date: one round trip
    round_trips.clear()
    with django_assert_num_queries(0):
        warm = api.get(BY_SLUG)
        by_url = api.get(BY_URL, {"url": url})
        not_modified = api.get(BY_SLUG, HTTP_IF_NONE_MATCH=warm["ETag"])
    assert round_trips == []
    assert warm.status_code == by_url.status_code == 200 and warm.content == by_url.content == from_redis.content
    assert not_modified.status_code == 304 and not_modified.content == b""
    assert warm.headers == from_redis.headers


def test_a_list_refreshed_by_another_process_is_served_within_the_local_window(
    demo: None, fake_redis: None, api: APIClient, monkeypatch, django_capture_on_commit_callbacks: Any
) -> None:
    now = [1000.0]
    monkeypatch.setattr(caching, "monotonic", lambda: now[0])
    before = api.get(BY_SLUG)
    Product.objects.filter(sku=DROPS).update(in_stock=False)
    # A Celery worker refreshes: Redis learns of it, this process's local tier does not.
    monkeypatch.setattr(caching.local_responses, "forget", lambda: None)
    with django_capture_on_commit_callbacks(execute=True):
        call_command("refresh_recommendations", page=RLS, verbosity=0)
    now[0] += 0.5
    assert api.get(BY_SLUG).content == before.content  # at most LOCAL_CACHE_SECONDS (1 s) late
    now[0] += 0.6
    after = api.get(BY_SLUG)
    assert DROPS not in skus(after) and after["ETag"] != before["ETag"]


def test_locally_counted_hits_reach_the_shared_counter(
    demo: None, fake_redis: None, api: APIClient, monkeypatch
) -> None:
    now = [1000.0]
    monkeypatch.setattr(caching, "monotonic", lambda: now[0])
    for _ in range(5):
        assert api.get(BY_SLUG).status_code == 200
    assert caching.local_counts.pending  # four hits counted here, not yet in Redis
    now[0] += 1.1  # the local copy is out of date: the next read asks Redis and hands the count over
    assert api.get(BY_SLUG).status_code == 200
    assert not caching.local_counts.pending
    counters = list(cache.keys("throttle_anon_*"))  # type: ignore[attr-defined]
    assert len(counters) == 1 and cache.get(counters[0]) == 6


def test_local_counts_admit_a_batch_and_never_past_the_limit() -> None:
    counts = LocalCounts()
    client = Counter(key="c", ttl=60, limit=5, batch=2)
    assert [counts.admit(client), counts.admit(client), counts.admit(client)] == [1, 2, None]  # a batch of 2
    assert counts.take(client) == [(client, 3)]  # the two counted here and this request
    counts.learn(client, 4)  # what the shared counter answered (another process counted one)
    assert counts.admit(client) == 5 and counts.admit(client) is None  # the limit is never passed locally
    other = Counter(key="d", ttl=60, limit=5, batch=2)
    assert counts.take(other) == [(other, 1), (client, 1)]


def test_a_refresh_is_served_by_the_next_request_on_redis(
    demo: None, fake_redis: None, api: APIClient, django_capture_on_commit_callbacks: Any
) -> None:
    before = api.get(BY_SLUG)
    assert DROPS in skus(api.get(BY_SLUG))
    Product.objects.filter(sku=DROPS).update(in_stock=False)  # no signal: only the refresh below can tell
    with django_capture_on_commit_callbacks(execute=True):
        call_command("refresh_recommendations", page=RLS, verbosity=0)
    after = api.get(BY_SLUG)
    assert DROPS not in skus(after)
    assert after["ETag"] != before["ETag"]
    assert api.get(BY_SLUG, HTTP_IF_NONE_MATCH=before["ETag"]).status_code == 200


def test_reads_fall_back_to_the_database_when_redis_is_away(demo: None, api: APIClient, settings) -> None:
    expected = api.get(BY_SLUG)
    settings.CACHES = redis_cache("redis://127.0.0.1:1/0")  # nothing listens on port 1
    for _ in range(3):
        response = api.get(BY_SLUG)
        assert response.status_code == 200
        assert response.content == expected.content and response["ETag"] == expected["ETag"]
    by_url = api.get(BY_URL, {"url": expected.json()["page"]["url"]})
    assert by_url.status_code == 200 and by_url.content == expected.content


@pytest.mark.parametrize("warm", [False, True])
def test_reads_never_write(demo: None, api: APIClient, warm: bool) -> None:
    if warm:
        api.get(BY_SLUG)
    with CaptureQueriesContext(connection) as queries:
        assert api.get(BY_SLUG).status_code == 200
        assert api.get(BY_URL, {"url": f"http://testserver/learn/{RLS}/"}).status_code in {200, 404}
    assert not [q["sql"] for q in queries if not q["sql"].lstrip().upper().startswith("SELECT")]


def test_signed_in_readers_get_the_same_bytes_through_drf(demo: None, api: APIClient) -> None:
    anonymous = api.get(BY_SLUG)
    user = get_user_model().objects.create_user("reader", password="x")
    api.force_login(user)
    signed_in = api.get(BY_SLUG)
    assert signed_in.content == anonymous.content
    for header in ("ETag", "Cache-Control", "Content-Type", "Allow"):
        assert signed_in[header] == anonymous[header]
    assert "Accept" in signed_in["Vary"] and "Accept" in anonymous["Vary"]


@pytest.mark.parametrize("backend", ["locmem", "redis"])
def test_anonymous_reads_are_throttled_hit_or_miss(demo: None, api: APIClient, settings, backend: str) -> None:
    if backend == "redis":
        settings.CACHES = redis_cache("redis://fake-redis.invalid:6379/0", connection_class=fakeredis.FakeConnection,
                                      server=fakeredis.FakeServer())  # fmt: skip
    settings.RECOMMENDER = {**settings.RECOMMENDER, "THROTTLE_RATES": {"anon": "3/min", "events": "9/min"}}
    statuses = [api.get(BY_SLUG).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    refused = api.get(BY_SLUG, HTTP_IF_NONE_MATCH='"any"')
    assert refused.status_code == 429 and 0 < int(refused["Retry-After"]) <= 60


def test_x_forwarded_for_does_not_escape_the_throttle_without_proxies(demo: None, api: APIClient, settings) -> None:
    assert settings.REST_FRAMEWORK["NUM_PROXIES"] == 0
    settings.RECOMMENDER = {**settings.RECOMMENDER, "THROTTLE_RATES": {"anon": "3/min", "events": "9/min"}}
    statuses = [api.get(BY_SLUG, HTTP_X_FORWARDED_FOR=f"203.0.113.{n}").status_code for n in range(5)]
    assert statuses == [200, 200, 200, 429, 429]


def test_behind_one_proxy_the_forwarded_client_is_throttled(demo: None, api: APIClient, settings) -> None:
    rates = {"anon": "2/min", "events": "9/min"}
    settings.RECOMMENDER = {**settings.RECOMMENDER, "THROTTLE_RATES": rates}
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    assert [api.get(BY_SLUG, HTTP_X_FORWARDED_FOR="203.0.113.7").status_code for _ in range(3)] == [200, 200, 429]
    assert api.get(BY_SLUG, HTTP_X_FORWARDED_FOR="203.0.113.8").status_code == 200
