"""A Wagtail page's address and body text, as the recommender keys and reads it.

The key is the page's full URL (Wagtail slugs are unique only among siblings). The text is the page's
own rendered body: its StreamField and rich-text fields, block by block, leaving out recommendation blocks
(product names would otherwise feed the page's own profile). A page type can define `recommender_text()`
to say what it is about instead.
"""

from __future__ import annotations

import copy
import logging
from typing import Any

from django.db import models
from wagtail.fields import RichTextField, StreamField
from wagtail.models import Page
from wagtail.rich_text import expand_db_html

from recommender.contrib.wagtail.blocks import RecommendedProductsBlock

logger = logging.getLogger(__name__)


def page_url(page: Page, *, url_path: str | None = None) -> str:
    """The page's full URL; with `url_path`, the URL it had (or would have) at that tree path."""
    if url_path is not None:
        page = copy.copy(page)
        page.url_path = url_path
    return str(page.get_full_url() or "")


def _stream_text(value: Any) -> list[str]:
    parts = []
    for child in value:
        if isinstance(child.block, RecommendedProductsBlock):
            continue
        try:
            parts.append(str(child.render()))
        except Exception:  # a block that needs a request or a missing file must not stop publishing
            logger.warning("Block %s did not render; using its searchable text", child.block_type, exc_info=True)
            parts.extend(str(s) for s in child.block.get_searchable_content(child.value))
    return parts


def _field_text(field: models.Field[Any, Any], value: Any) -> list[str]:
    if not value:
        return []
    if isinstance(field, StreamField):
        return _stream_text(value)
    if isinstance(field, RichTextField):
        return [expand_db_html(value)]
    return []


def page_text(page: Page) -> str:
    """The page's rendered body (HTML; the recommender reduces it to plain text)."""
    specific = page.specific
    custom = getattr(specific, "recommender_text", None)
    if callable(custom):
        return str(custom())
    parts: list[str] = []
    for field in type(specific)._meta.concrete_fields:
        if field.model is not Page:  # the page type's own fields, not Wagtail's bookkeeping
            parts.extend(_field_text(field, getattr(specific, field.attname)))
    return "\n".join(parts)
