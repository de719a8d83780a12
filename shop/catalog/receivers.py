"""Supplement facts, name or brand changed: re-derive the product's facts and name tags."""

from typing import Any

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from recommender.services.tagging import product_facts_tags_sync, product_name_tags_sync
from shop.catalog.models import NutrientAmount, Product


def deleting_products(origin: Any) -> bool:
    """Whether a delete started from products (their facts go with them; nothing to re-derive)."""
    model = getattr(origin, "model", None) or type(origin)
    return isinstance(model, type) and issubclass(model, Product)


@receiver([post_save, post_delete], sender=NutrientAmount)
def nutrient_changed(sender: Any, instance: NutrientAmount, origin: Any = None, **kwargs: Any) -> None:
    if deleting_products(origin):
        return
    product = Product.objects.filter(pk=instance.product_id).first()
    if product is not None:
        product_facts_tags_sync(product=product)


@receiver(post_save, sender=Product)
def product_saved(sender: Any, instance: Product, update_fields: Any = None, **kwargs: Any) -> None:
    """A new name or brand may name a product line ("ConcenTrace"): re-derive the name tags."""
    if update_fields is None or {"name", "brand"} & set(update_fields):
        product_name_tags_sync(product=instance)
