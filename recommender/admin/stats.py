"""Marketing's stats: impressions, clicks and CTR per page and per product over a date range, with a chart.

The DailyStat changelist is replaced by the report; it needs the view permission on DailyStat
and is read-only (counters are written by the events endpoint only).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone

from recommender.models import DailyStat
from recommender.reports import StatRow, stats_per_day, stats_per_page, stats_per_product

DEFAULT_DAYS = 30
MAX_DAYS = 366


class DateRangeForm(forms.Form):
    start = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("start"), data.get("end")
        if start and end and not (0 <= (end - start).days < MAX_DAYS):
            raise forms.ValidationError(f"The end must follow the start, at most {MAX_DAYS} days later.")
        return data


def date_range(request: HttpRequest) -> tuple[DateRangeForm, dt.date, dt.date]:
    """The range asked for, or the last DEFAULT_DAYS days."""
    end = timezone.localdate()
    start = end - dt.timedelta(days=DEFAULT_DAYS - 1)
    form = DateRangeForm(request.GET or None, initial={"start": start, "end": end})
    if form.is_bound and form.is_valid():
        start, end = form.cleaned_data["start"], form.cleaned_data["end"]
    return form, start, end


def chart_bars(days: list[StatRow], height: int = 160, baseline: int = 170) -> list[dict[str, Any]]:
    """Bar geometry for the inline SVG chart: impressions and clicks per day, scaled to the busiest day."""
    top = max((d.impressions for d in days), default=0) or 1
    width = max(4, min(24, 720 // max(len(days), 1)))
    bars = []
    for n, d in enumerate(days):
        ih, ch = round(d.impressions / top * height), round(d.clicks / top * height)
        bars.append(
            {"x": n * width, "w": width - 1, "ih": ih, "iy": baseline - ih, "ch": ch, "cy": baseline - ch, "row": d}
        )
    return bars


@admin.register(DailyStat)
class DailyStatAdmin(admin.ModelAdmin):
    """Read-only; the changelist is the report."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        form, start, end = date_range(request)
        days = stats_per_day(start=start, end=end)
        bars = chart_bars(days)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "Recommendation stats",
            "form": form,
            "start": start,
            "end": end,
            "pages": stats_per_page(start=start, end=end),
            "products": stats_per_product(start=start, end=end),
            "days": days,
            "bars": bars,
            "chart_width": (bars[-1]["x"] + bars[-1]["w"] + 1) if bars else 0,
            "total_impressions": sum(d.impressions for d in days),
            "total_clicks": sum(d.clicks for d in days),
            "total_ctr": StatRow("", sum(d.impressions for d in days), sum(d.clicks for d in days)).ctr_percent,
        }
        return TemplateResponse(request, "admin/recommender/stats.html", context)
