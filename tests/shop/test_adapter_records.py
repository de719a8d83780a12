"""The demo store's bulk `records()` gives exactly what the per-product adapter methods give."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from recommender.adapters import ProductAdapter, ids_filter, rows_of_ids
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


@settings(max_examples=60, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.data())
def test_ids_filter_selects_exactly_the_ids_asked_for(demo: None, data: st.DataObject) -> None:
    """A range less what is missing from it, or the ids themselves: either way exactly these rows, whether the
    ids follow one another, have gaps, or name rows that do not exist."""
    stored = list(Product.objects.order_by("pk").values_list("pk", flat=True))
    ids = data.draw(st.lists(st.sampled_from([*stored, stored[-1] + 1, stored[-1] + 50])))
    if data.draw(st.booleans()):  # a run of neighbours, with a few taken out
        start = data.draw(st.integers(0, len(stored) - 1))
        ids = [pk for pk in stored[start:] if data.draw(st.integers(0, 20)) > 0]
    found = set(Product.objects.filter(ids_filter("pk", ids)).values_list("pk", flat=True))
    assert found == set(ids) & set(stored)
    assert set(NutrientAmount.objects.filter(ids_filter("product_id", ids)).values_list("product_id", flat=True)) == {
        n.product_id for n in NutrientAmount.objects.filter(product_id__in=ids)
    }


@settings(max_examples=40, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.data())
def test_rows_of_ids_reads_exactly_the_rows_asked_for(demo: None, data: st.DataObject) -> None:
    """Many scattered ids (the rows of their span read and picked here) or few (filtered in the query): the same
    rows as an `IN` list gives, with the values asked for."""
    if not Product.objects.filter(sku="ROW-0").exists():  # the database outlives each example
        Product.objects.bulk_create(
            Product(sku=f"ROW-{i}", slug=f"row-{i}", name=f"Row {i}", price=1, in_stock=i % 7 > 0) for i in range(400)
        )
    stored = list(Product.objects.order_by("pk").values_list("pk", flat=True))
    every = data.draw(st.integers(1, 6))  # one in `every` of a run: within or past SPAN_PER_ID
    start = data.draw(st.integers(0, len(stored) - 1))
    ids = [*stored[start::every], stored[-1] + 7]  # and one that names no row
    assert len(ids) >= 2

    found = rows_of_ids(Product.objects.filter(in_stock=True), "pk", ids, "sku")

    assert sorted(found) == sorted(Product.objects.filter(in_stock=True, pk__in=ids).values_list("pk", "sku"))
