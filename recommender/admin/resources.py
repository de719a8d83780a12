"""The spreadsheet shape of product tags for django-import-export: sku, tag, source, relevance, status.

A row is keyed by (sku, tag slug, source), the model's unique key, so re-importing a file updates
rows instead of duplicating them. Every value is checked before anything is written, and a bad row
is reported by its line; with `use_transactions` one bad row rolls the whole file back.
"""

from __future__ import annotations

from typing import Any

from import_export import fields, resources, widgets

from recommender.adapters import get_adapter
from recommender.dirty import refresh_batch
from recommender.models import ProductTag, Tag

# A cell starting with one of these is a formula to a spreadsheet (OWASP "CSV injection"); exported text
# that starts with one gets a leading apostrophe, which the widgets strip again on import.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: Any) -> Any:
    """Text that a spreadsheet would run as a formula, made inert with a leading apostrophe."""
    return f"'{value}" if isinstance(value, str) and value.startswith(FORMULA_STARTS) else value


def spreadsheet_unescape(value: str) -> str:
    """Undo `spreadsheet_safe`, so an exported file imports back unchanged."""
    return value[1:] if value.startswith("'") and value[1:].startswith(FORMULA_STARTS) else value


class KeyWidget(widgets.ForeignKeyWidget):
    """A foreign key by a natural key, with an error that names the missing value."""

    def __init__(self, model: Any, field: str, noun: str) -> None:
        super().__init__(model, field=field)
        self.noun = noun

    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> Any:
        value = spreadsheet_unescape(str(value or "").strip())
        if not value:
            raise ValueError(f"{self.noun} is required")
        try:
            return self.get_queryset(value, row, **kwargs).get(**{self.field: value})
        except self.model.DoesNotExist as exc:
            raise ValueError(f"unknown {self.noun} {value!r}") from exc


class ChoiceWidget(widgets.CharWidget):
    """One of the model field's choices; blank means `default`."""

    def __init__(self, choices: list[str], default: str) -> None:
        super().__init__()
        self.choices, self.default = choices, default

    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> str:
        value = str(value or "").strip().lower() or self.default
        if value not in self.choices:
            raise ValueError(f"{value!r} is not one of {', '.join(self.choices)}")
        return value


class RelevanceWidget(widgets.FloatWidget):
    """A number from 0 to 1; blank means 1."""

    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> float:
        if value is None or str(value).strip() == "":
            return 1.0
        try:
            number = float(str(value).strip())
        except ValueError as exc:
            raise ValueError(f"relevance {value!r} is not a number") from exc
        if not 0.0 <= number <= 1.0:
            raise ValueError(f"relevance {number:g} is outside 0..1")
        return number


def product_widget() -> KeyWidget:
    adapter = get_adapter()
    return KeyWidget(adapter.model(), adapter.sku_field, "sku")


class ProductTagResource(resources.ModelResource):
    """Product tags as rows: sku, tag, source, relevance, status."""

    sku = fields.Field(attribute="product", column_name="sku", widget=product_widget())
    tag = fields.Field(attribute="tag", column_name="tag", widget=KeyWidget(Tag, "slug", "tag"))
    source = fields.Field(
        attribute="source",
        column_name="source",
        widget=ChoiceWidget(ProductTag.Source.values, ProductTag.Source.IMPORT),
    )
    relevance = fields.Field(attribute="relevance", column_name="relevance", widget=RelevanceWidget())
    status = fields.Field(
        attribute="status",
        column_name="status",
        widget=ChoiceWidget(ProductTag.Status.values, ProductTag.Status.APPROVED),
    )

    class Meta:
        model = ProductTag
        fields = ("sku", "tag", "source", "relevance", "status")
        export_order = ("sku", "tag", "source", "relevance", "status")
        import_id_fields = ("sku", "tag", "source")
        use_transactions = True
        skip_unchanged = True
        report_skipped = True
        clean_model_instances = True

    def get_export_queryset(self, request: Any = None, **kwargs: Any) -> Any:
        order = f"product__{get_adapter().sku_field}"
        return ProductTag.objects.select_related("product", "tag").order_by(order, "tag__slug", "source")

    def export_field(self, field: Any, instance: Any, **kwargs: Any) -> Any:
        """Every exported value is spreadsheet-safe, in CSV and XLSX alike."""
        return spreadsheet_safe(super().export_field(field, instance, **kwargs))

    def dehydrate_sku(self, row: ProductTag) -> str:
        return get_adapter().sku(row.product)

    def dehydrate_tag(self, row: ProductTag) -> str:
        return row.tag.slug

    def import_data(self, dataset: Any, dry_run: bool = False, **kwargs: Any) -> Any:
        """A real import announces its changes once, after commit; a dry run announces nothing."""
        if dry_run:
            return super().import_data(dataset, dry_run=dry_run, **kwargs)
        with refresh_batch():
            return super().import_data(dataset, dry_run=dry_run, **kwargs)
