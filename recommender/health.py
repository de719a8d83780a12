"""`/health/`: is the store able to serve fresh lists? Database, cache, broker, outbox and list age.

Each check is named in the answer; any failing check makes it a 503 that names the failing part, so a
load balancer or an operator sees at once what is wrong. The database and cache probes are
django-health-check's; the broker ping and the two freshness checks are the recommender's own.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from asgiref.sync import async_to_sync
from django.conf import settings
from django.db.models import Min
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from health_check.checks import Cache, Database
from health_check.exceptions import HealthCheckException, ServiceUnavailable

from recommender.models import DirtyMark, PageState

# The outbox is drained every 30 s by beat; a mark older than this means the drain is not running.
OUTBOX_MAX_AGE = timedelta(minutes=10)
OUTBOX_MAX_SIZE = 10_000
# Every list is rechecked by the hourly full refresh; one unchecked for this long is stale.
LIST_MAX_AGE = timedelta(hours=3)
BROKER_TIMEOUT = 2.0


def broker_ping() -> None:
    """Ping the Celery broker when it is Redis (the in-memory broker of local runs needs none)."""
    url = str(getattr(settings, "CELERY_BROKER_URL", "") or "")
    if not url.startswith(("redis://", "rediss://")):
        return
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=BROKER_TIMEOUT, socket_timeout=BROKER_TIMEOUT)
    try:
        client.ping()
    except redis.RedisError as exc:
        raise ServiceUnavailable(f"the broker does not answer ({exc.__class__.__name__})") from exc
    finally:
        client.close()


def outbox_backlog() -> None:
    """Changes waiting in the outbox: a few are normal, an old or huge backlog means no drain."""
    backlog = DirtyMark.objects.aggregate(oldest=Min("created_at"))["oldest"]
    size = DirtyMark.objects.count()
    if size > OUTBOX_MAX_SIZE:
        raise ServiceUnavailable(f"{size} changes wait in the outbox")
    if backlog is not None and timezone.now() - backlog > OUTBOX_MAX_AGE:
        raise ServiceUnavailable(f"the oldest outbox change waits since {backlog:%Y-%m-%d %H:%M:%S} UTC")


def lists_age() -> None:
    """The oldest stored list of a published page must have been checked recently."""
    states = PageState.objects.filter(page__published=True)
    oldest = (
        states.aggregate(oldest=Min("checked_at"))["oldest"] or states.aggregate(oldest=Min("computed_at"))["oldest"]
    )
    if oldest is not None and timezone.now() - oldest > LIST_MAX_AGE:
        raise ServiceUnavailable(f"the oldest list was last checked at {oldest:%Y-%m-%d %H:%M:%S} UTC")


def checks() -> dict[str, Callable[[], None]]:
    """The checks by the name the answer gives them."""
    return {
        "database": Database().run,
        "cache": lambda: async_to_sync(Cache().run)(),
        "broker": broker_ping,
        "outbox": outbox_backlog,
        "lists": lists_age,
    }


def run_check(check: Callable[[], None]) -> str:
    try:
        check()
    except HealthCheckException as exc:
        return str(exc)
    except Exception as exc:
        return f"failed ({exc.__class__.__name__})"
    return "OK"


@never_cache
def health_view(request: HttpRequest) -> JsonResponse:
    """200 with every check named and "OK", or 503 with the failing ones' reasons."""
    results = {name: run_check(check) for name, check in checks().items()}
    failing = sorted(name for name, outcome in results.items() if outcome != "OK")
    body: dict[str, Any] = {"status": "ok" if not failing else "failing", "failing": failing, "checks": results}
    return JsonResponse(body, status=503 if failing else 200)
