"""Reads for Wagtail pages: the shopper's list of a page, and the editor's preview."""

from __future__ import annotations

from typing import Any

from wagtail.models import Page

from recommender.contrib.wagtail.services import content_page_for
from recommender.contrib.wagtail.text import page_text
from recommender.models import Placement
from recommender.selectors import recommendations_for_page, recommendations_for_text


def wagtail_page_recommendations(*, page: Page, limit: Any = None) -> dict[str, Any] | None:
    """The list shoppers see on this page; None when the page is not registered or not published."""
    content = content_page_for(page)
    if content is None or not content.published:
        return None
    return recommendations_for_page(page=content, limit=limit)


def wagtail_page_preview(*, page: Page, limit: Any = None) -> dict[str, Any]:
    """What the editor sees: the live list (pins included) once the page is published, else the draft's list."""
    live = wagtail_page_recommendations(page=page, limit=limit) if page.pk and page.live else None
    if live is not None:
        return {**live, "source": "live"}
    draft = recommendations_for_text(title=page.title or "", text=page_text(page), limit=limit)
    return {**draft, "source": "draft"}


def wagtail_page_pins(*, page: Page) -> list[Placement]:
    """The editor's pins on this page, by position."""
    content = content_page_for(page) if page.pk else None
    if content is None:
        return []
    return list(Placement.objects.filter(page=content, action=Placement.Action.PIN).order_by("position", "pk"))
