"""Admin URLs for the Recommendations panel's pin and unpin actions."""

from __future__ import annotations

from typing import Any

from django.urls import include, path
from wagtail import hooks

from recommender.contrib.wagtail import views

urlpatterns = [
    path("<int:page_id>/pin/", views.pin, name="pin"),
    path("<int:page_id>/pins/<int:placement_id>/delete/", views.unpin, name="unpin"),
]


@hooks.register("register_admin_urls")
def register_admin_urls() -> list[Any]:
    return [path("recommender/pages/", include((urlpatterns, "recommender_wagtail")))]
