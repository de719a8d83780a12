"""The demo store's catalog."""

from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "shop.catalog"
    label = "catalog"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from shop.catalog import receivers  # noqa: F401
