"""Wagtail's page signals, each handed to one service in services.py."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import pre_delete
from django.dispatch import receiver
from wagtail.models import Page
from wagtail.signals import page_published, page_unpublished, post_page_move

from recommender.contrib.wagtail import services


@receiver(page_published, dispatch_uid="recommender-wagtail-published")
def page_was_published(sender: Any, instance: Page, **kwargs: Any) -> None:
    services.wagtail_page_register(page=instance)


@receiver(page_unpublished, dispatch_uid="recommender-wagtail-unpublished")
def page_was_unpublished(sender: Any, instance: Page, **kwargs: Any) -> None:
    services.wagtail_page_withdraw(page=instance)


@receiver(post_page_move, dispatch_uid="recommender-wagtail-moved")
def page_was_moved(sender: Any, instance: Page, url_path_before: str, url_path_after: str, **kwargs: Any) -> None:
    if url_path_before != url_path_after:
        services.wagtail_page_moved(page=instance, url_path_before=url_path_before, url_path_after=url_path_after)


@receiver(pre_delete, sender=Page, dispatch_uid="recommender-wagtail-deleted")
def page_is_deleted(sender: Any, instance: Page, **kwargs: Any) -> None:
    # Before the delete, while the page still has its place in the tree (and so its URL).
    services.wagtail_page_forget(page=instance)
