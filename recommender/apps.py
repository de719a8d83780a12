"""App config: connects receivers and registers system checks."""

from django.apps import AppConfig


class RecommenderConfig(AppConfig):
    name = "recommender"
    verbose_name = "Recommendations"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from recommender import checks, receivers

        checks.register_checks()
        receivers.connect_product_signals()
