"""App config: connects the Wagtail page receivers."""

from django.apps import AppConfig


class RecommenderWagtailConfig(AppConfig):
    name = "recommender.contrib.wagtail"
    label = "recommender_wagtail"
    verbose_name = "Recommendations for Wagtail pages"

    def ready(self) -> None:
        from recommender.contrib.wagtail import receivers  # noqa: F401
