"""The "Recommendations" panel of the page editor: what shoppers will see, and the editor's pins.

Add it to a page type's editor, usually as its own tab (docs/wagtail.md):

    edit_handler = TabbedInterface([..., ObjectList([RecommendationsPanel()], heading="Recommendations")])
"""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from wagtail.admin.panels import Panel

from recommender.contrib.wagtail.selectors import wagtail_page_pins, wagtail_page_preview


class RecommendationsPanel(Panel):
    """Read-only preview of the page's list with its pins; pinning happens in a small admin view."""

    def __init__(self, limit: int = 6, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.limit = limit

    def clone_kwargs(self) -> dict[str, Any]:
        return {**super().clone_kwargs(), "limit": self.limit}

    @property
    def clean_name(self) -> str:
        return str(super().clean_name or "recommendations")

    class BoundPanel(Panel.BoundPanel):
        template_name = "recommender_wagtail/panel.html"

        def get_context_data(self, parent_context: Any = None) -> Any:
            context = super().get_context_data(parent_context)
            page = self.instance
            context["preview"] = wagtail_page_preview(page=page, limit=self.panel.limit)
            context["pins"] = wagtail_page_pins(page=page)
            context["saved"] = bool(page.pk)
            if page.pk:
                context["pin_url"] = reverse("recommender_wagtail:pin", args=[page.pk])
            return context
