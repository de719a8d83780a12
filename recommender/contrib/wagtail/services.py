"""Writes that keep content pages in step with Wagtail: register, withdraw, move, forget, pin.

Called by the receivers (receivers.py) and the editor's pin view (views.py). Each runs inside the
caller's transaction; the ContentPage save announces the refresh after commit (recommender.receivers).
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from wagtail.models import Page

from recommender.contrib.wagtail.text import page_text, page_url
from recommender.models import ContentPage, Placement
from recommender.selectors import page_by_url
from recommender.services.pages import page_upsert, unique_page_slug

EDITOR_CAMPAIGN = "wagtail-editor"


def content_page_for(page: Page) -> ContentPage | None:
    """The content page registered for this Wagtail page, if any."""
    url = page_url(page)
    return page_by_url(url) if url else None


def wagtail_page_register(*, page: Page, published: bool = True) -> ContentPage | None:
    """Create or update the content page of a (published) Wagtail page; None when it has no URL."""
    url = page_url(page)
    if not url:
        return None
    try:
        return page_upsert(
            url=url, title=page.title, text=page_text(page), slug=unique_page_slug(page.slug, url), published=published
        )
    except ValidationError:
        return None  # a URL the recommender cannot link (no site configured): nothing to recommend on


def wagtail_page_withdraw(*, page: Page) -> None:
    """An unpublished page lists nothing; its content page, placements and pins are kept for its return."""
    content = content_page_for(page)
    if content is not None and content.published:
        content.published = False
        content.save(update_fields=["published", "updated_at"])


@transaction.atomic
def wagtail_page_moved(*, page: Page, url_path_before: str, url_path_after: str) -> int:
    """Re-key the content pages of a moved page and its descendants to their new URLs; returns how many."""
    moved = 0
    for node in Page.objects.descendant_of(page, inclusive=True).order_by("path"):
        old_url = page_url(node, url_path=url_path_before + node.url_path[len(url_path_after) :])
        new_url = page_url(node)
        content = ContentPage.objects.filter(url=old_url).first() if old_url else None
        if content is None or not new_url or old_url == new_url or ContentPage.objects.filter(url=new_url).exists():
            continue
        content.url = new_url
        content.save(update_fields=["url", "updated_at"])
        moved += 1
    return moved


def wagtail_page_forget(*, page: Page) -> None:
    """A deleted page's content page goes, with its list, placements and stats."""
    url = page_url(page)
    if url:
        ContentPage.objects.filter(url=url).delete()


@transaction.atomic
def wagtail_page_pin(*, page: Page, product: Any, position: int) -> Placement:
    """Pin a product at a position on a Wagtail page's list (an editor's placement)."""
    content = content_page_for(page) or wagtail_page_register(page=page, published=page.live)
    if content is None:
        raise ValidationError("This page has no URL yet, so it cannot have recommendations.")
    Placement.objects.filter(page=content, product=product, action=Placement.Action.PIN).delete()
    placement = Placement(
        page=content, product=product, action=Placement.Action.PIN, position=position, campaign=EDITOR_CAMPAIGN
    )
    placement.full_clean()
    placement.save()
    return placement


def wagtail_page_unpin(*, page: Page, placement_id: int) -> None:
    """Remove one of this page's pins."""
    content = content_page_for(page)
    if content is not None:
        for placement in Placement.objects.filter(page=content, pk=placement_id, action=Placement.Action.PIN):
            placement.delete()  # one by one, so the page's refresh is announced
