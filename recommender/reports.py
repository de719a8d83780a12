"""Reads for marketing's stats: impressions, clicks and CTR per page, per product and per day.

Only the DailyStat counters are read; there is nothing about shoppers to report.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet, Sum

from recommender.adapters import get_adapter
from recommender.models import ContentPage, DailyStat


@dataclass(frozen=True)
class StatRow:
    """One line of a report: a label and its totals."""

    label: str
    impressions: int
    clicks: int
    key: Any = None

    @property
    def ctr(self) -> float:
        """Clicks per impression, 0 when nothing was shown."""
        return self.clicks / self.impressions if self.impressions else 0.0

    @property
    def ctr_percent(self) -> str:
        """CTR for people: "2.5%", or a dash when nothing was shown."""
        return f"{self.ctr:.1%}" if self.impressions else "–"


def _stats(start: dt.date, end: dt.date, page_id: int | None = None) -> QuerySet[DailyStat]:
    rows = DailyStat.objects.filter(day__gte=start, day__lte=end)
    return rows if page_id is None else rows.filter(page_id=page_id)


def _totals(rows: QuerySet[Any], key: str) -> list[tuple[Any, int, int]]:
    grouped = rows.values(key).annotate(i=Sum("impressions"), c=Sum("clicks")).order_by("-i", key)
    return [(g[key], g["i"] or 0, g["c"] or 0) for g in grouped]


def stats_per_page(*, start: dt.date, end: dt.date) -> list[StatRow]:
    """Totals per page over the days, most shown first."""
    totals = _totals(_stats(start, end), "page_id")
    titles = dict(ContentPage.objects.filter(pk__in=[t[0] for t in totals]).values_list("pk", "title"))
    return [StatRow(titles.get(pk, f"page {pk}"), i, c, pk) for pk, i, c in totals]


def stats_per_product(*, start: dt.date, end: dt.date, page_id: int | None = None) -> list[StatRow]:
    """Totals per product over the days (on one page when `page_id` is given), most shown first."""
    totals = _totals(_stats(start, end, page_id), "product_id")
    adapter = get_adapter()
    products = adapter.for_ids(t[0] for t in totals)
    return [StatRow(adapter.name(products[pk]) if pk in products else f"product {pk}", i, c, pk) for pk, i, c in totals]


def stats_per_day(*, start: dt.date, end: dt.date, page_id: int | None = None) -> list[StatRow]:
    """Totals per day, every day of the range present (zeros included), oldest first: the chart's bars."""
    found = {day: (i, c) for day, i, c in _totals(_stats(start, end, page_id), "day")}
    days = [start + dt.timedelta(days=n) for n in range((end - start).days + 1)]
    return [StatRow(day.isoformat(), *found.get(day, (0, 0)), day) for day in days]


def stats_rows(*, start: dt.date, end: dt.date, page_id: int | None = None) -> list[tuple[Any, ...]]:
    """Every counter row of the range for export: day, page slug, page title, sku, product, impressions, clicks."""
    rows = list(
        _stats(start, end, page_id)
        .select_related("page")
        .order_by("day", "page__slug", "product_id")
        .values_list("day", "page__slug", "page__title", "product_id", "impressions", "clicks")
    )
    adapter = get_adapter()
    products = adapter.for_ids({r[3] for r in rows})
    out = []
    for day, slug, title, pk, impressions, clicks in rows:
        product = products.get(pk)
        sku, name = (adapter.sku(product), adapter.name(product)) if product is not None else ("", f"product {pk}")
        out.append((day.isoformat(), slug, title, sku, name, impressions, clicks))
    return out
