"""The demo store end to end (DESIGN.md sections 1 and 7): the seed article's list, the widget, honest wording."""

from __future__ import annotations

import re

from django.core.management import call_command
from django.test import Client

from recommender.conf import DISCLAIMER
from recommender.models import ContentPage, PageTag, ProductTag, Recommendation, Synonym, Tag, TagRelation
from recommender.selectors import recommendations_for_page
from shop.catalog.models import NutrientAmount, Product
from shop.content.models import Article

RLS = "how-to-treat-restless-leg-syndrome"
HOUSEPLANTS = "choosing-houseplants-for-low-light"
SEED_PRODUCT = "ConcenTrace Trace Mineral Drops"
OFF_TOPIC = ("Protein", "Collagen", "Sunscreen", "Cream", "Gel", "Probiotic", "Fish Oil")
CLAIM = re.compile(
    r"\b(treat\w*|cure[sd]?|curing|curative|heal|heals|healed|healing|remed\w*|reliev\w*|allevia\w*|prevent\w*)\b"
    r"|for rls|for restless",
    re.IGNORECASE,
)


def full_list(slug: str) -> dict:
    return recommendations_for_page(page=ContentPage.objects.get(slug=slug), limit=20)


def test_seed_article_list(demo: None) -> None:
    items = recommendations_for_page(page=ContentPage.objects.get(slug=RLS))["items"]
    assert len(items) >= 4
    top3 = items[:3]
    names = [item["product"]["name"] for item in top3]
    assert SEED_PRODUCT in names
    assert any(item["product"]["name"] != SEED_PRODUCT and "magnesium" in item["product"]["tags"] for item in top3)
    assert [item["rank"] for item in items] == list(range(1, len(items) + 1))
    for item in items:
        assert len(item["reasons"]) >= 1, item["product"]["name"]
        assert all(reason["label"] for reason in item["reasons"])


def test_lists_are_on_topic_honest_and_the_houseplants_page_is_empty(demo: None) -> None:
    pages = list(ContentPage.objects.values_list("slug", flat=True))
    assert RLS in pages and HOUSEPLANTS in pages
    for slug in pages:
        payload = full_list(slug)
        assert payload["disclaimer"] == DISCLAIMER
        for item in payload["items"]:
            name = item["product"]["name"]
            assert not any(word.lower() in name.lower() for word in OFF_TOPIC), (slug, name)
            assert item["product"]["in_stock"] is True, (slug, name)
        skus = [item["product"]["sku"] for item in payload["items"]]
        assert len(skus) == len(set(skus)), slug
    assert full_list(HOUSEPLANTS)["items"] == []
    assert not Recommendation.objects.filter(page__slug=HOUSEPLANTS).exists()

    # Every reason label and caution text describes the article or the product, never a disease claim.
    checked = 0
    for slug in ContentPage.objects.values_list("slug", flat=True):
        for item in full_list(slug)["items"]:
            for reason in item["reasons"]:
                assert not CLAIM.search(reason["label"]), (slug, reason["label"])
                checked += 1
            for caution in item["cautions"]:
                assert caution["code"] and caution["text"]
                assert not CLAIM.search(caution["text"]), (slug, caution["text"])
    assert checked > 10
    # The disclaimer is the one place those words belong.
    assert CLAIM.search(DISCLAIMER)


def test_article_and_product_pages(demo: None, client: Client) -> None:
    response = client.get(f"/learn/{RLS}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "rec-widget" in html
    assert SEED_PRODUCT in html
    assert DISCLAIMER in html
    assert "is discussed in this article" in html or "This article discusses" in html
    assert 'class="rec-reason"' in html

    response = client.get(f"/learn/{HOUSEPLANTS}/")
    assert response.status_code == 200
    assert "rec-widget" not in response.content.decode()

    product = Product.objects.get(name=SEED_PRODUCT)
    response = client.get(f"/products/{product.slug}/")
    assert response.status_code == 200
    assert SEED_PRODUCT in response.content.decode()
    assert client.get("/products/no-such-product/").status_code == 404
    assert client.get("/learn/no-such-article/").status_code == 404


def counts() -> dict[str, int]:
    models = [Tag, Synonym, TagRelation, Product, NutrientAmount, ProductTag, Article, ContentPage, PageTag]
    return {model.__name__: model.objects.count() for model in models}


def test_load_demo_is_idempotent(demo: None) -> None:
    before = counts()
    before_list = [item["product"]["sku"] for item in full_list(RLS)["items"]]
    assert before["Product"] >= 40 and before["Article"] >= 2
    call_command("load_demo", verbosity=0)
    call_command("refresh_recommendations", verbosity=0)
    assert counts() == before
    assert [item["product"]["sku"] for item in full_list(RLS)["items"]] == before_list
