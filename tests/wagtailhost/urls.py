from django.urls import include, path
from wagtail import urls as wagtail_urls
from wagtail.admin import urls as wagtailadmin_urls

urlpatterns = [
    path("cms/", include(wagtailadmin_urls)),
    path("api/", include("recommender.api.urls")),
    path("products/", include("shop.catalog.urls")),
    path("", include(wagtail_urls)),
]
