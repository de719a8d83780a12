"""Keep each Article's ContentPage in step with it."""

from typing import Any

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from recommender.models import ContentPage
from recommender.services.pages import page_upsert
from shop.content.models import Article


@receiver(post_save, sender=Article)
def article_saved(sender: Any, instance: Article, **kwargs: Any) -> None:
    page_upsert(
        url=instance.get_absolute_url(),
        slug=instance.slug,
        title=instance.title,
        text=instance.body,
        published=instance.published,
    )


@receiver(post_delete, sender=Article)
def article_deleted(sender: Any, instance: Article, **kwargs: Any) -> None:
    ContentPage.objects.filter(url=instance.get_absolute_url()).delete()
