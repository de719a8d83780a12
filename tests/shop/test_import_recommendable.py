"""A CSV row with supplement facts and no tags is recommendable on matching pages with no other step."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management import call_command

from recommender.models import ContentPage, ProductTag
from recommender.selectors import recommendations_for_page
from shop.catalog.models import Product


def test_facts_only_row_reaches_the_magnesium_page(
    demo: None, tmp_path: Path, django_capture_on_commit_callbacks: Any
) -> None:
    csv_file = tmp_path / "one.csv"
    csv_file.write_text(
        "sku,name,nutrients\nNEW-MG-1,Plain Magnesium Bisglycinate 180 mg,magnesium=180 mg glycinate\n",
        encoding="utf-8",
    )
    with django_capture_on_commit_callbacks(execute=True):
        call_command("import_products", str(csv_file), verbosity=0)
    product = Product.objects.get(sku="NEW-MG-1")
    approved = set(ProductTag.objects.filter(product=product, status="approved").values_list("tag__slug", flat=True))
    assert approved == {"magnesium", "magnesium-glycinate"}
    page = ContentPage.objects.get(slug="magnesium-and-sleep")
    items = recommendations_for_page(page=page, limit=20)["items"]
    assert "NEW-MG-1" in [item["product"]["sku"] for item in items]
    houseplants = ContentPage.objects.get(slug="choosing-houseplants-for-low-light")
    assert recommendations_for_page(page=houseplants)["items"] == []
