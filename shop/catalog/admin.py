"""The store's admin: products with their supplement facts inline (amounts and units a merchandiser edits),
the tags derived from them, and the label lines kept without a tag."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import Prefetch, QuerySet
from django.http import HttpRequest
from django.utils.html import format_html, format_html_join

from recommender.admin import ProductTaggingMixin
from recommender.models import ProductTag
from recommender.services.tagging import fact_tags, facts_taxonomy
from recommender.units import UNITS
from shop.catalog.adapters import CatalogProductAdapter
from shop.catalog.models import Brand, NutrientAmount, Product


class NutrientAmountForm(forms.ModelForm):
    unit = forms.ChoiceField(choices=[("", "---------"), *[(u, u) for u in UNITS]], required=False)

    class Meta:
        model = NutrientAmount
        fields = ["code", "amount", "unit", "form", "daily_value", "label"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("amount") is not None and not data.get("unit"):
            self.add_error("unit", "An amount needs a unit.")
        return data


class NutrientAmountInline(admin.TabularInline):
    """Supplement facts per serving: a code that is a taxonomy slug is scored; saving re-derives the tags."""

    model = NutrientAmount
    form = NutrientAmountForm
    extra = 0
    verbose_name = "supplement-facts line"
    verbose_name_plural = "Supplement facts per serving (amounts decide facts tags and dose cautions)"


@admin.register(Product)
class ProductAdmin(ProductTaggingMixin, admin.ModelAdmin):  # type: ignore[misc]  # change_form_template
    """The plugin's mixin adds tag inlines, tag filters and bulk tagging actions."""

    list_display = ["name", "sku", "brand", "price", "in_stock", "active", "tag_list"]
    list_filter = ["in_stock", "active", "brand"]
    list_select_related = ["brand"]
    search_fields = ["sku", "name"]
    prepopulated_fields = {"slug": ["name"]}
    readonly_fields = ["derived_tags", "label_lines_kept"]
    inlines = [NutrientAmountInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Product]:
        approved = ProductTag.objects.filter(status=ProductTag.Status.APPROVED).select_related("tag")
        return (
            super()
            .get_queryset(request)
            .prefetch_related(Prefetch("recommender_tags", queryset=approved, to_attr="approved_tags"))
        )

    @admin.display(description="tags")
    def tag_list(self, product: Product) -> str:
        slugs = sorted({row.tag.slug for row in getattr(product, "approved_tags", [])})
        return ", ".join(slugs) or "-"

    @admin.display(description="tags derived from the facts")
    def derived_tags(self, product: Product) -> str:
        rows = ProductTag.objects.filter(product=product, source=ProductTag.Source.FACTS).select_related("tag")
        if not product.pk or not rows:
            return "-"
        return format_html_join(
            ", ", "{} ({:.2f}, {})", ((r.tag.slug, r.relevance, r.get_status_display()) for r in rows)
        )

    @admin.display(description="label lines kept without a tag")
    def label_lines_kept(self, product: Product) -> str:
        if not product.pk:
            return "-"
        taxonomy = facts_taxonomy()
        scored = {f.tag.slug for f in fact_tags(CatalogProductAdapter().nutrients(product), taxonomy)[0]}
        kept = [
            n
            for n in product.nutrients.all()
            if n.amount is None or (n.code not in scored and not _is_own_limit_line(n.code, taxonomy))
        ]
        if not kept:
            return "-"
        items = format_html_join("", "<li>{}</li>", ((n.label or str(n),) for n in kept))
        return format_html("<ul class='rec-kept-lines'>{}</ul>", items)


def _is_own_limit_line(code: str, taxonomy: Any) -> bool:
    """A form's own line beside its nutrient (folic acid beside folate): tagged through the nutrient line."""
    tag = taxonomy.tags.get(code)
    return tag is not None and tag.parent_id is not None and bool(tag.upper_limit)


@admin.register(Brand)
class BrandAdmin(admin.ModelAdmin):
    search_fields = ["name"]
    prepopulated_fields = {"slug": ["name"]}
