"""URLs of the demo store: storefront, basket, plugin API, admin."""

from django.contrib import admin
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView

from recommender.health import health_view
from recommender.metrics import metrics_view
from shop.catalog.views import HomeView

urlpatterns = [
    path("", HomeView.as_view(), name="home"),
    path("favicon.ico", RedirectView.as_view(url=static("shop/favicon.svg"), permanent=True)),
    path("learn/", include("shop.content.urls")),
    path("products/", include("shop.catalog.urls")),
    path("basket/", include("shop.basket.urls")),
    path("api/", include("recommender.api.urls")),
    path("api/", include("recommender.api.docs_urls")),
    path("admin/", admin.site.urls),
    path("health/", health_view, name="health"),
    path("metrics/", metrics_view, name="metrics"),
]

handler400 = "shop.errors.bad_request"
