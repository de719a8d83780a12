"""URLs of the demo store: storefront, plugin API, admin."""

from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="content:article-list", permanent=False)),
    path("learn/", include("shop.content.urls")),
    path("products/", include("shop.catalog.urls")),
    path("api/", include("recommender.api.urls")),
    path("admin/", admin.site.urls),
]
