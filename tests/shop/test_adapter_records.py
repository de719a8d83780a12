"""The demo store's bulk `records()` gives exactly what the per-product adapter methods give."""

from __future__ import annotations

from decimal import Decimal

from recommender.adapters import ProductAdapter
from shop.catalog.adapters import CatalogProductAdapter
from shop.catalog.models import NutrientAmount, Product


def test_bulk_records_match_the_per_product_methods(demo: None) -> None:
    products = list(Product.objects.order_by("pk"))
    odd = products[0]
    odd.brand, odd.in_stock = None, False  # no brand, out of stock
    odd.save()
    Product.objects.filter(pk=products[1].pk).update(active=False)
    NutrientAmount.objects.create(product=products[2], code="zinc", amount=None, unit="mg")  # an "NP" line
    NutrientAmount.objects.create(product=products[2], code="copper", amount=Decimal("0.5"), unit="mg")
    adapter = CatalogProductAdapter()
    ids = [p.pk for p in products] + [10**9]  # a missing id is left out

    bulk = adapter.records(ids)
    one_by_one = ProductAdapter.records(adapter, ids)

    assert bulk == one_by_one
    assert len(bulk) == len(products)
    assert (bulk[odd.pk].brand, bulk[odd.pk].available) == ("", False)
    assert not bulk[products[1].pk].available
    assert [f.code for f in bulk[products[2].pk].nutrients][-1] == "copper"
    assert "zinc" not in {f.code for f in bulk[products[2].pk].nutrients}  # no amount printed: not a fact
