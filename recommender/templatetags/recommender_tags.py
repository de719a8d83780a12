"""Template tags that render the recommendation widget on the host's own pages.

{% load recommender_tags %}
{% recommended_products page_slug=article.slug limit=6 %}
"""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.translation import gettext

from recommender.models import ContentPage
from recommender.money import format_price
from recommender.presentation import list_view
from recommender.selectors import (
    cautions_for_product,
    disclaimer,
    page_by_url,
    recommendations_for_page,
    related_articles_for,
    related_products_for,
)

register = template.Library()


@register.inclusion_tag("recommender/widget.html")
def recommended_products(page_slug: str = "", page_url: str = "", limit: int | None = None) -> dict[str, Any]:
    """The list for a page found by slug or url; renders nothing when the list is empty."""
    page = ContentPage.objects.filter(slug=page_slug).first() if page_slug else page_by_url(page_url)
    if page is None:
        return {"recommendations": None}
    return {"recommendations": recommendations_for_page(page=page, limit=limit), "track": True}


@register.inclusion_tag("recommender/widget.html")
def related_products(product: Any, limit: int | None = None) -> dict[str, Any]:
    """Products like this one, in the same widget as the article list."""
    items = related_products_for(product=product, limit=limit or 4)
    return {
        "recommendations": {"items": items, "disclaimer": disclaimer()},
        "title": gettext("Related products"),
    }


@register.inclusion_tag("recommender/related_articles.html")
def related_articles(product: Any, limit: int | None = None) -> dict[str, Any]:
    """Articles that discuss what this product holds; nothing when none does."""
    return {"articles": related_articles_for(product=product, limit=limit or 3)}


@register.filter
def price(amount: Any, currency: str = "USD") -> str:
    """`{{ product.price|price:product.currency }}` -> "$24.95"."""
    return format_price(amount, currency)


@register.simple_tag
def recommendation_cards(recommendations: Any) -> dict[str, Any]:
    """`{% recommendation_cards recommendations as view %}`: compact cards and the list's shared cautions."""
    return list_view(recommendations)


@register.inclusion_tag("recommender/cautions.html")
def product_cautions(product: Any) -> dict[str, Any]:
    """All of a product's cautions, for its own page."""
    return {"cautions": cautions_for_product(product=product)}
