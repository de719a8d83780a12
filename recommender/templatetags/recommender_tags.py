"""Template tags that render the recommendation widget on the host's own pages.

{% load recommender_tags %}
{% recommended_products page_slug=article.slug limit=6 %}
"""

from __future__ import annotations

from typing import Any

from django import template

from recommender.models import ContentPage
from recommender.selectors import page_by_url, recommendations_for_page

register = template.Library()


@register.inclusion_tag("recommender/widget.html")
def recommended_products(page_slug: str = "", page_url: str = "", limit: int | None = None) -> dict[str, Any]:
    """The list for a page found by slug or url; renders nothing when the list is empty."""
    page = ContentPage.objects.filter(slug=page_slug).first() if page_slug else page_by_url(page_url)
    if page is None:
        return {"recommendations": None}
    return {"recommendations": recommendations_for_page(page=page, limit=limit)}
