"""CSRF: a write made with a logged-in session needs the CSRF token; a token-authenticated API client needs none.

Every client here is `Client(enforce_csrf_checks=True)`, as a browser is. A session user in the role the write
is meant for sends each API write with no token, with a wrong one, then with the one a page of the store set in
its cookie: the first two are refused with 403 and change nothing, the third is done. The same writes with a DRF
token (`Authorization: Token ...`, no session) need no CSRF token. The admin's change form, its actions and the
page refresh, and the storefront basket, refuse a POST without the token the same way. The events endpoint takes
no session at all (`authentication_classes = []`): a cookie there grants nothing, so it needs no token.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Group, User
from django.http import HttpResponse
from django.test import Client
from django.urls import reverse
from rest_framework.authtoken.models import Token

from recommender.models import ContentPage, DailyStat, Placement, ProductTag
from shop.catalog.models import Product

RLS = "how-to-treat-restless-leg-syndrome"
DROPS = "TM-CTD-8OZ"

Write = Callable[[Client, int, dict[str, str]], HttpResponse]
JSON = "application/json"

# name -> (role, request); each is sent with the headers given (the CSRF token, or a DRF token)
WRITES: dict[str, tuple[str, Write]] = {
    "PATCH product": (
        "merchandiser",
        lambda c, _, h: c.patch(f"/api/v1/products/{DROPS}/", {"in_stock": False}, content_type=JSON, headers=h),
    ),
    "PUT product tags": (
        "merchandiser",
        lambda c, _, h: c.put(
            f"/api/v1/products/{DROPS}/tags/",
            {"tags": [{"tag": "zinc", "relevance": 0.5}]},
            content_type=JSON,
            headers=h,
        ),
    ),
    "POST page": (
        "marketing",
        lambda c, _, h: c.post(
            "/api/v1/pages/",
            {"url": "https://blog.example.org/minerals", "title": "Minerals", "text": "Magnesium and zinc."},
            content_type=JSON,
            headers=h,
        ),
    ),
    "POST placement": (
        "marketing",
        lambda c, _, h: c.post(
            "/api/v1/placements/",
            {"page": RLS, "product": DROPS, "action": "pin", "position": 2},
            content_type=JSON,
            headers=h,
        ),
    ),
    "PATCH placement": (
        "marketing",
        lambda c, pk, h: c.patch(f"/api/v1/placements/{pk}/", {"factor": 1.5}, content_type=JSON, headers=h),
    ),
    "DELETE placement": ("marketing", lambda c, pk, h: c.delete(f"/api/v1/placements/{pk}/", headers=h)),
    # Writes nothing, but is a POST made with the session like the others.
    "POST preview": (
        "marketing",
        lambda c, _, h: c.post("/api/v1/recommendations/preview/", {"text": "magnesium"}, content_type=JSON, headers=h),
    ),
}


def state() -> tuple[Any, ...]:
    """Everything the writes above could change."""
    drops = Product.objects.get(sku=DROPS)
    return (
        (drops.in_stock, drops.price, drops.active),
        list(ProductTag.objects.filter(product=drops).order_by("tag__slug").values_list("tag__slug", "relevance")),
        list(ContentPage.objects.order_by("url").values_list("url", "title")),
        list(Placement.objects.order_by("pk").values_list("pk", "action", "position", "factor", "product_id")),
    )


def user_in(role: str) -> User:
    user = User.objects.create_user(f"{role}-csrf", password="pw-123-secret", is_staff=True)
    user.groups.add(Group.objects.get(name=role))
    return user


def browser_as(user: User | None) -> Client:
    """A client that checks CSRF as a browser's requests are checked, logged in when given a user."""
    client = Client(enforce_csrf_checks=True)
    if user is not None:
        client.force_login(user)
    return client


def csrf_token(client: Client) -> str:
    """The token a page of the store sets in its cookie (the product page's basket form asks for one)."""
    client.get(Product.objects.get(sku=DROPS).get_absolute_url())
    return client.cookies["csrftoken"].value


@pytest.fixture
def placement(demo: None) -> Placement:
    page = ContentPage.objects.get(slug=RLS)
    return Placement.objects.create(page=page, product=Product.objects.get(sku="VN-MGG-120"), action="bury")


@pytest.mark.parametrize("name", WRITES)
def test_a_session_write_needs_the_csrf_token(placement: Placement, name: str) -> None:
    role, write = WRITES[name]
    client = browser_as(user_in(role))
    before = state()

    missing = write(client, placement.pk, {})
    assert missing.status_code == 403
    assert "CSRF Failed: CSRF cookie not set." in missing.json()["detail"]
    token = csrf_token(client)
    header_missing = write(client, placement.pk, {})
    assert header_missing.status_code == 403 and "CSRF token missing" in header_missing.json()["detail"]
    wrong = write(client, placement.pk, {"X-CSRFToken": "x" * len(token)})
    assert wrong.status_code == 403 and "CSRF token" in wrong.json()["detail"]
    assert state() == before

    done = write(client, placement.pk, {"X-CSRFToken": token})
    assert 200 <= done.status_code < 300, done.content
    assert (state() == before) == (name == "POST preview")


@pytest.mark.parametrize("name", WRITES)
def test_a_token_authenticated_write_needs_no_csrf_token(placement: Placement, name: str) -> None:
    role, write = WRITES[name]
    token = Token.objects.create(user=user_in(role))
    before = state()
    done = write(browser_as(None), placement.pk, {"Authorization": f"Token {token.key}"})
    assert 200 <= done.status_code < 300, done.content
    assert (state() == before) == (name == "POST preview")


def test_events_take_no_session_so_need_no_token(demo: None) -> None:
    """A cross-site POST of an event can do no more with the shopper's cookie than without it."""
    client = browser_as(user_in("marketing"))
    event = {"type": "click", "page": RLS, "product": DROPS, "rank": 1}
    response = client.post("/api/v1/events/", event, content_type=JSON)
    assert response.status_code == 204
    assert DailyStat.objects.get(page__slug=RLS, product__sku=DROPS).clicks == 1


def admin_form_data(client: Client, url: str, **changes: Any) -> dict[str, Any]:
    """The change form's own values with some changed, as a browser would post them (no token yet)."""
    form = client.get(url).context["adminform"].form
    data = {key: value for key, value in form.initial.items() if value is not None}
    return {**data, **changes}


def test_an_admin_change_form_post_needs_the_csrf_token(placement: Placement) -> None:
    client = browser_as(user_in("marketing"))
    url = reverse("admin:recommender_placement_change", args=[placement.pk])
    data = admin_form_data(client, url, campaign="spring", _save="Save")

    refused = client.post(url, data)
    assert refused.status_code == 403
    assert b"CSRF verification failed" in refused.content
    placement.refresh_from_db()
    assert placement.campaign == ""

    saved = client.post(url, {**data, "csrfmiddlewaretoken": csrf_token(client)})
    assert saved.status_code == 302, saved.content[:500]
    placement.refresh_from_db()
    assert placement.campaign == "spring"


def test_admin_actions_and_the_page_refresh_need_the_csrf_token(placement: Placement) -> None:
    client = browser_as(user_in("marketing"))
    page = ContentPage.objects.get(slug=RLS)
    delete = {"action": "delete_selected", "_selected_action": [placement.pk], "post": "yes"}
    changelist = reverse("admin:recommender_placement_changelist")
    refresh = reverse("admin:recommender_contentpage_refresh", args=[page.pk])
    refreshed = LogEntry.objects.filter(object_id=str(page.pk), change_message="Refreshed the recommendation list.")

    assert client.post(changelist, delete).status_code == 403
    assert client.post(refresh).status_code == 403
    assert Placement.objects.filter(pk=placement.pk).exists()
    assert not refreshed.exists()

    token = csrf_token(client)
    assert client.post(changelist, {**delete, "csrfmiddlewaretoken": token}).status_code == 302
    assert not Placement.objects.filter(pk=placement.pk).exists()
    assert client.post(refresh, {"csrfmiddlewaretoken": token}).status_code == 302
    assert refreshed.count() == 1


def test_the_basket_needs_the_csrf_token(demo: None) -> None:
    shopper = browser_as(None)
    assert shopper.post("/basket/add/", {"sku": DROPS, "quantity": 2}).status_code == 403
    assert "basket" not in shopper.session
    response = shopper.post("/basket/add/", {"sku": DROPS, "quantity": 2, "csrfmiddlewaretoken": csrf_token(shopper)})
    assert response.status_code == 302
    assert shopper.session["basket"] == {DROPS: 2}
