"""The adapter of a host whose products identify by `code`: `sku_field` is all it changes about lookups."""

from decimal import Decimal
from typing import Any

from recommender.adapters import NutrientFact, ProductAdapter


class WidgetAdapter(ProductAdapter):
    sku_field = "code"

    def url(self, product: Any) -> str:
        return f"/widgets/{product.code}/"

    def price(self, product: Any) -> Decimal:
        return Decimal(product.price)

    def in_stock(self, product: Any) -> bool:
        return bool(product.in_stock)

    def nutrients(self, product: Any) -> list[NutrientFact]:
        return [NutrientFact("magnesium", float(product.magnesium_mg), "mg")] if product.magnesium_mg else []
