"""Marketing's placements (pin, boost, bury, exclude) and the recorded lists they shape.

Validation lives on the model (`Placement.clean`), so the admin form and any other caller agree:
exactly one of page or tag, a position for a pin, a factor above 0 for a boost.
"""

from __future__ import annotations

from typing import Any

import orjson
from django.contrib import admin
from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.safestring import SafeString

from recommender.admin.pickers import ProductPickerMixin
from recommender.models import ArticleLink, Placement, Recommendation


@admin.register(Placement)
class PlacementAdmin(ProductPickerMixin, admin.ModelAdmin):
    list_display = ["action", "product", "page", "tag", "position", "factor", "campaign", "starts_at", "ends_at"]
    list_filter = ["action", "campaign"]
    list_select_related = ["product", "page", "tag"]
    search_fields = ["campaign", "utm_campaign", "page__title", "tag__name"]
    autocomplete_fields = ["page", "tag"]
    raw_id_fields = ["product"]
    fieldsets = [
        ("Where", {"fields": ["page", "tag"], "description": "One page, or every page that carries a tag."}),
        ("What", {"fields": ["product", "action", "position", "factor"]}),
        ("Campaign", {"fields": ["campaign", "utm_source", "utm_medium", "utm_campaign", "starts_at", "ends_at"]}),
    ]


def json_shown(value: Any) -> SafeString:
    """A stored JSON value as indented JSON, escaped."""
    return format_html("<pre>{}</pre>", orjson.dumps(value, option=orjson.OPT_INDENT_2).decode())


@admin.register(Recommendation)
class RecommendationAdmin(admin.ModelAdmin):
    list_display = ["page", "rank", "product", "score", "generation", "computed_at"]
    list_filter = ["page"]
    raw_id_fields = ["product"]
    # JSON kept as text (`JSONTextField`): shown as the JSON it is, not as Python's text of a list.
    exclude = ["reasons", "cautions", "link_params"]
    readonly_fields = ["reasons_shown", "cautions_shown", "link_params_shown"]

    @admin.display(description="reasons")
    def reasons_shown(self, obj: Recommendation) -> SafeString:
        return json_shown(obj.reasons)

    @admin.display(description="cautions")
    def cautions_shown(self, obj: Recommendation) -> SafeString:
        return json_shown(obj.cautions)

    @admin.display(description="link parameters")
    def link_params_shown(self, obj: Recommendation) -> SafeString:
        return json_shown(obj.link_params)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ArticleLink)
class ArticleLinkAdmin(ProductPickerMixin, admin.ModelAdmin):
    list_display = ["page", "product", "position", "campaign", "starts_at", "ends_at"]
    list_select_related = ["page", "product"]
    search_fields = ["campaign", "page__title"]
    autocomplete_fields = ["page"]
    raw_id_fields = ["product"]
