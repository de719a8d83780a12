"""All product tags in one list: review suggestions in bulk, and the spreadsheet round trip.

Import and export are the merchandiser's: import needs add and change permission on product tags,
export needs change permission. An import is previewed (dry run) before it is confirmed, and a
file with any bad row is refused whole.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from import_export.admin import ImportExportModelAdmin
from import_export.formats.base_formats import CSV, XLSX

from recommender.admin.pickers import ProductPickerMixin
from recommender.admin.resources import ProductTagResource
from recommender.models import ProductTag
from recommender.services import tagging


@admin.register(ProductTag)
class ProductTagAdmin(ProductPickerMixin, ImportExportModelAdmin):
    list_display = ["product", "tag", "relevance", "source", "status", "created_by", "updated_at"]
    list_filter = ["status", "source", "tag__kind", "tag"]
    list_editable = ["status"]
    list_select_related = ["product", "tag", "created_by"]
    search_fields = ["tag__slug", "tag__name"]
    autocomplete_fields = ["tag"]
    raw_id_fields = ["product"]
    readonly_fields = ["created_by", "created_at", "updated_at"]
    actions = ["approve_selected", "reject_selected"]
    resource_classes = [ProductTagResource]
    import_formats = [CSV, XLSX]
    export_formats = [CSV, XLSX]

    def has_import_permission(self, request: HttpRequest) -> bool:
        return self.has_add_permission(request) and self.has_change_permission(request)

    def has_export_permission(self, request: HttpRequest) -> bool:
        return self.has_change_permission(request)

    def _review(self, request: HttpRequest, queryset: QuerySet[ProductTag], status: str) -> None:
        changed = tagging.product_tags_review(rows=queryset.select_related("tag"), status=status)
        for row in changed:
            self.log_change(request, row, f"Set status to {status}.")
        self.message_user(request, f"{len(changed)} tags {status}.", messages.SUCCESS)

    @admin.action(description="Approve selected tags", permissions=["change"])
    def approve_selected(self, request: HttpRequest, queryset: QuerySet[ProductTag]) -> None:
        self._review(request, queryset, ProductTag.Status.APPROVED)

    @admin.action(description="Reject selected tags", permissions=["change"])
    def reject_selected(self, request: HttpRequest, queryset: QuerySet[ProductTag]) -> None:
        self._review(request, queryset, ProductTag.Status.REJECTED)

    def save_model(self, request: HttpRequest, obj: ProductTag, form: Any, change: bool) -> None:
        tagging.product_tag_rows_save(rows=[obj], user=request.user)
