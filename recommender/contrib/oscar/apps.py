"""App config: connects the receivers on Oscar's stock records, attributes and the recommender's lists."""

from django.apps import AppConfig


class RecommenderOscarConfig(AppConfig):
    name = "recommender.contrib.oscar"
    label = "recommender_oscar"
    verbose_name = "Recommendations for django-oscar"

    def ready(self) -> None:
        from recommender.contrib.oscar import receivers  # noqa: F401
