"""`/api/v1/placements/`: marketing pins and excludes through the API; others are refused; bad input is a 400."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import Group, User
from rest_framework.test import APIClient

from recommender.models import ContentPage, Placement
from recommender.selectors import recommendations_for_page

RLS = "how-to-treat-restless-leg-syndrome"


def client_for(role: str | None) -> APIClient:
    api = APIClient()
    if role:
        user = User.objects.create_user(f"{role}-api", password="pw-123-secret")
        user.groups.add(Group.objects.get(name=role))
        api.force_authenticate(user)
    return api


def skus() -> list[str]:
    page = ContentPage.objects.get(slug=RLS)
    return [i["product"]["sku"] for i in recommendations_for_page(page=page, limit=20)["items"]]


def test_marketing_pins_and_removes_a_product(demo: None, django_capture_on_commit_callbacks: Any) -> None:
    api = client_for("marketing")
    body = {"page": RLS, "product": "NP-WHEY-2LB", "action": "pin", "position": 1, "campaign": "spring"}
    with django_capture_on_commit_callbacks(execute=True):
        created = api.post("/api/v1/placements/", body, format="json")
    assert created.status_code == 201, created.content
    assert created.json()["product"] == "NP-WHEY-2LB"
    assert skus()[0] == "NP-WHEY-2LB"
    assert api.get("/api/v1/placements/").json()["count"] == 1
    url = f"/api/v1/placements/{created.json()['id']}/"
    with django_capture_on_commit_callbacks(execute=True):
        assert api.patch(url, {"position": 2}, format="json").status_code == 200
    assert skus()[1] == "NP-WHEY-2LB"
    with django_capture_on_commit_callbacks(execute=True):
        assert api.delete(url).status_code == 204
    assert "NP-WHEY-2LB" not in skus()


def test_exclude_by_tag_removes_the_product(demo: None, django_capture_on_commit_callbacks: Any) -> None:
    api = client_for("marketing")
    assert "TM-CTD-8OZ" in skus()
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post("/api/v1/placements/", {"tag": "magnesium", "product": "TM-CTD-8OZ", "action": "exclude"})
    assert response.status_code == 201, response.content
    assert "TM-CTD-8OZ" not in skus()


@pytest.mark.parametrize(
    "body",
    [
        {"page": RLS, "tag": "magnesium", "product": "TM-CTD-8OZ", "action": "exclude"},
        {"product": "TM-CTD-8OZ", "action": "exclude"},
        {"page": RLS, "product": "TM-CTD-8OZ", "action": "pin"},
        {"page": RLS, "product": "TM-CTD-8OZ", "action": "boost", "factor": 0},
        {"page": RLS, "product": "NOPE", "action": "exclude"},
        {"page": "no-such-page", "product": "TM-CTD-8OZ", "action": "exclude"},
        {"page": RLS, "product": "TM-CTD-8OZ", "action": "explode"},
        {
            "page": RLS,
            "product": "TM-CTD-8OZ",
            "action": "exclude",
            "starts_at": "2026-12-02T00:00Z",
            "ends_at": "2026-12-01T00:00Z",
        },
    ],
)
def test_bad_placements_are_400s_and_write_nothing(demo: None, body: dict[str, Any]) -> None:
    response = client_for("marketing").post("/api/v1/placements/", body, format="json")
    assert response.status_code == 400
    assert response.json()
    assert not Placement.objects.exists()


@pytest.mark.parametrize("role", [None, "merchandiser"])
def test_others_are_refused(demo: None, role: str | None) -> None:
    api = client_for(role)
    assert api.get("/api/v1/placements/").status_code in (401, 403)
    body = {"page": RLS, "product": "TM-CTD-8OZ", "action": "exclude"}
    assert api.post("/api/v1/placements/", body, format="json").status_code in (401, 403)
