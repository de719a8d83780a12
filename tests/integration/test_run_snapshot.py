"""Chunks of one fanned-out full refresh share a worker's engine until a drain takes changes (real Redis)."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from recommender.dirty import drains_taken, pop_dirty, products_changed
from recommender.models import ContentPage, Recommendation, Tag
from recommender.services.refresh import engine_for_run, recommendations_refresh
from recommender.services.tagging import product_tags_set
from shop.catalog.models import Product
from tests.conftest import require_services
from tests.integration.conftest import eager

pytestmark = pytest.mark.integration


def demo_store() -> None:
    require_services()
    with eager():
        call_command("load_demo", verbosity=0)
    pop_dirty()  # nothing pending from the set-up
    assert drains_taken() is not None  # the counter lives in the Redis in use


@pytest.mark.django_db(transaction=True)
def test_a_run_reuses_its_engine_until_a_drain_takes_changes() -> None:
    demo_store()
    first = engine_for_run("run-a")
    assert engine_for_run("run-a") is first  # a second chunk of the same run
    assert engine_for_run("run-b") is not first  # another run builds its own
    again = engine_for_run("run-a")
    assert again is not first  # only the last run's engine is kept
    assert engine_for_run(None) is not again  # a refresh outside a run always builds
    assert engine_for_run("run-a") is again

    product = Product.objects.get(sku="TM-CTD-8OZ")
    with eager():  # announced after commit and drained at once, as a worker would
        product_tags_set(product=product, tags=[(Tag.objects.get(slug="boron"), 0.9)])
    rebuilt = engine_for_run("run-a")
    assert rebuilt is not again  # a drain took a change: the run's next chunk sees it
    assert "boron" in rebuilt.metas[rebuilt.row_of[product.pk]].tags

    products_changed([product.pk])
    assert product.pk in pop_dirty()["products"]
    assert engine_for_run("run-a") is not rebuilt  # any drain that takes something counts


@pytest.mark.django_db(transaction=True)
def test_chunks_of_one_run_store_the_lists_of_a_refresh_in_one_process() -> None:
    demo_store()
    recommendations_refresh()
    before = list(Recommendation.objects.order_by("page_id", "rank").values_list("page_id", "product_id", "score"))
    Recommendation.objects.all().delete()
    ids = sorted(ContentPage.objects.values_list("pk", flat=True))
    for half in (ids[: len(ids) // 2], ids[len(ids) // 2 :]):
        recommendations_refresh(page_ids=half, product_ids=[], expand=False, run="one-run")
    after = list(Recommendation.objects.order_by("page_id", "rank").values_list("page_id", "product_id", "score"))
    assert before and after == before
