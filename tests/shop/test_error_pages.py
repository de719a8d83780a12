"""Error pages leak nothing with DEBUG off (issue 15): no traceback, exception text, setting or file path."""

from __future__ import annotations

import pytest
from django.test import Client, override_settings

from tests.shop.error_urls import SECRET_DETAIL

LEAKS = ("Traceback", "RuntimeError", SECRET_DETAIL, "hunter2", "settings.py", "SECRET_KEY", "DATABASES",
         "URLconf", "Django tried these URL patterns", "site-packages")  # fmt: skip


def assert_leaks_nothing(body: str) -> None:
    found = [leak for leak in LEAKS if leak in body]
    assert not found, found


@pytest.mark.django_db
@override_settings(DEBUG=False, ROOT_URLCONF="tests.shop.error_urls")
@pytest.mark.parametrize("path", ["/no-such-page/", "/learn/no-such-article/", "/products/no-such-product/"])
def test_not_found_pages_leak_nothing(demo: None, path: str) -> None:
    response = Client().get(path)
    assert response.status_code == 404
    assert_leaks_nothing(response.content.decode())


@pytest.mark.django_db
@override_settings(DEBUG=False, ROOT_URLCONF="tests.shop.error_urls")
def test_api_not_found_leaks_nothing(demo: None) -> None:
    response = Client().get("/api/v1/pages/no-such-page/recommendations/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")
    assert_leaks_nothing(response.content.decode())


@pytest.mark.django_db
@override_settings(DEBUG=False, ROOT_URLCONF="tests.shop.error_urls")
def test_server_error_page_leaks_nothing() -> None:
    response = Client(raise_request_exception=False).get("/fails/")
    assert response.status_code == 500
    assert_leaks_nothing(response.content.decode())
