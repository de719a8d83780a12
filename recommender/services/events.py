"""Record widget events as per-day counters: impressions and clicks per page and product.

Nothing about the shopper is kept (no cookie, IP or user id): health browsing is sensitive, and the
counters are all marketing's reports need. Counters move with F() so concurrent beacons never lose
an update.
"""

from __future__ import annotations

import re
from typing import Any

from django.db.models import F
from django.utils import timezone

from recommender.metrics import EVENTS_RECORDED
from recommender.models import ContentPage, DailyStat

COUNTERS = {"impression": "impressions", "click": "clicks"}

# Crawlers that run scripts would inflate the counters. Headless browsers are not listed: tests and
# some real assistive setups run as HeadlessChrome.
BOT_PATTERN = re.compile(r"bot|crawler|spider|slurp|facebookexternalhit", re.IGNORECASE)


def is_bot(user_agent: str) -> bool:
    """Whether a User-Agent names itself as an obvious robot."""
    return bool(BOT_PATTERN.search(user_agent or ""))


def event_record(*, kind: str, page: ContentPage, product: Any, rank: int | None = None) -> None:
    """Count one impression or click of `product` on `page` today.

    The row is created when missing (the unique constraint settles a race between two creators), then
    incremented in SQL. `rank` is validated by the API but not stored: the day's counters are the record.
    """
    field = COUNTERS[kind]
    today = timezone.localdate()
    rows = DailyStat.objects.filter(page=page, product=product, day=today)
    if not rows.update(**{field: F(field) + 1}):
        DailyStat.objects.get_or_create(page=page, product=product, day=today)
        rows.update(**{field: F(field) + 1})
    EVENTS_RECORDED.labels(kind=kind).inc()
