"""Every API write against every role: anonymous, shopper, merchandiser, marketing, staff, superuser.

The API enforces the same model permissions as the admin: a staff flag alone grants no write, a
merchandiser changes products and their tags, marketing registers pages and manages placements.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.contrib.auth.models import Group, User
from rest_framework.response import Response
from rest_framework.test import APIClient

from recommender.models import ContentPage, Placement
from shop.catalog.models import Product

RLS = "how-to-treat-restless-leg-syndrome"
DROPS = "TM-CTD-8OZ"

Write = Callable[[APIClient, int], Response]

# name -> (request, roles that may do it)
WRITES: dict[str, tuple[Write, set[str]]] = {
    "PATCH product": (
        lambda api, _: api.patch(f"/api/v1/products/{DROPS}/", {"in_stock": False}, format="json"),
        {"merchandiser", "superuser"},
    ),
    "PUT product tags": (
        lambda api, _: api.put(
            f"/api/v1/products/{DROPS}/tags/", {"tags": [{"tag": "magnesium", "relevance": 0.5}]}, format="json"
        ),
        {"merchandiser", "superuser"},
    ),
    "POST page": (
        lambda api, _: api.post(
            "/api/v1/pages/",
            {"url": "https://blog.example.org/minerals", "title": "Minerals", "text": "Magnesium and zinc."},
            format="json",
        ),
        {"marketing", "superuser"},
    ),
    "POST preview": (
        lambda api, _: api.post("/api/v1/recommendations/preview/", {"text": "magnesium"}, format="json"),
        {"marketing", "merchandiser", "superuser"},
    ),
    "GET placements": (lambda api, _: api.get("/api/v1/placements/"), {"marketing", "superuser"}),
    "POST placement": (
        lambda api, _: api.post(
            "/api/v1/placements/", {"page": RLS, "product": DROPS, "action": "pin", "position": 2}, format="json"
        ),
        {"marketing", "superuser"},
    ),
    "PATCH placement": (
        lambda api, pk: api.patch(f"/api/v1/placements/{pk}/", {"factor": 1.5}, format="json"),
        {"marketing", "superuser"},
    ),
    "PUT placement": (
        lambda api, pk: api.put(
            f"/api/v1/placements/{pk}/",
            {"page": RLS, "product": "TM-CTT-90", "action": "boost", "factor": 2.0},
            format="json",
        ),
        {"marketing", "superuser"},
    ),
    "DELETE placement": (lambda api, pk: api.delete(f"/api/v1/placements/{pk}/"), {"marketing", "superuser"}),
}

ROLES = ["anonymous", "shopper", "merchandiser", "marketing", "staff", "superuser"]


def client_as(role: str) -> APIClient:
    api = APIClient()
    if role == "anonymous":
        return api
    if role == "superuser":
        user = User.objects.create_superuser("root-api", password="pw-123-secret")
    else:
        user = User.objects.create_user(f"{role}-api", password="pw-123-secret", is_staff=role != "shopper")
        if role in {"merchandiser", "marketing"}:
            user.groups.add(Group.objects.get(name=role))
    api.force_authenticate(user)
    return api


@pytest.mark.parametrize("role", ROLES)
def test_every_api_write_by_role(demo: None, role: str) -> None:
    api = client_as(role)
    page = ContentPage.objects.get(slug=RLS)
    wrong = []
    for name, (write, allowed) in WRITES.items():
        target = Placement.objects.create(page=page, product=Product.objects.get(sku="VN-MGG-120"), action="bury")
        response = write(api, target.pk)
        expected_ok = role in allowed
        ok = 200 <= response.status_code < 300
        refused = response.status_code in (401, 403)
        if (expected_ok and not ok) or (not expected_ok and not refused):
            wrong.append(f"{name}: {response.status_code} {response.content[:120]!r}")
    assert wrong == [], f"{role}: {wrong}"


def test_refused_writes_change_nothing(demo: None) -> None:
    api = client_as("staff")
    drops = Product.objects.get(sku=DROPS)
    assert api.patch(f"/api/v1/products/{DROPS}/", {"price": "1.00", "active": False}, format="json").status_code == 403
    drops.refresh_from_db()
    assert drops.active and str(drops.price) == "24.95"
    assert not ContentPage.objects.filter(url="https://blog.example.org/minerals").exists()
