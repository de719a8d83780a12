"""App config: connects receivers and registers system checks."""

from django.apps import AppConfig


class RecommenderConfig(AppConfig):
    name = "recommender"
    verbose_name = "Recommendations"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from recommender import checks, receivers, tasks  # tasks: registered with Celery, found by name

        checks.register_checks()
        receivers.connect_product_signals()
        tasks.pin_blas_threads_in_workers()
        tasks.keep_engines_in_workers()
