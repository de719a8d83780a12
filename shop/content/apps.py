"""The store's own content pages."""

from django.apps import AppConfig


class ContentConfig(AppConfig):
    name = "shop.content"
    label = "content"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from shop.content import receivers  # noqa: F401
