"""Supplement facts changed: re-derive the product's facts tags."""

from typing import Any

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from recommender.services.tagging import product_facts_tags_sync
from shop.catalog.models import NutrientAmount, Product


@receiver([post_save, post_delete], sender=NutrientAmount)
def nutrient_changed(sender: Any, instance: NutrientAmount, **kwargs: Any) -> None:
    product = Product.objects.filter(pk=instance.product_id).first()
    if product is not None:
        product_facts_tags_sync(product=product)
