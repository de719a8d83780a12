"""How product pages' lists are stored and served: compact reasons worded when served, and a first fill
that only inserts."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from recommender.models import PageState, Recommendation, RelatedArticle, RelatedProduct, RelatedState, Tag
from recommender.services.refresh import recommendations_refresh
from shop.catalog.models import Product

DROPS = "TM-CTD-8OZ"


@pytest.fixture
def api() -> APIClient:
    return APIClient()


def drops_rows() -> list[RelatedProduct]:
    return list(RelatedProduct.objects.filter(product__sku=DROPS).order_by("rank"))


def test_related_reasons_are_stored_as_tag_code_and_weight(demo: None) -> None:
    """A million of them at a catalog's size: the tag's words are not repeated in each."""
    reasons = [r for row in RelatedProduct.objects.all() for r in row.reasons]
    reasons += [r for row in RelatedArticle.objects.all() for r in row.reasons if r.get("tag")]
    assert reasons
    assert all(set(r) == {"tag", "code", "weight"} for r in reasons)
    assert {r["code"] for r in reasons} <= {"shared", "shared-line", "tagged", "discusses", "discusses-line"}


def test_served_reasons_are_worded_from_the_taxonomy_as_it_is_now(demo: None, api: APIClient) -> None:
    row = drops_rows()[0]
    slug = row.reasons[0]["tag"]
    item = api.get(f"/api/v1/products/{DROPS}/related/").json()["items"][0]
    reason = item["reasons"][0]
    name = Tag.objects.get(slug=slug).name
    assert reason["tag"] == slug
    assert name.lower() in reason["label"].lower()
    assert reason["evidence"] == {"grade": None, "citations": []}
    assert reason["weight"] == row.reasons[0]["weight"]

    Tag.objects.filter(slug=slug).update(name="Renamed Mineral")
    again = api.get(f"/api/v1/products/{DROPS}/related/", {"limit": 5}).json()["items"][0]
    assert "renamed mineral" in again["reasons"][0]["label"].lower()


def test_a_reason_whose_tag_is_gone_is_left_out_not_an_error(demo: None, api: APIClient) -> None:
    row = drops_rows()[0]
    RelatedProduct.objects.filter(pk=row.pk).update(reasons=[{"tag": "no-such-tag", "code": "shared", "weight": 1.0}])
    response = api.get(f"/api/v1/products/{DROPS}/related/")
    assert response.status_code == 200
    assert response.json()["items"][0]["reasons"] == []


def test_rows_stored_with_worded_reasons_are_still_served(demo: None, api: APIClient) -> None:
    """Rows written before reasons were stored compact carry the tag's words themselves."""
    row = drops_rows()[0]
    old = {
        "tag": "magnesium",
        "code": "shared",
        "params": {"name": "Magnesium", "kind": "nutrient"},
        "label": "Also contains magnesium.",
        "weight": 0.5,
        "evidence": {"grade": None, "citations": []},
    }
    RelatedProduct.objects.filter(pk=row.pk).update(reasons=[old])
    reason = api.get(f"/api/v1/products/{DROPS}/related/").json()["items"][0]["reasons"][0]
    assert reason == {
        "tag": "magnesium",
        "label": "Also contains magnesium.",
        "weight": 0.5,
        "evidence": {"grade": None, "citations": []},
    }


def list_queries(sql: list[str]) -> list[str]:
    tables = ("recommender_recommendation", "recommender_relatedproduct", "recommender_relatedarticle")
    return [q for q in sql if any(f'FROM "{t}"' in q for t in tables) and not q.startswith("COPY")]


def test_a_first_fill_only_inserts(demo: None) -> None:
    """Lists never written have no rows: the first refresh neither reads nor deletes any (on a table that
    is filling up, each lookup would scan it), and a later refresh still finds and replaces stored rows."""
    Recommendation.objects.all().delete()
    RelatedProduct.objects.all().delete()
    RelatedArticle.objects.all().delete()
    RelatedState.objects.all().delete()
    PageState.objects.all().delete()
    with CaptureQueriesContext(connection) as first:
        recommendations_refresh()
    assert list_queries([q["sql"] for q in first.captured_queries]) == []
    stored = RelatedProduct.objects.count()
    assert stored and Recommendation.objects.count()

    product = Product.objects.get(sku=DROPS)
    RelatedProduct.objects.filter(product=product).delete()  # behind the service's back
    with CaptureQueriesContext(connection) as second:
        recommendations_refresh()
    assert list_queries([q["sql"] for q in second.captured_queries])
    assert RelatedProduct.objects.count() == stored


def test_related_article_links_store_only_what_differs_from_the_defaults(demo: None, api: APIClient) -> None:
    rows = list(RelatedArticle.objects.filter(product__sku=DROPS).order_by("rank"))
    assert rows and all(row.link_params == {} for row in rows)
    link = api.get(f"/api/v1/products/{DROPS}/articles/").json()["items"][0]["link"]
    assert "utm_source=recommender" in link and "utm_medium=product-page" in link
    assert f"utm_campaign={DROPS}" in link

    # A row stored with every parameter (before rows held only their own) links the same way.
    full = {"utm_source": "recommender", "utm_medium": "product-page", "utm_campaign": DROPS}
    RelatedArticle.objects.filter(pk=rows[0].pk).update(link_params=full)
    assert api.get(f"/api/v1/products/{DROPS}/articles/").json()["items"][0]["link"] == link

    RelatedArticle.objects.filter(pk=rows[0].pk).update(link_params={"utm_campaign": "spring"})
    assert "utm_campaign=spring" in api.get(f"/api/v1/products/{DROPS}/articles/").json()["items"][0]["link"]
