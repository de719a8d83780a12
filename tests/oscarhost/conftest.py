"""The Oscar host's catalogue, made the Oscar way: a product class with attributes, a partner, stock records."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.conf import settings

from recommender.dirty import refresh_batch
from recommender.services.pages import page_upsert
from recommender.services.refresh import recommendations_refresh
from recommender.services.taxonomy import taxonomy_load
from recommender.taxonomy import shipped

RLS_URL = "https://blog.example/restless-legs/"

# title, upc, partner_sku, price, in stock, attribute values
PRODUCTS: list[tuple[str, str | None, str, str, int, dict[str, Any]]] = [
    ("ConcenTrace Trace Mineral Drops", "CT-8OZ", "TM-CTD-8OZ", "24.95", 12,
     {"magnesium": "250 mg chloride", "chloride": "650 mg", "sodium": "5 mg", "potassium": "5 mg",
      "sulfate": "20 mg", "boron": "0.5 mg", "brand": "Trace Minerals"}),
    ("Magnesium Glycinate 200 mg", None, "NP-MG-200", "19.99", 5, {"magnesium_mg": 200.0, "brand": "Valley"}),
    ("Magnesium Citrate 200 mg", None, "NP-MC-200", "13.49", 0, {"magnesium": "200 mg citrate"}),
    ("Zinc Picolinate 30 mg", "ZN-30", "ZN-30", "9.99", 8, {"zinc_mg": 30.0}),
    ("Whey Protein Vanilla", "WP-1", "WP-1", "39.00", 20, {"brand": "Gym"}),
]  # fmt: skip


def make_catalogue() -> dict[str, Any]:
    from oscar.core.loading import get_model

    product_class_model = get_model("catalogue", "ProductClass")
    attribute_model = get_model("catalogue", "ProductAttribute")
    product_model = get_model("catalogue", "Product")
    partner_model = get_model("partner", "Partner")
    stock_record_model = get_model("partner", "StockRecord")

    supplements = product_class_model.objects.create(name="Supplement", requires_shipping=True, track_stock=True)
    for code in ("magnesium", "chloride", "sodium", "potassium", "sulfate", "boron", "brand"):
        attribute_model.objects.create(product_class=supplements, name=code.title(), code=code, type="text")
    for code in ("magnesium_mg", "zinc_mg"):
        attribute_model.objects.create(product_class=supplements, name=code, code=code, type="float")
    partner = partner_model.objects.create(name="Warehouse")
    made = {}
    for title, upc, partner_sku, price, stock, attributes in PRODUCTS:
        product = product_model(product_class=supplements, title=title, upc=upc, is_public=True)
        for code, value in attributes.items():
            setattr(product.attr, code, value)
        product.save()
        stock_record_model.objects.create(
            product=product, partner=partner, partner_sku=partner_sku, price=Decimal(price), num_in_stock=stock
        )
        made[partner_sku] = product
    return made


@pytest.fixture
def shop(db: None, django_capture_on_commit_callbacks: Any) -> dict[str, Any]:
    """Taxonomy, catalogue and the restless-legs article, with every list computed."""
    with refresh_batch():
        taxonomy_load(data=shipped())
        products = make_catalogue()
        text = (settings.FIXTURES / "articles" / "how-to-treat-restless-leg-syndrome.md").read_text(encoding="utf-8")
        page = page_upsert(url=RLS_URL, title="How To Treat Restless Leg Syndrome", text=text)
    with django_capture_on_commit_callbacks(execute=True):  # lists announce their changes after commit
        recommendations_refresh()
    return {"products": products, "page": page}
