"""Product endpoints: reading, the stock feed, manual tags, related lists, and the roles that may write."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import Group, User
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from recommender.models import ProductTag, Recommendation
from shop.catalog.models import Product

DROPS = "TM-CTD-8OZ"
RLS = "how-to-treat-restless-leg-syndrome"


@pytest.fixture
def api() -> APIClient:
    return APIClient()


def member(role: str) -> User:
    user = User.objects.create_user(f"{role}-user", password="pw-123-secret")
    user.groups.add(Group.objects.get(name=role))
    return user


def rls_skus() -> list[str]:
    rows = Recommendation.objects.filter(page__slug=RLS).order_by("rank").select_related()
    return list(Product.objects.filter(pk__in=[r.product_id for r in rows]).values_list("sku", flat=True))


def test_list_filters_by_tag_including_forms(demo: None, api: APIClient) -> None:
    body = api.get("/api/v1/products/", {"tag": "magnesium", "page_size": 500}).json()
    assert {"count", "next", "previous", "results"} <= set(body)
    assert body["count"] == len(body["results"]) > 3
    assert all("magnesium" in p["tags"] for p in body["results"])
    glycinate = next(p for p in body["results"] if "magnesium-glycinate" in p["tags"])
    assert glycinate["url"].startswith("http://testserver/")


def test_list_filters_by_stock(demo: None, api: APIClient) -> None:
    body = api.get("/api/v1/products/", {"in_stock": "false", "page_size": 500}).json()
    assert body["count"] >= 1
    assert all(p["in_stock"] is False for p in body["results"])


def test_anonymous_patch_is_refused(demo: None, api: APIClient) -> None:
    response = api.patch(f"/api/v1/products/{DROPS}/", {"in_stock": False}, format="json")
    assert response.status_code in (401, 403)
    assert Product.objects.get(sku=DROPS).in_stock is True


def test_marketing_may_not_patch_products(demo: None, api: APIClient) -> None:
    api.force_authenticate(member("marketing"))
    assert api.patch(f"/api/v1/products/{DROPS}/", {"in_stock": False}, format="json").status_code == 403


def test_stock_feed_by_token_takes_product_off_the_page(
    demo: None, api: APIClient, django_capture_on_commit_callbacks: Any
) -> None:
    assert DROPS in rls_skus()
    token = Token.objects.create(user=member("merchandiser"))
    api.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    with django_capture_on_commit_callbacks(execute=True):
        response = api.patch(f"/api/v1/products/{DROPS}/", {"in_stock": False}, format="json")
    assert response.status_code == 200
    assert response.json()["in_stock"] is False
    assert DROPS not in rls_skus()
    with django_capture_on_commit_callbacks(execute=True):
        api.patch(f"/api/v1/products/{DROPS}/", {"in_stock": True}, format="json")
    assert DROPS in rls_skus()


@pytest.mark.parametrize(
    "body",
    [{"in_stock": "maybe"}, {"price": "-1"}, {"price": "abc"}, {"colour": "red"}],
)
def test_bad_feed_is_a_400_and_changes_nothing(demo: None, api: APIClient, body: dict[str, object]) -> None:
    api.force_authenticate(member("merchandiser"))
    before = Product.objects.get(sku=DROPS)
    response = api.patch(f"/api/v1/products/{DROPS}/", body, format="json")
    assert response.status_code == 400
    assert response.json()
    after = Product.objects.get(sku=DROPS)
    assert (after.in_stock, after.price) == (before.in_stock, before.price)


def test_put_tags_replaces_manual_tags(demo: None, api: APIClient, django_capture_on_commit_callbacks: Any) -> None:
    api.force_authenticate(member("merchandiser"))
    whey = Product.objects.get(name__startswith="Whey")
    url = f"/api/v1/products/{whey.sku}/tags/"
    body = {"tags": [{"tag": "concentrace", "relevance": 0.9}, {"tag": "trace-minerals"}]}
    with django_capture_on_commit_callbacks(execute=True):
        response = api.put(url, body, format="json")
    assert response.status_code == 200
    assert {(t["tag"], t["relevance"]) for t in response.json()["tags"]} == {
        ("concentrace", 0.9),
        ("trace-minerals", 1.0),
    }
    assert whey.sku in rls_skus()
    with django_capture_on_commit_callbacks(execute=True):
        api.put(url, {"tags": [{"tag": "fatigue", "relevance": 0.2}]}, format="json")
    manual = ProductTag.objects.filter(product=whey, source="manual")
    assert list(manual.values_list("tag__slug", flat=True)) == ["fatigue"]
    assert whey.sku not in rls_skus()


@pytest.mark.parametrize(
    "body",
    [
        {"tags": [{"tag": "no-such-tag"}]},
        {"tags": [{"tag": "magnesium", "relevance": 2}]},
        {"tags": [{"tag": "magnesium"}, {"tag": "magnesium"}]},
        {"tags": "magnesium"},
        {},
    ],
)
def test_bad_tag_put_is_a_400_and_writes_nothing(demo: None, api: APIClient, body: dict[str, object]) -> None:
    api.force_authenticate(member("merchandiser"))
    before = ProductTag.objects.count()
    assert api.put(f"/api/v1/products/{DROPS}/tags/", body, format="json").status_code == 400
    assert ProductTag.objects.count() == before


def test_unknown_sku_is_404(demo: None, api: APIClient) -> None:
    for suffix in ("", "tags/", "related/", "articles/"):
        assert api.get(f"/api/v1/products/NOPE/{suffix}").status_code == 404


def test_related_products_shape(demo: None, api: APIClient) -> None:
    body = api.get(f"/api/v1/products/{DROPS}/related/", {"limit": 3}).json()
    assert body["product"]["sku"] == DROPS
    assert "Food and Drug Administration" in body["disclaimer"]
    assert 1 <= len(body["items"]) <= 3
    assert all(item["product"]["sku"] != DROPS for item in body["items"])
    assert all(item["reasons"] for item in body["items"])


def test_related_articles_lead_with_the_rls_article(demo: None, api: APIClient) -> None:
    body = api.get(f"/api/v1/products/{DROPS}/articles/").json()
    assert body["product"]["sku"] == DROPS
    first = body["items"][0]
    assert first["page"]["slug"] == RLS
    assert first["reasons"][0]["label"]
    assert first["link"].startswith("http://testserver/learn/") and "utm_source=" in first["link"]


def test_non_mineral_product_has_no_articles(demo: None, api: APIClient) -> None:
    for name in ("Whey", "Mineral Sunscreen"):
        sku = Product.objects.get(name__startswith=name).sku
        assert api.get(f"/api/v1/products/{sku}/articles/").json()["items"] == []


def test_preview_needs_a_role_and_writes_nothing(demo: None, api: APIClient) -> None:
    body = {"title": "Leg cramps at night", "text": "Magnesium and potassium are discussed here.", "limit": 3}
    assert api.post("/api/v1/recommendations/preview/", body, format="json").status_code in (401, 403)
    api.force_authenticate(member("marketing"))
    before = Recommendation.objects.count()
    response = api.post("/api/v1/recommendations/preview/", body, format="json")
    assert response.status_code == 200
    assert 1 <= len(response.json()["items"]) <= 3
    assert Recommendation.objects.count() == before
    assert api.post("/api/v1/recommendations/preview/", {"limit": 0}, format="json").status_code == 400


def test_marketing_registers_an_external_page(demo: None, api: APIClient) -> None:
    body = {
        "url": "https://blog.example.org/wed",
        "title": "Willis-Ekbom disease",
        "text": "Notes on Willis-Ekbom disease.",
    }
    assert api.post("/api/v1/pages/", body, format="json").status_code in (401, 403)
    api.force_authenticate(member("marketing"))
    response = api.post("/api/v1/pages/", body, format="json")
    assert response.status_code == 201
    slug = response.json()["slug"]
    items = api.get(f"/api/v1/pages/{slug}/recommendations/").json()["items"]
    assert any("magnesium" in item["product"]["tags"] for item in items)
    assert api.post("/api/v1/pages/", {"url": "not a url", "title": "x", "text": "y"}, format="json").status_code == 400
