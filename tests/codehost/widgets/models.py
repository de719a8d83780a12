"""A host product model with no `sku` field: products identify by `code`."""

from decimal import Decimal

from django.db import models


class Widget(models.Model):
    code = models.CharField(max_length=32, unique=True)
    name = models.CharField(max_length=100)
    price = models.DecimalField(max_digits=8, decimal_places=2, default=Decimal("0"))
    in_stock = models.BooleanField(default=True)
    active = models.BooleanField(default=True)
    magnesium_mg = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return self.name
