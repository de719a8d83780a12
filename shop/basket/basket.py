"""A shopper's basket, kept in the session as {sku: quantity}; nothing else about the shopper is stored."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.http import HttpRequest

from shop.catalog.models import Product

SESSION_KEY = "basket"
MAX_QUANTITY = 99


@dataclass(frozen=True)
class Line:
    product: Product
    quantity: int

    @property
    def total(self) -> Decimal:
        return (self.product.price or Decimal("0")) * self.quantity


def contents(request: HttpRequest) -> dict[str, int]:
    """The basket as stored; reading it never creates a session (no cookie for a shopper who adds nothing)."""
    raw: Any = request.session.get(SESSION_KEY, {}) if hasattr(request, "session") else {}
    return {str(k): int(v) for k, v in raw.items() if int(v) > 0} if isinstance(raw, dict) else {}


def count(request: HttpRequest) -> int:
    return sum(contents(request).values())


def set_quantity(request: HttpRequest, *, sku: str, quantity: int, add: bool = False) -> None:
    """Add to (or set) a product's quantity; 0 removes it."""
    items = contents(request)
    quantity = max(0, min(MAX_QUANTITY, items.get(sku, 0) + quantity if add else quantity))
    if quantity:
        items[sku] = quantity
    else:
        items.pop(sku, None)
    request.session[SESSION_KEY] = items


def lines(request: HttpRequest) -> list[Line]:
    """The basket's lines with their products, in the order added; products no longer sold drop out."""
    items = contents(request)
    products = {p.sku: p for p in Product.objects.filter(sku__in=items, active=True).select_related("brand")}
    return [Line(products[sku], qty) for sku, qty in items.items() if sku in products]
