"""A host product model that shares no attribute names with shop.catalog beyond `sku`."""

from django.db import models


class Gadget(models.Model):
    sku = models.CharField(max_length=32, unique=True)
    title = models.CharField(max_length=100)
    cost_cents = models.PositiveIntegerField(default=0)
    stock = models.PositiveIntegerField(default=1)
    magnesium_mg = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return self.title
