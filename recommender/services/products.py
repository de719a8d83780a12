"""Writes to host products that outside systems drive: stock, activity and price (a stock feed)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import transaction

FEED_FIELDS = ("in_stock", "active", "price")


@transaction.atomic
def product_update(*, product: Any, data: dict[str, bool | Decimal]) -> list[str]:
    """Set the given feed fields that the host model has; saves only those columns.

    The save announces the change, so the pages the product appears on are refreshed after commit.
    """
    names = {f.name for f in product._meta.get_fields()}
    changed = [name for name in FEED_FIELDS if name in data and name in names]
    for name in changed:
        setattr(product, name, data[name])
    if changed:
        product.save(update_fields=changed)
    return changed
