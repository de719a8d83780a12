"""Marketing's stats: impressions, clicks and CTR per page and per product over a date range, with dated
charts, sortable tables, a per-page drill-down (`?page=<id>`) and CSV export (`?export=csv`).

The DailyStat changelist is replaced by the report; it needs the view permission on DailyStat
and is read-only (counters are written by the events endpoint only).
"""

from __future__ import annotations

import csv
import datetime as dt
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone

from recommender.admin.charts import panel
from recommender.models import ContentPage, DailyStat
from recommender.reports import StatRow, stats_per_day, stats_per_page, stats_per_product, stats_rows

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
        page = drilled_page(request)
        page_id = page.pk if page else None
        if request.GET.get("export") == "csv":
            return csv_export(start=start, end=end, page=page)
        days = stats_per_day(start=start, end=end, page_id=page_id)
        impressions, clicks = sum(d.impressions for d in days), sum(d.clicks for d in days)
        query = request.GET.copy()
        query["export"] = "csv"
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": f"Recommendation stats: {page.title}" if page else "Recommendation stats",
            "form": form,
            "start": start,
            "end": end,
            "page": page,
            "range_query": urlencode({"start": start.isoformat(), "end": end.isoformat()}),
            "csv_query": query.urlencode(),
            "pages": [] if page else stats_per_page(start=start, end=end),
            "products": stats_per_product(start=start, end=end, page_id=page_id),
            "days": days,
            "impressions_chart": panel(days, height=200, measure="impressions"),
            "clicks_chart": panel(days, height=160, measure="clicks", ctr=True),
            "total_impressions": impressions,
            "total_clicks": clicks,
            "total_ctr": StatRow("", impressions, clicks).ctr_percent,
        }
        return TemplateResponse(request, "admin/recommender/stats.html", context)


def drilled_page(request: HttpRequest) -> ContentPage | None:
    """The page a marketer drilled down to (`?page=<id>`), if any."""
    value = request.GET.get("page", "")
    return ContentPage.objects.filter(pk=int(value)).first() if value.isdigit() else None


def csv_export(*, start: dt.date, end: dt.date, page: ContentPage | None) -> HttpResponse:
    """Every counter row of the range (one page's when drilled down) as CSV, for a spreadsheet."""
    name = f"recommendation-stats-{page.slug + '-' if page else ''}{start}-{end}.csv"
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    writer = csv.writer(response)
    writer.writerow(["day", "page", "page_title", "sku", "product", "impressions", "clicks", "ctr"])
    for row in stats_rows(start=start, end=end, page_id=page.pk if page else None):
        impressions, clicks = row[5], row[6]
        writer.writerow([*row, f"{clicks / impressions:.4f}" if impressions else ""])
    return response
