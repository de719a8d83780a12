"""`/health/` (issue 15): 200 naming each check; 503 naming the failing part when Redis or freshness fails.

Redis is "stopped" by pointing the cache and the broker at a closed port on loopback, never the shared one.
"""

from __future__ import annotations

import socket
from datetime import timedelta
from typing import Any

from django.test import Client
from django.utils import timezone

from recommender.models import DirtyMark, PageState

CHECKS = {"database", "cache", "broker", "outbox", "lists"}


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])  # closed again when the block ends


def test_healthy_store_answers_200_naming_each_check(demo: None) -> None:
    response = Client().get("/health/")
    assert response.status_code == 200
    body = response.json()
    assert set(body["checks"]) == CHECKS
    assert set(body["checks"].values()) == {"OK"} and body["failing"] == []
    assert "no-cache" in response["Cache-Control"]


def test_redis_stopped_is_a_503_naming_cache_and_broker(demo: None, settings: Any) -> None:
    url = f"redis://127.0.0.1:{closed_port()}/0"
    settings.CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": url,
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 1, "SOCKET_TIMEOUT": 1},
        }
    }
    settings.CELERY_BROKER_URL = url
    response = Client().get("/health/")
    assert response.status_code == 503
    body = response.json()
    assert body["failing"] == ["broker", "cache"]
    assert "broker does not answer" in body["checks"]["broker"]
    assert body["checks"]["database"] == "OK"


def test_a_stuck_outbox_and_stale_lists_are_named(demo: None) -> None:
    mark = DirtyMark.objects.create(kind="products", object_id=1)
    DirtyMark.objects.filter(pk=mark.pk).update(created_at=timezone.now() - timedelta(hours=1))
    PageState.objects.update(checked_at=timezone.now() - timedelta(days=2))
    response = Client().get("/health/")
    assert response.status_code == 503
    assert response.json()["failing"] == ["lists", "outbox"]
    assert "oldest outbox change" in response.json()["checks"]["outbox"]
