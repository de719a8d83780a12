"""The adapter that teaches the recommender this host's product model."""

from decimal import Decimal
from typing import Any

from recommender.adapters import NutrientFact, ProductAdapter


class GadgetAdapter(ProductAdapter):
    def name(self, product: Any) -> str:
        return str(product.title)

    def url(self, product: Any) -> str:
        return f"/gadgets/{product.sku}/"

    def price(self, product: Any) -> Decimal:
        return Decimal(product.cost_cents) / 100

    def in_stock(self, product: Any) -> bool:
        return bool(product.stock > 0)

    def nutrients(self, product: Any) -> list[NutrientFact]:
        return [NutrientFact("magnesium", float(product.magnesium_mg), "mg")] if product.magnesium_mg else []
