"""How product pages' lists are stored and served: one row per product with compact reasons worded when
served, a first fill that only inserts, and the migration that moved item rows into those lists."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from recommender.fingerprint import dumped, fingerprint
from recommender.models import ArticleLink, ContentPage, PageState, Recommendation, RelatedState, Tag
from recommender.services.refresh import recommendations_refresh
from shop.catalog.models import Product

DROPS = "TM-CTD-8OZ"


@pytest.fixture
def api() -> APIClient:
    return APIClient()


def drops_state() -> RelatedState:
    return RelatedState.objects.get(product__sku=DROPS)


def drops_update(**lists: list[dict[str, Any]]) -> None:
    RelatedState.objects.filter(product__sku=DROPS).update(**lists)


def test_a_product_s_lists_are_one_row_with_their_ids_alongside(demo: None) -> None:
    state = drops_state()
    assert state.products and state.articles
    assert state.related_ids == [item["id"] for item in state.products]
    assert state.page_ids == [item["id"] for item in state.articles]
    scores = [item["score"] for item in state.products]
    assert scores == sorted(scores, reverse=True)
    assert RelatedState.objects.count() == Product.objects.count()


def test_stored_lists_and_their_fingerprint_come_from_one_serialisation(demo: None) -> None:
    """The fingerprint is the one of both lists together (as migration 0011 computes it), and the stored text is
    the very JSON it hashed: a second refresh over the same catalog writes nothing."""
    state = drops_state()
    assert state.list_hash == fingerprint([state.products, state.articles])
    assert recommendations_refresh().products_written == 0
    RelatedState.objects.filter(pk=state.pk).update(list_hash="")
    assert recommendations_refresh().products_written == 1
    assert drops_state().list_hash == state.list_hash
    assert (drops_state().products, drops_state().articles) == (state.products, state.articles)


def test_stored_lists_are_their_items_serialised_with_keys_sorted(demo: None) -> None:
    """The lists are written as text joined from shared pieces (`services.list_text`), not serialised from dicts:
    every stored list is still exactly what serialising its items gives, a linked article pinned among them and
    products' cautions included."""
    page = ContentPage.objects.filter(published=True).exclude(pk__in=drops_state().page_ids).first()
    ArticleLink.objects.create(page=page, product=Product.objects.get(sku=DROPS), position=1, campaign="spring")
    recommendations_refresh()
    with connection.cursor() as cursor:
        cursor.execute("SELECT products, articles FROM recommender_relatedstate")
        stored = cursor.fetchall()
    assert len(stored) == Product.objects.count()
    texts = [text for row in stored for text in row]
    assert all(text.encode() == dumped(orjson.loads(text)) for text in texts)
    assert drops_state().articles[0] | {"score": 0.0} == drops_state().articles[0]
    assert drops_state().articles[0]["link_params"] == {"utm_campaign": "spring"}
    assert any(item["cautions"] for state in RelatedState.objects.all() for item in state.products)


def test_related_reasons_are_stored_as_tag_code_and_weight(demo: None) -> None:
    """A million of them at a catalog's size: the tag's words are not repeated in each."""
    states = list(RelatedState.objects.all())
    reasons = [r for state in states for item in state.products for r in item["reasons"]]
    reasons += [r for state in states for item in state.articles for r in item["reasons"] if r.get("tag")]
    assert reasons
    assert all(set(r) == {"tag", "code", "weight"} for r in reasons)
    assert {r["code"] for r in reasons} <= {"shared", "shared-line", "tagged", "discusses", "discusses-line"}


def test_served_reasons_are_worded_from_the_taxonomy_as_it_is_now(demo: None, api: APIClient) -> None:
    first = drops_state().products[0]
    slug = first["reasons"][0]["tag"]
    item = api.get(f"/api/v1/products/{DROPS}/related/").json()["items"][0]
    reason = item["reasons"][0]
    name = Tag.objects.get(slug=slug).name
    assert item["product"]["id"] == first["id"] and item["rank"] == 1
    assert reason["tag"] == slug
    assert name.lower() in reason["label"].lower()
    assert reason["evidence"] == {"grade": None, "citations": []}
    assert reason["weight"] == first["reasons"][0]["weight"]

    Tag.objects.filter(slug=slug).update(name="Renamed Mineral")
    again = api.get(f"/api/v1/products/{DROPS}/related/", {"limit": 5}).json()["items"][0]
    assert "renamed mineral" in again["reasons"][0]["label"].lower()


def test_a_reason_whose_tag_is_gone_is_left_out_not_an_error(demo: None, api: APIClient) -> None:
    products = drops_state().products
    products[0]["reasons"] = [{"tag": "no-such-tag", "code": "shared", "weight": 1.0}]
    drops_update(products=products)
    response = api.get(f"/api/v1/products/{DROPS}/related/")
    assert response.status_code == 200
    assert response.json()["items"][0]["reasons"] == []


def test_items_stored_with_worded_reasons_are_still_served(demo: None, api: APIClient) -> None:
    """Items written before reasons were stored compact carry the tag's words themselves."""
    old = {
        "tag": "magnesium",
        "code": "shared",
        "params": {"name": "Magnesium", "kind": "nutrient"},
        "label": "Also contains magnesium.",
        "weight": 0.5,
        "evidence": {"grade": None, "citations": []},
    }
    products = drops_state().products
    products[0]["reasons"] = [old]
    drops_update(products=products)
    reason = api.get(f"/api/v1/products/{DROPS}/related/").json()["items"][0]["reasons"][0]
    assert reason == {
        "tag": "magnesium",
        "label": "Also contains magnesium.",
        "weight": 0.5,
        "evidence": {"grade": None, "citations": []},
    }


def test_an_unpublished_article_is_left_out_and_the_rest_keep_their_ranks(demo: None, api: APIClient) -> None:
    articles = drops_state().articles
    assert len(articles) >= 2
    before = api.get(f"/api/v1/products/{DROPS}/articles/").json()["items"]
    from recommender.models import ContentPage

    ContentPage.objects.filter(pk=articles[0]["id"]).update(published=False)
    after = api.get(f"/api/v1/products/{DROPS}/articles/").json()["items"]
    assert [a["page"]["slug"] for a in after] == [a["page"]["slug"] for a in before[1:]]
    assert [a["rank"] for a in after] == [a["rank"] for a in before[1:]]


def list_queries(sql: list[str]) -> list[str]:
    return [q for q in sql if 'FROM "recommender_recommendation"' in q and not q.startswith("COPY")]


def test_a_first_fill_only_inserts(demo: None) -> None:
    """Lists never written have no rows: the first refresh neither reads nor deletes any page list rows (on
    a table that is filling up, each lookup would scan it), and a later refresh still finds stored rows."""
    Recommendation.objects.all().delete()
    RelatedState.objects.all().delete()
    PageState.objects.all().delete()
    with CaptureQueriesContext(connection) as first:
        recommendations_refresh()
    assert list_queries([q["sql"] for q in first.captured_queries]) == []
    assert RelatedState.objects.exclude(computed_at=None).count() == Product.objects.count()
    assert Recommendation.objects.count()

    RelatedState.objects.filter(product__sku=DROPS).delete()  # behind the service's back
    assert recommendations_refresh().products_written == 1
    assert drops_state().products
    with CaptureQueriesContext(connection) as second:
        recommendations_refresh()
    assert list_queries([q["sql"] for q in second.captured_queries])


def test_related_article_links_store_only_what_differs_from_the_defaults(demo: None, api: APIClient) -> None:
    articles = drops_state().articles
    assert articles and all("link_params" not in item for item in articles)
    link = api.get(f"/api/v1/products/{DROPS}/articles/").json()["items"][0]["link"]
    assert "utm_source=recommender" in link and "utm_medium=product-page" in link
    assert f"utm_campaign={DROPS}" in link

    # An item stored with every parameter (before items held only their own) links the same way.
    articles[0]["link_params"] = {"utm_source": "recommender", "utm_medium": "product-page", "utm_campaign": DROPS}
    drops_update(articles=articles)
    assert api.get(f"/api/v1/products/{DROPS}/articles/").json()["items"][0]["link"] == link

    articles[0]["link_params"] = {"utm_campaign": "spring"}
    drops_update(articles=articles)
    assert "utm_campaign=spring" in api.get(f"/api/v1/products/{DROPS}/articles/").json()["items"][0]["link"]


def migrate(target: str) -> Any:
    """Migrate the recommender app to `target`; the app registry as it is there."""
    executor = MigrationExecutor(connection)
    executor.migrate([("recommender", target)])
    executor.loader.build_graph()
    return executor.loader.project_state([("recommender", target)]).apps


@pytest.mark.django_db(transaction=True)
def test_the_migration_carries_stored_lists_over_both_ways() -> None:
    """Item rows become one list per product and back, nothing lost: the next refresh rewrites no list."""
    call_command("load_demo", verbosity=0)
    call_command("refresh_recommendations", verbosity=0)
    lists = {s.product_id: (s.products, s.articles) for s in RelatedState.objects.all()}
    try:
        old = migrate("0010_list_rows_computed")
        items = old.get_model("recommender", "RelatedProduct").objects
        assert items.count() == sum(len(products) for products, _ in lists.values())
        first = items.order_by("product_id", "rank").first()
        assert (first.related_id, first.rank) == (lists[first.product_id][0][0]["id"], 1)
    finally:
        migrate("0011_related_lists_one_row")
    assert {s.product_id: (s.products, s.articles) for s in RelatedState.objects.all()} == lists
    assert recommendations_refresh().products_written == 0


@pytest.mark.parametrize("extra", [0, 20], ids=["a few ids", "many ids"])
def test_lists_holding_finds_every_list_that_holds_an_id(demo: None, extra: int) -> None:
    from recommender.services.related import lists_holding

    states = list(RelatedState.objects.all())
    drops = drops_state()
    for field, wanted in (("related_ids", drops.related_ids[:2]), ("page_ids", drops.page_ids[:1])):
        ids = wanted + [10**9 + n for n in range(extra)]  # ids no list holds
        expected = {s.product_id for s in states if set(getattr(s, field)) & set(wanted)}
        assert expected and lists_holding(field, ids) == expected
    assert lists_holding("related_ids", []) == set()


def test_dumpdata_writes_the_lists_as_json_and_loaddata_reads_them_back(demo: None) -> None:
    from django.core import serializers

    state = drops_state()
    dumped = serializers.serialize("json", [state])
    assert '"products": [{"' in dumped  # a list of objects, not a string holding one
    (loaded,) = serializers.deserialize("json", dumped)
    assert (loaded.object.products, loaded.object.articles) == (state.products, state.articles)
