"""`OscarProductAdapter`: how the recommender reads django-oscar's catalogue.

- identifier (`sku`): the product's UPC, else its first stock record's partner SKU (annotated on the
  queryset, so the API's `products/<sku>/` finds Oscar products too);
- name: `get_title()` (a variant without its own title takes its parent's);
- price, currency and availability: Oscar's pricing strategy (`Selector().strategy()`, the default one
  unless the host forks the partner app), `fetch_for_product`;
- only public products are ever recommended (`is_public`);
- supplement facts: from product attributes (see facts.py).

Parent products carry no stock; their variants (children) and standalone products are the candidates.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import models
from django.db.models import CharField, OuterRef, Subquery
from django.db.models.functions import Cast, Coalesce
from django.utils.html import strip_tags
from oscar.core.loading import get_class, get_model

from recommender.adapters import NutrientFact, ProductAdapter
from recommender.contrib.oscar.facts import attribute_facts


def default_strategy() -> Any:
    """The host's strategy: Oscar loads `Selector` dynamically so that a forked partner app is honoured."""
    return get_class("partner.strategy", "Selector")().strategy()


class OscarProductAdapter(ProductAdapter):
    """Reads `catalogue.Product` through Oscar's own APIs."""

    def queryset(self) -> models.QuerySet[Any]:
        stock_record = get_model("partner", "StockRecord")
        first_sku = stock_record.objects.filter(product=OuterRef("pk")).order_by("pk").values("partner_sku")[:1]
        return (
            super()
            .queryset()
            .exclude(structure="parent")
            .annotate(sku=Coalesce("upc", Subquery(first_sku), Cast("pk", output_field=CharField())))
            .select_related("parent", "product_class")
            .prefetch_related("stockrecords")
        )

    def sku(self, product: Any) -> str:
        annotated = getattr(product, "sku", None)
        if annotated:
            return str(annotated)
        record = product.stockrecords.order_by("pk").first()
        return str(product.upc or (record.partner_sku if record else product.pk))

    def name(self, product: Any) -> str:
        return str(product.get_title())

    def brand(self, product: Any) -> str:
        value = getattr(product.attr, "brand", "")
        return value if isinstance(value, str) else ""

    def image_url(self, product: Any) -> str:
        original = getattr(product.primary_image(), "original", None)
        return str(original.url) if original else ""

    def purchase_info(self, product: Any) -> Any:
        """Oscar's price and availability for the product, fetched once per instance."""
        info = getattr(product, "_recommender_purchase_info", None)
        if info is None:
            info = default_strategy().fetch_for_product(product)
            product._recommender_purchase_info = info
        return info

    def price(self, product: Any) -> Decimal | None:
        price = self.purchase_info(product).price
        if not price.exists:
            return None
        return Decimal(price.incl_tax if price.is_tax_known else price.excl_tax)

    def currency(self, product: Any) -> str:
        return str(getattr(self.purchase_info(product).price, "currency", None) or "USD")

    def in_stock(self, product: Any) -> bool:
        return bool(self.purchase_info(product).availability.is_available_to_buy)

    def is_available(self, product: Any) -> bool:
        return bool(product.is_public) and self.in_stock(product)

    def text(self, product: Any) -> str:
        return " ".join(filter(None, [self.name(product), strip_tags(product.description or "")]))

    def nutrients(self, product: Any) -> list[NutrientFact]:
        # Through `product.attr`, which holds values set but not yet saved: Oscar saves attributes in bulk
        # after the product's post_save, so this is what the product is about to hold.
        container = product.attr
        codes = container.get_all_attributes().values_list("code", flat=True)
        return attribute_facts((code, getattr(container, code, None)) for code in codes)
