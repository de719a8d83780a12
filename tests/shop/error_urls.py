"""The shop's URLs plus one view that fails, for tests/shop/test_error_pages.py."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.urls import path

from shop.urls import urlpatterns as shop_urlpatterns

SECRET_DETAIL = "database password is hunter2 at /srv/shop/settings.py"


def failing(request: HttpRequest) -> HttpResponse:
    raise RuntimeError(SECRET_DETAIL)


urlpatterns = [path("fails/", failing), *shop_urlpatterns]
