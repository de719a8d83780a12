"""Issue 14, Oscar: products made the Oscar way are recommended with Oscar's prices and availability;
a non-public product disappears; related products show through Oscar's own ProductRecommendation."""

from __future__ import annotations

from typing import Any

from django.core.management import call_command
from django.test import Client

from recommender.adapters import get_adapter
from recommender.contrib.oscar.facts import attribute_facts
from recommender.models import ContentPage, RelatedState
from recommender.selectors import recommendations_for_page
from tests.oscarhost.conftest import RLS_URL


def items(limit: int = 10) -> list[dict[str, Any]]:
    return recommendations_for_page(page=ContentPage.objects.get(url=RLS_URL), limit=limit)["items"]


def by_sku() -> dict[str, dict[str, Any]]:
    return {item["product"]["sku"]: item["product"] for item in items()}


def test_oscar_products_are_recommended_with_strategy_prices_and_availability(shop):
    listed = items()
    skus = [item["product"]["sku"] for item in listed]
    assert set(skus[:2]) == {"CT-8OZ", "NP-MG-200"}, skus  # the UPC, else the first stock record's partner SKU
    assert "NP-MC-200" not in skus  # out of stock for Oscar's default strategy
    assert "WP-1" not in skus  # nothing to do with the article
    first = by_sku()["CT-8OZ"]
    assert first["name"] == "ConcenTrace Trace Mineral Drops"
    assert (first["price"], first["currency"], first["in_stock"]) == ("24.95", "USD", True)
    assert first["brand"] == "Trace Minerals"
    assert first["url"].startswith("/catalogue/")
    assert "magnesium" in first["tags"] and "concentrace" in first["tags"]
    assert by_sku()["NP-MG-200"]["price"] == "19.99"


def test_api_finds_oscar_products_by_sku(shop):
    response = Client().get("/api/v1/products/NP-MG-200/")
    assert response.status_code == 200, response.content
    assert response.json()["name"] == "Magnesium Glycinate 200 mg"
    listed = Client().get("/api/v1/recommendations/", {"url": RLS_URL}).json()["items"]
    drops = next(item["product"] for item in listed if item["product"]["sku"] == "CT-8OZ")
    assert drops["url"] == "http://testserver" + shop["products"]["TM-CTD-8OZ"].get_absolute_url()


def test_a_product_made_non_public_disappears(shop, django_capture_on_commit_callbacks):
    product = shop["products"]["TM-CTD-8OZ"]
    product.is_public = False
    with django_capture_on_commit_callbacks(execute=True):
        product.save()
    assert "CT-8OZ" not in by_sku()
    assert all(product.pk not in held for held in RelatedState.objects.values_list("related_ids", flat=True))


def test_stock_running_out_takes_a_product_off_the_list(shop, django_capture_on_commit_callbacks):
    record = shop["products"]["NP-MG-200"].stockrecords.get()
    record.num_in_stock = 0
    with django_capture_on_commit_callbacks(execute=True):
        record.save()
    assert "NP-MG-200" not in by_sku()
    record.num_in_stock, record.price = 3, 17.5
    with django_capture_on_commit_callbacks(execute=True):
        record.save()
    assert by_sku()["NP-MG-200"]["price"] == "17.50"


def test_related_products_show_through_oscar_product_recommendation(shop):
    drops = shop["products"]["TM-CTD-8OZ"]
    stored = RelatedState.objects.get(product=drops).related_ids
    assert stored, "the drops have related products"
    assert [p.pk for p in drops.sorted_recommended_products] == stored
    glycinate = shop["products"]["NP-MG-200"]
    assert glycinate.pk in stored

    page = Client().get(drops.get_absolute_url())
    assert page.status_code == 200
    html = page.content.decode()
    recommended = html.split("Recommended items", 1)[1]  # Oscar's own detail template
    assert glycinate.get_title() in recommended


def test_nutrients_from_attributes(shop):
    adapter = get_adapter()
    drops = adapter.for_ids([shop["products"]["TM-CTD-8OZ"].pk])
    facts = {f.code: (f.amount, f.unit, f.form) for f in adapter.nutrients(next(iter(drops.values())))}
    assert facts["magnesium"] == (250.0, "mg", "chloride")
    assert "brand" not in facts


def test_attribute_facts_shapes():
    facts = attribute_facts(
        [("vitamin_d_mcg", 25.0), ("folate_mcg_dfe", 400), ("iron", "18 mg bisglycinate"), ("colour", "red"),
         ("servings", 30), ("vegan", True), ("zinc", "15mg")]
    )  # fmt: skip
    assert [(f.code, f.amount, f.unit, f.form) for f in facts] == [
        ("vitamin-d", 25.0, "mcg", ""),
        ("folate", 400.0, "mcg DFE", ""),
        ("iron", 18.0, "mg", "bisglycinate"),
        ("zinc", 15.0, "mg", ""),
    ]


def test_sync_command_writes_every_stored_list(shop):
    drops = shop["products"]["TM-CTD-8OZ"]
    drops.primary_recommendations.all().delete()
    call_command("sync_oscar_recommendations", verbosity=0)
    stored = RelatedState.objects.get(product=drops).related_ids
    assert [p.pk for p in drops.sorted_recommended_products] == stored


def test_settings_check_accepts_the_annotated_sku():
    from recommender.checks import check_settings

    assert check_settings() == []
