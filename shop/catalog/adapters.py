"""How the recommender reads this store's products."""

from __future__ import annotations

from typing import Any

from django.db import models

from recommender.adapters import NutrientFact, ProductAdapter
from shop.catalog.presentation import product_image


class CatalogProductAdapter(ProductAdapter):
    """Adds brand names and supplement facts from `shop.catalog`."""

    def queryset(self) -> models.QuerySet[Any]:
        return super().queryset().select_related("brand").prefetch_related("nutrients")

    def brand(self, product: Any) -> str:
        return product.brand.name if product.brand_id else ""

    def url(self, product: Any) -> str:
        return str(product.url or product.get_absolute_url())

    def image_url(self, product: Any) -> str:
        return product_image(product.image_url, product.slug)

    def nutrients(self, product: Any) -> list[NutrientFact]:
        """Lines with an amount; "NP" lines (no amount printed) are kept in the catalog but say nothing here."""
        return [
            NutrientFact(code=n.code, amount=float(n.amount), unit=n.unit, form=n.form)
            for n in product.nutrients.all()
            if n.amount is not None
        ]
