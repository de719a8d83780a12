"""How the recommender reads this store's products."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from django.db import models

from recommender.adapters import NutrientFact, ProductAdapter, ProductRecord, batched_ids, ids_filter
from shop.catalog.models import NutrientAmount, Product
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

    def records(self, ids: Iterable[int]) -> dict[int, ProductRecord]:
        """The same records as the per-product methods give, from two plain queries per batch.

        A full refresh reads every tagged product; model instances and their prefetched facts cost
        about 0.3 ms a product, these rows a tenth of that.
        """
        found: dict[int, ProductRecord] = {}
        for batch in batched_ids(ids):
            facts: dict[int, list[NutrientFact]] = defaultdict(list)
            lines = NutrientAmount.objects.filter(ids_filter("product_id", batch)).order_by("pk")
            for product_id, code, amount, unit, form in lines.values_list(
                "product_id", "code", "amount", "unit", "form"
            ):
                if amount is not None:  # as `nutrients()`: an "NP" line says nothing here
                    facts[product_id].append(NutrientFact(code=code, amount=float(amount), unit=unit, form=form))
            products = Product.objects.filter(ids_filter("pk", batch))
            rows = products.values_list("pk", "sku", "brand__name", "active", "in_stock")
            for pk, sku, brand, active, in_stock in rows:
                found[pk] = ProductRecord(pk, str(sku), brand or "", active and in_stock, tuple(facts[pk]))
        return found
