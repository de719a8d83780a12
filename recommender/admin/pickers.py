"""Product pickers that stay usable with a 20,000-product catalog: autocomplete where the host allows it.

The plugin does not know the host's ProductAdmin. When the host registers its product model with
`search_fields` (the demo store searches sku and name), a `product` field is an autocomplete; otherwise it
falls back to a raw id field, which also never loads the whole catalog into a select.
"""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from recommender.adapters import get_adapter


def product_admin_searchable(site: admin.AdminSite) -> bool:
    """True when the host's product admin on this site can answer autocomplete requests."""
    model_admin = site._registry.get(get_adapter().model())
    return bool(model_admin is not None and model_admin.get_search_fields(None))  # type: ignore[arg-type]


class ProductPickerMixin:
    """Adds `product` to the autocomplete fields of a ModelAdmin or inline; `raw_id_fields = ["product"]` on the
    class is the fallback (Django looks at autocomplete fields first)."""

    admin_site: admin.AdminSite

    def get_autocomplete_fields(self, request: HttpRequest) -> list[str]:
        fields = list(super().get_autocomplete_fields(request))  # type: ignore[misc]
        return [*fields, "product"] if product_admin_searchable(self.admin_site) else fields
