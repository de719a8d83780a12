from django.contrib import admin

from recommender.admin import ProductTaggingMixin
from shop.catalog.models import Brand, NutrientAmount, Product


class NutrientAmountInline(admin.TabularInline):
    model = NutrientAmount
    extra = 0


@admin.register(Product)
class ProductAdmin(ProductTaggingMixin, admin.ModelAdmin):  # type: ignore[misc]  # change_form_template
    """The plugin's mixin adds tag inlines, tag filters and bulk tagging actions."""

    list_display = ["name", "sku", "brand", "price", "in_stock", "active"]
    list_filter = ["in_stock", "active", "brand"]
    search_fields = ["name", "sku", "description"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [NutrientAmountInline]


@admin.register(Brand)
class BrandAdmin(admin.ModelAdmin):
    search_fields = ["name"]
    prepopulated_fields = {"slug": ["name"]}
