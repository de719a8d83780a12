"""The widget for a Wagtail page, found by the page object rather than a slug.

{% load recommender_wagtail %}
{% recommended_products_for_page page limit=4 %}
"""

from __future__ import annotations

from typing import Any

from django import template

from recommender.contrib.wagtail.selectors import wagtail_page_recommendations

register = template.Library()


@register.inclusion_tag("recommender/widget.html")
def recommended_products_for_page(page: Any, limit: int | None = None, heading: str = "") -> dict[str, Any]:
    """The page's list in the standard widget; renders nothing when the page has none."""
    return {"recommendations": wagtail_page_recommendations(page=page, limit=limit) if page else None, "title": heading}
