"""The demo store that hosts the recommender plugin."""

from shop.celery import app as celery_app

__all__ = ["celery_app"]
