"""Prometheus metrics: refresh durations and lists, outbox size, events recorded, list cache hits and misses.

Counters live in the process that counts them (prometheus_client's default registry): under gunicorn each
worker process answers `/metrics/` with its own counts, and refreshes count in the Celery worker that ran
them. The outbox size is read from the database at scrape time, so any process reports it.
`/metrics/` answers staff users, or a scraper sending `Authorization: Bearer <RECOMMENDER["METRICS_TOKEN"]>`.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from django.http import HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from recommender.conf import recommender_settings

if TYPE_CHECKING:
    from recommender.services.refresh import RefreshSummary

REFRESH_SECONDS = Histogram(
    "recommender_refresh_seconds",
    "Duration of one recommendations_refresh call.",
    ["scope"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120),
)
LISTS_REFRESHED = Counter("recommender_lists_refreshed", "Stored lists recomputed.", ["kind"])
LISTS_WRITTEN = Counter("recommender_lists_written", "Stored lists that changed and were written.", ["kind"])
EVENTS_RECORDED = Counter("recommender_events_recorded", "Impressions and clicks counted.", ["kind"])
LIST_CACHE = Counter("recommender_list_cache_lookups", "List responses served from the cache or built.", ["result"])
# Bound once: `labels()` looks the child up under a lock, too much for every cached read.
LIST_CACHE_HIT, LIST_CACHE_MISS = LIST_CACHE.labels(result="hit"), LIST_CACHE.labels(result="miss")


def refresh_observed(summary: RefreshSummary, *, full: bool) -> None:
    """Record one refresh (called once, at the end of `recommendations_refresh`)."""
    REFRESH_SECONDS.labels(scope="full" if full else "changes").observe(summary.timings["total_s"])
    LISTS_REFRESHED.labels(kind="page").inc(summary.pages)
    LISTS_REFRESHED.labels(kind="product").inc(summary.products)
    LISTS_WRITTEN.labels(kind="page").inc(summary.written)
    LISTS_WRITTEN.labels(kind="product").inc(summary.products_written)


def list_cache(*, hit: bool) -> None:
    (LIST_CACHE_HIT if hit else LIST_CACHE_MISS).inc()


OUTBOX, OUTBOX_HELP = "recommender_outbox_size", "Changes waiting in the outbox."


class OutboxCollector(Collector):
    """The outbox's size, counted when scraped."""

    def describe(self) -> Iterator[GaugeMetricFamily]:
        """Names without a query, so registering at import touches no database."""
        yield GaugeMetricFamily(OUTBOX, OUTBOX_HELP)

    def collect(self) -> Iterator[GaugeMetricFamily]:
        from recommender.models import DirtyMark

        yield GaugeMetricFamily(OUTBOX, OUTBOX_HELP, DirtyMark.objects.count())


REGISTRY.register(OutboxCollector())


def allowed(request: HttpRequest) -> bool:
    token = recommender_settings.METRICS_TOKEN
    given = request.headers.get("Authorization", "").removeprefix("Bearer ")
    if token and hmac.compare_digest(given.encode(), str(token).encode()):
        return True
    user: Any = getattr(request, "user", None)
    return bool(user and user.is_active and user.is_staff)


@never_cache
def metrics_view(request: HttpRequest) -> HttpResponse:
    """The Prometheus text format, for staff or a scraper with the token; 403 for anyone else."""
    if not allowed(request):
        denied = "metrics are for staff or a scraper with the token\n"
        return HttpResponse(denied, status=403, content_type="text/plain")
    return HttpResponse(generate_latest(REGISTRY), content_type=CONTENT_TYPE_LATEST)
