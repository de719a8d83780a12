"""A product change recomputes every page list it changes, and leaves alone lists it cannot enter
(`refresh.pages_for_products`: pages it reaches, narrowed by the lowest listed score of full lists)."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from django.conf import settings
from django.test import override_settings
from django.utils import timezone

from bench.store import seed_pages, seed_products
from recommender.models import ArticleLink, ContentPage, PageTag, Placement, Recommendation, Tag
from recommender.services.engine_build import engine_build
from recommender.services.refresh import (
    available_rows,
    page_inputs,
    pages_compute,
    pages_for_products,
    pages_reached,
    pages_with_rules,
    recommendations_refresh,
)
from recommender.services.tagging import product_tags_set
from shop.catalog.models import Product


def stored_lists() -> dict[int, list[tuple[int, int]]]:
    lists: dict[int, list[tuple[int, int]]] = {pk: [] for pk in ContentPage.objects.values_list("pk", flat=True)}
    for page_id, product_id, rank in Recommendation.objects.order_by("page_id", "rank").values_list(
        "page_id", "product_id", "rank"
    ):
        lists[page_id].append((product_id, rank))
    return lists


@pytest.fixture
def seeded_store(demo: None) -> None:
    """The demo (rules, iron, a product line) and a skewed synthetic catalog whose pages hold full lists."""
    seed_products(500, seed=9)
    seed_pages(40, seed=10)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("caps", "narrows"),
    [
        ({"MAX_PER_NUTRIENT": 3, "MAX_PER_BRAND": 0}, True),  # the defaults: some lists hold a product over its cap
        ({"MAX_PER_NUTRIENT": 0, "MAX_PER_BRAND": 0}, True),  # lists ordered by scores alone
        ({"MAX_PER_NUTRIENT": 0, "MAX_PER_BRAND": 1}, False),  # one per brand: every full list is over the cap
        ({"MAX_PER_NUTRIENT": 2, "MAX_PER_BRAND": 2}, False),  # two caps: no page ranks plainly
    ],
)
def test_a_product_change_recomputes_every_list_it_changes(
    seeded_store: None, caps: dict[str, int], narrows: bool
) -> None:
    """Each step retags one product (the tags pages name most, at any relevance, or none), checks that every
    list the change alters is in the neighbourhood, and refreshes that neighbourhood as a drain does."""
    rng = random.Random(str(caps))
    common = list(
        Tag.objects.filter(pk__in=PageTag.objects.values("tag_id"), kind__in=["nutrient", "form", "condition"])
    )
    products = list(Product.objects.order_by("pk"))
    pages = list(ContentPage.objects.order_by("pk"))
    left_alone = 0
    with override_settings(RECOMMENDER={**settings.RECOMMENDER, **caps}):
        recommendations_refresh()
        for product in rng.sample(products, 12):
            before = stored_lists()
            chosen = rng.sample(common, rng.randint(0, 3))
            product_tags_set(product=product, tags=[(tag, rng.choice([0.15, 0.4, 0.7, 1.0])) for tag in chosen])
            engine = engine_build()
            after = pages_compute(pages, engine)
            changed = {pk for pk, items in after.items() if [(i.product_id, i.rank) for i in items] != before[pk]}
            near = pages_for_products(engine, [product.pk])
            assert changed <= near, f"{product.sku} changed pages {sorted(changed - near)} it was not refreshed on"
            left_alone += len(set(pages_reached(engine, available_rows(engine, [product.pk]))) - near)
            recommendations_refresh(product_ids=[product.pk])
            assert stored_lists() == {pk: [(i.product_id, i.rank) for i in items] for pk, items in after.items()}
    if narrows:
        assert left_alone, "no full list kept a product that reached it but scored below its lowest out"


@pytest.mark.django_db
def test_the_pages_with_rules_are_the_pages_whose_inputs_hold_rules(seeded_store: None) -> None:
    """`pages_with_rules` (three small queries, for the neighbourhood) agrees with `page_inputs` (what ranking
    reads) for every kind of rule: on a page, on a tag a page names (or names only with a negative weight), a
    link, and rules out of force (ended, or not started yet)."""
    pages = list(ContentPage.objects.order_by("pk"))
    products = list(Product.objects.order_by("pk")[:6])
    now = timezone.now()
    named = PageTag.objects.filter(weight__gt=0).select_related("tag").order_by("pk")
    tag, other = named[0].tag, named[len(named) // 2].tag
    PageTag.objects.filter(tag=other).update(weight=-0.5)  # named only against: no tag-scoped rule applies
    Placement.objects.bulk_create(
        [
            Placement(page=pages[1], product=products[0], action="pin", position=1),
            Placement(tag=tag, product=products[1], action="boost", factor=2.0),
            Placement(tag=other, product=products[2], action="boost", factor=2.0),
            Placement(page=pages[2], product=products[3], action="bury", factor=0.5, ends_at=now - timedelta(days=1)),
            Placement(page=pages[3], product=products[4], action="pin", position=2, starts_at=now + timedelta(days=1)),
        ]
    )
    ArticleLink.objects.create(page=pages[4], product=products[5], position=1)
    ArticleLink.objects.create(page=pages[5], product=products[5], position=1, ends_at=now - timedelta(days=1))
    ids = [p.pk for p in pages]
    expected = {pk for pk, data in page_inputs(ids).items() if data.rules}
    assert {pages[1].pk, pages[4].pk} <= expected
    assert pages_with_rules(ids) == expected
