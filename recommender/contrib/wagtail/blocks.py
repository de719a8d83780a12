"""`RecommendedProductsBlock`: editors place the product list anywhere in a StreamField body.

The block renders the list of the page it sits on (the `page` in the template context, which
`{% include_block %}` passes on); it contributes no text to the page's own profile or search index.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from wagtail import blocks

from recommender.conf import recommender_settings


class RecommendedProductsBlock(blocks.StructBlock):
    heading = blocks.CharBlock(required=False, max_length=120, help_text=_("Leave empty for the default heading."))
    limit = blocks.IntegerBlock(default=4, min_value=1, max_value=20, help_text=_("How many products at most."))

    class Meta:
        template = "recommender_wagtail/blocks/recommended_products.html"
        icon = "list-ul"
        label = _("Recommended products")

    def get_context(self, value: Any, parent_context: dict[str, Any] | None = None) -> dict[str, Any]:
        from recommender.contrib.wagtail.selectors import wagtail_page_recommendations

        context = super().get_context(value, parent_context=parent_context)
        page = (parent_context or {}).get("page")
        limit = value.get("limit") or recommender_settings.LIMIT
        context["recommendations"] = wagtail_page_recommendations(page=page, limit=limit) if page else None
        context["title"] = value.get("heading") or ""
        return context

    def get_searchable_content(self, value: Any) -> list[str]:
        return []
