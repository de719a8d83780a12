"""A worker keeps its engine: the chunks of one fanned-out full refresh share it, and drains bring it up to date
from the drain log in Redis (real Redis)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.core.management import call_command

from recommender.dirty import drains_taken, log_key, pop_dirty, products_changed, redis_client
from recommender.models import ContentPage, Recommendation, Tag
from recommender.services import snapshot
from recommender.services.refresh import recommendations_refresh
from recommender.services.snapshot import engine_for
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


@pytest.fixture(autouse=True)
def keeping_as_a_worker() -> Iterator[None]:
    """This process keeps its engine as a Celery worker process does, from an empty start."""
    snapshot.keep_engines()
    yield
    snapshot.keep_engines(False)


@pytest.mark.django_db(transaction=True)
def test_a_run_reuses_its_engine_and_drains_patch_it() -> None:
    demo_store()
    first = engine_for(run="run-a")
    assert engine_for(run="run-a") is first  # a second chunk of the same run
    assert engine_for(run="run-b") is not first  # another run builds its own
    again = engine_for(run="run-a")
    assert again is not first  # only the last run's engine is kept
    assert engine_for(full=True) is not again  # a whole refresh in one call reads everything again

    kept = engine_for()
    product = Product.objects.get(sku="TM-CTD-8OZ")
    with eager():  # announced after commit and drained at once, as a worker would
        product_tags_set(product=product, tags=[(Tag.objects.get(slug="boron"), 0.9)])
    patched = engine_for()  # the one the drain kept
    assert patched is not kept  # the drain took a change and read that product again
    assert patched.lexicon is kept.lexicon  # patched, not built: the taxonomy side is shared
    assert "boron" in patched.metas[patched.row_of[product.pk]].tags
    assert engine_for() is patched  # nothing taken since

    products_changed([product.pk])
    assert product.pk in pop_dirty()["products"]  # a drain in another process took it
    assert engine_for() is not patched  # read from the log: this process reads that product again
    assert engine_for(run="run-c") is not engine_for(run="run-d")  # a new run reads everything again


@pytest.mark.django_db(transaction=True)
def test_an_expired_log_entry_builds_a_new_engine() -> None:
    demo_store()
    kept = engine_for()
    products_changed([Product.objects.get(sku="TM-CTD-8OZ").pk])
    taken = pop_dirty()
    assert taken.number is not None
    redis_client().delete(log_key(taken.number))  # expired, or its drain died before writing it
    rebuilt = engine_for()
    assert rebuilt is not kept
    assert engine_for() is rebuilt


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
