"""Boost factors: a non-finite or huge factor is refused with a message by the model, the API and the admin.

Regression for issue 15: a factor of 1e39 was accepted and overflowed float32 scores to infinity.
"""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, User
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from recommender.adapters import get_adapter
from recommender.models import ContentPage, Placement

RLS = "how-to-treat-restless-leg-syndrome"
HUGE = [1e39, 101.0, -1.0, float("inf"), float("nan")]


def marketing() -> User:
    user = User.objects.create_user("mkt-factor", password="pw-123-secret", is_staff=True)
    user.groups.add(Group.objects.get(name="marketing"))
    return user


@pytest.mark.parametrize("factor", HUGE)
def test_model_refuses_a_factor_outside_0_to_100(demo: None, factor: float) -> None:
    page = ContentPage.objects.get(slug=RLS)
    product = get_adapter().queryset().get(sku="TM-CTD-8OZ")
    with pytest.raises(ValidationError) as caught:
        Placement(page=page, product=product, action="boost", factor=factor).clean()
    assert "from 0 to 100" in str(caught.value.message_dict["factor"])


@pytest.mark.parametrize("factor", [1e39, 1000, "Infinity", "NaN", "1e309"])
def test_api_refuses_a_huge_factor_with_a_400(demo: None, factor: object) -> None:
    api = APIClient()
    api.force_authenticate(marketing())
    body = {"page": RLS, "product": "TM-CTD-8OZ", "action": "boost", "factor": factor}
    response = api.post("/api/v1/placements/", body, format="json")
    assert response.status_code == 400
    assert "factor" in response.json()
    assert not Placement.objects.exists()


@pytest.mark.parametrize("factor", ["1e39", "inf", "nan", "250"])
def test_admin_refuses_a_huge_factor_with_a_message(demo: None, factor: str) -> None:
    client = Client()
    client.force_login(marketing())
    page = ContentPage.objects.get(slug=RLS)
    product = get_adapter().queryset().get(sku="TM-CTD-8OZ")
    body = {"product": product.pk, "action": "boost", "page": page.pk, "factor": factor}
    response = client.post(reverse("admin:recommender_placement_add"), body)
    assert response.status_code == 200
    assert not Placement.objects.exists()


def test_a_boost_of_100_is_still_accepted(demo: None) -> None:
    api = APIClient()
    api.force_authenticate(marketing())
    body = {"page": RLS, "product": "TM-CTD-8OZ", "action": "boost", "factor": 100}
    assert api.post("/api/v1/placements/", body, format="json").status_code == 201
