"""Oscar's catalogue changes announced to the recommender; related lists mirrored into Oscar when asked."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from oscar.core.loading import get_model

from recommender import dirty
from recommender.contrib.oscar.conf import oscar_setting
from recommender.contrib.oscar.services import product_recommendations_write
from recommender.services.tagging import product_facts_tags_sync
from recommender.signals import related_products_changed

Product = get_model("catalogue", "Product")
StockRecord = get_model("partner", "StockRecord")


@receiver([post_save, post_delete], sender=StockRecord, dispatch_uid="recommender-oscar-stock")
def stock_changed(sender: Any, instance: Any, **kwargs: Any) -> None:
    # Price and availability come from stock records: the pages that list the product may change.
    dirty.products_changed([instance.product_id])


@receiver(post_save, sender=Product, dispatch_uid="recommender-oscar-product")
def product_saved(sender: Any, instance: Any, **kwargs: Any) -> None:
    # Attributes (supplement facts) and the title (a product line such as "ConcenTrace") give tags. Oscar
    # writes attribute values in bulk, without signals, so this is the one place to see them change.
    # The core's own receiver announces the product's change.
    product_facts_tags_sync(product=instance)


@receiver(related_products_changed, dispatch_uid="recommender-oscar-related")
def related_changed(sender: Any, product_id: int, related_ids: list[int], **kwargs: Any) -> None:
    if oscar_setting("WRITE_PRODUCT_RECOMMENDATIONS"):
        product_recommendations_write(product_id=product_id, related_ids=related_ids)
