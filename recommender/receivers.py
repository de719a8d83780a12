"""Signal handlers: each only announces a change; refreshes run after commit in tasks."""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from recommender import dirty
from recommender.api.caching import local_responses
from recommender.cachekeys import list_cache_keys
from recommender.conf import product_model_label
from recommender.models import ArticleLink, ContentPage, PageTag, Placement, ProductTag, Synonym, Tag, TagRelation
from recommender.signals import recommendations_changed

ANALYSIS_FIELDS = frozenset({"content_hash", "analysed_at"})


@receiver([post_save, post_delete], sender=ProductTag)
def product_tag_changed(sender: Any, instance: ProductTag, **kwargs: Any) -> None:
    dirty.products_changed([instance.product_id])


@receiver(post_save, sender=ContentPage)
def page_changed(sender: Any, instance: ContentPage, update_fields: Any = None, **kwargs: Any) -> None:
    # Storing the analysis result is not a change of the page itself.
    if not (update_fields and set(update_fields) <= ANALYSIS_FIELDS):
        dirty.pages_changed([instance.pk])


@receiver(post_delete, sender=ContentPage)
def page_deleted(sender: Any, instance: ContentPage, **kwargs: Any) -> None:
    # Its rows go with it; its cached list and API responses must not outlive it.
    keys = list_cache_keys(instance.slug)
    transaction.on_commit(lambda: cache.delete_many(keys))
    transaction.on_commit(local_responses.forget)


@receiver(recommendations_changed)
def list_changed(sender: Any, **kwargs: Any) -> None:
    # Sent after commit by the process that stored the list: its own responses go at once, other processes'
    # within LOCAL_CACHE_SECONDS (recommender.api.caching).
    local_responses.forget()


@receiver([post_save, post_delete], sender=PageTag)
def page_tag_changed(sender: Any, instance: PageTag, **kwargs: Any) -> None:
    if instance.source == PageTag.Source.MANUAL:
        dirty.pages_changed([instance.page_id])


@receiver([post_save, post_delete], sender=Placement)
def placement_changed(sender: Any, instance: Placement, **kwargs: Any) -> None:
    if instance.page_id:
        dirty.pages_changed([instance.page_id])
    elif instance.tag_id is not None:
        dirty.pages_changed(PageTag.objects.filter(tag_id=instance.tag_id).values_list("page_id", flat=True))


@receiver([post_save, post_delete], sender=ArticleLink)
def article_link_changed(sender: Any, instance: ArticleLink, **kwargs: Any) -> None:
    dirty.pages_changed([instance.page_id])


@receiver([post_save, post_delete], sender=TagRelation)
@receiver([post_save, post_delete], sender=Tag)
@receiver([post_save, post_delete], sender=Synonym)
def taxonomy_changed(sender: Any, **kwargs: Any) -> None:
    dirty.everything_changed()


def product_changed(sender: Any, instance: Any, **kwargs: Any) -> None:
    dirty.products_changed([instance.pk])


def connect_product_signals() -> None:
    """Listen to the host's product model, whatever it is."""
    model = apps.get_model(product_model_label())
    post_save.connect(product_changed, sender=model, dispatch_uid="recommender-product-saved")
