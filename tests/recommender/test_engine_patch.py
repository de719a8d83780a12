"""`engine_patch` and `engine_rebuilt` give the engine a new `engine_build` gives, for every kind of product change.

A worker keeps its engine between drains and patches only the products the drains took
(`services/snapshot.py`); a full refresh reads everything again and keeps the rows that read the same. The
state machine in test_incremental_refresh.py checks the stored lists that result, this checks the engine itself,
array by array.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import fakeredis
import numpy as np
import pytest
from django.core.management import call_command
from django.db import OperationalError

from recommender import dirty
from recommender.models import (
    ContentPage,
    PageTag,
    Placement,
    ProductTag,
    Recommendation,
    RelatedState,
    Synonym,
    Tag,
)
from recommender.services import snapshot
from recommender.services.engine import Engine
from recommender.services.engine_build import engine_build, engine_patch, engine_rebuilt
from recommender.services.products import product_update
from recommender.services.related import engine_warmed, page_matrix, page_reach
from recommender.services.tagging import product_tags_set
from shop.catalog.models import NutrientAmount, Product


def assert_same(patched: Engine, built: Engine) -> None:
    assert patched.ids.tolist() == built.ids.tolist()
    assert patched.row_of == built.row_of
    assert patched.metas == built.metas
    np.testing.assert_allclose(patched.products, built.products, atol=1e-6)
    assert patched.plain is not None and built.plain is not None
    np.testing.assert_allclose(patched.plain, built.plain, atol=1e-6)
    for name in ("available", "primary", "holds", "guards", "guard_count"):
        assert getattr(patched, name).tolist() == getattr(built, name).tolist(), name
    assert patched.cautions == built.cautions
    assert patched.skus == built.skus
    assert patched.catalog == built.catalog


def drained_out_of_stock(redis: fakeredis.FakeRedis, engine: Engine) -> Product:
    """The first product in stock of this engine, set out of stock behind the plugin's back, announced and taken
    by a drain (as a stock feed's change reaches a worker)."""
    product = Product.objects.filter(pk__in=engine.row_of, in_stock=True).order_by("pk").first()
    assert product is not None
    Product.objects.filter(pk=product.pk).update(in_stock=False)
    redis.sadd(dirty.dirty_key("products"), product.pk)
    dirty.pop_dirty()
    return product


def tag(slug: str) -> Tag:
    return Tag.objects.get(slug=slug)


@pytest.mark.django_db
def test_same_products_changed_in_place(demo: None) -> None:
    """Stock, tags and supplement facts of products the engine holds: rows replaced, nothing added."""
    kept = engine_build()
    stocked, retagged, dosed = Product.objects.filter(pk__in=kept.row_of).order_by("pk")[:3]
    product_update(product=stocked, data={"in_stock": False})
    product_tags_set(product=retagged, tags=[(tag("iron"), 1.0), (tag("magnesium"), 0.4)])
    NutrientAmount.objects.create(product=dosed, code="zinc", amount=Decimal("80"), unit="mg")
    patched = engine_patch(kept, {stocked.pk, retagged.pk, dosed.pk})
    assert patched is not kept and kept.available[kept.row_of[stocked.pk]]  # the kept engine is not touched
    assert_same(patched, engine_build())


@pytest.mark.django_db
def test_products_added_and_removed(demo: None) -> None:
    """A new tagged product, a product whose tags all went, a deleted one, an untagged one newly pinned."""
    kept = engine_build()
    untagged = Product.objects.exclude(pk__in=kept.row_of).order_by("pk").first()
    assert untagged is not None, "the demo catalog has a product without tags"
    stripped, deleted = Product.objects.filter(pk__in=kept.row_of).order_by("-pk")[:2]
    new = Product.objects.create(sku="NEW-MG-1", slug="new-mg-1", name="New magnesium", price=Decimal("9.00"))
    product_tags_set(product=new, tags=[(tag("magnesium"), 1.0)])
    product_tags_set(product=stripped, tags=[])
    deleted_id = deleted.pk
    deleted.delete()
    Placement.objects.create(page=ContentPage.objects.first(), product=untagged, action=Placement.Action.PIN)
    patched = engine_patch(kept, {new.pk, stripped.pk, deleted_id})  # the pin is found without being named
    assert untagged.pk in patched.row_of and new.pk in patched.row_of
    assert deleted_id not in patched.row_of
    assert_same(patched, engine_build())


@pytest.mark.django_db
def test_nothing_to_read_again_keeps_the_engine(demo: None) -> None:
    kept = engine_build()
    assert engine_patch(kept, set()) is kept


@pytest.mark.django_db
def test_a_full_read_finds_changes_made_behind_the_plugins_back(demo: None) -> None:
    """No signal, no drain: a queryset update, a tag row and a facts line written directly, a product deleted with
    its rows, a new untagged pin. `engine_rebuilt` reads everything again and finds each."""
    kept = engine_build()
    stocked, retagged, dosed, deleted = Product.objects.filter(pk__in=kept.row_of).order_by("pk")[:4]
    Product.objects.filter(pk=stocked.pk).update(in_stock=False)
    ProductTag.objects.filter(product=retagged).update(relevance=0.05)
    NutrientAmount.objects.bulk_create([NutrientAmount(product=dosed, code="zinc", amount=Decimal("80"), unit="mg")])
    deleted_id = deleted.pk
    deleted.delete()
    untagged = Product.objects.exclude(pk__in=kept.row_of).order_by("pk").first()
    assert untagged is not None
    Placement.objects.bulk_create([Placement(page=ContentPage.objects.first(), product=untagged, action="pin")])
    rebuilt = engine_rebuilt(kept)
    assert rebuilt.lexicon is kept.lexicon  # the taxonomy read the same: only the products' rows were built
    assert deleted_id not in rebuilt.row_of and untagged.pk in rebuilt.row_of
    assert_same(rebuilt, engine_build())
    assert kept.available[kept.row_of[stocked.pk]]  # the kept engine is not touched


@pytest.mark.django_db
def test_a_full_read_that_finds_no_change_keeps_the_rows_and_forgets_the_pages(demo: None) -> None:
    kept = engine_build()
    pages = kept.of_pages("page_matrix", lambda: page_matrix(kept))
    columns = kept.columns(kept.products)
    rebuilt = engine_rebuilt(kept)
    assert rebuilt is not kept and rebuilt.products is kept.products
    assert rebuilt.columns(rebuilt.products) is columns  # what was built from the products goes on
    assert rebuilt.of_pages("page_matrix", lambda: page_matrix(rebuilt)) is not pages  # the pages are read again
    assert kept.of_pages("page_matrix", lambda: page_matrix(kept)) is pages  # left as it was for another thread
    assert_same(rebuilt, engine_build())


def assert_same_pages(carried: Engine, built: Engine) -> None:
    old, new = page_matrix(built), carried.of_pages("page_matrix", lambda: page_matrix(carried))
    assert old.ids == new.ids and old.weights == new.weights
    np.testing.assert_array_equal(old.matrix, new.matrix)
    np.testing.assert_array_equal(old.names, new.names)


@pytest.mark.django_db
def test_a_full_read_keeps_what_was_built_from_pages_that_read_the_same(demo: None) -> None:
    kept = engine_build()
    pages = kept.of_pages("page_matrix", lambda: page_matrix(kept))
    reach = kept.of_pages("page_reach", lambda: page_reach(kept))
    again = snapshot.read_again(kept)
    assert again is not kept
    assert again.of_pages("page_matrix", lambda: page_matrix(again)) is pages
    assert again.of_pages("page_reach", lambda: page_reach(again)) is reach
    assert_same_pages(again, engine_build())


@pytest.mark.django_db
@pytest.mark.parametrize("change", ["weight", "tag removed", "unpublished", "settings", "taxonomy"])
def test_a_full_read_builds_the_pages_again_after_a_change_behind_the_plugins_back(
    demo: None, change: str, settings: Any
) -> None:
    """A page tag's weight changed or a tag removed by queryset (no signal), a page unpublished the same way, or
    the settings that weigh page tags or the taxonomy changed: the page matrix is built again."""
    kept = engine_build()
    pages = kept.of_pages("page_matrix", lambda: page_matrix(kept))
    first = PageTag.objects.filter(page__published=True).order_by("pk").first()
    assert first is not None
    if change == "weight":
        PageTag.objects.filter(pk=first.pk).update(weight=first.weight / 2)
    elif change == "tag removed":
        PageTag.objects.filter(pk=first.pk).delete()
    elif change == "unpublished":
        ContentPage.objects.filter(pk=first.page_id).update(published=False)
    elif change == "settings":
        settings.RECOMMENDER = {**settings.RECOMMENDER, "AVOID_SUBJECT_WEIGHT": 0.9}
    else:
        Synonym.objects.bulk_create([Synonym(tag=tag("magnesium"), text="magnesium glycinate complex")])
    again = snapshot.read_again(kept)
    assert again.of_pages("page_matrix", lambda: page_matrix(again)) is not pages
    assert_same_pages(again, engine_build())


@pytest.mark.django_db
def test_a_full_read_after_a_taxonomy_change_builds_every_row(demo: None) -> None:
    """A synonym added directly (the lexicon changes) and a tag's caution changed (the cautions change)."""
    kept = engine_build()
    Synonym.objects.bulk_create([Synonym(tag=tag("magnesium"), text="magnesium glycinate complex")])
    Tag.objects.filter(slug="zinc").update(caution="Take with food.")
    rebuilt = engine_rebuilt(kept)
    assert rebuilt.lexicon is not kept.lexicon
    assert rebuilt.taxonomy is not None and rebuilt.taxonomy.rows != kept.taxonomy.rows
    assert_same(rebuilt, engine_build())


@pytest.mark.django_db
def test_a_full_read_that_finds_most_products_changed_builds_their_rows_anew(demo: None) -> None:
    kept = engine_build()
    Product.objects.filter(pk__in=kept.row_of).update(in_stock=False)
    rebuilt = engine_rebuilt(kept)
    assert rebuilt.lexicon is kept.lexicon and not rebuilt.available.any()
    assert_same(rebuilt, engine_build())


def test_a_worker_process_builds_its_engine_as_it_starts(
    transactional_db: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`worker_process_init` runs `keep_and_warm`: the first refresh after a start uses the engine built then, with
    the pages' data built too."""
    redis = fakeredis.FakeRedis()
    monkeypatch.setattr(dirty, "redis_client", lambda: redis)
    call_command("load_demo", verbosity=0)
    Recommendation.objects.all().delete()
    RelatedState.objects.all().delete()
    try:
        snapshot.keep_and_warm()
        kept = snapshot._kept
        assert kept is not None
        assert snapshot.engine_for() is kept.engine
        # and what the first drain asks of the pages, scored with and storing nothing
        assert len(kept.engine.ids) and kept.engine.built_of_pages("page_reach") is not None
        assert kept.engine.built_of_pages("page_matrix") is not None
        assert not Recommendation.objects.exists() and not RelatedState.objects.exists()
    finally:
        snapshot.keep_engines(False)


def test_a_failed_warm_start_leaves_the_first_refresh_to_build(
    transactional_db: None, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    redis = fakeredis.FakeRedis()
    monkeypatch.setattr(dirty, "redis_client", lambda: redis)

    def database_away() -> Engine:
        raise OperationalError("connection refused")

    monkeypatch.setattr(snapshot, "engine_build", database_away)
    try:
        snapshot.keep_and_warm()  # no error: the worker still starts
        assert snapshot._kept is None
        assert "could not build the engine" in caplog.text
    finally:
        snapshot.keep_engines(False)


@pytest.mark.django_db
def test_a_lost_drain_log_never_leaves_a_kept_engine_stale(demo: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """Redis flushed (or restarted without persistence): drain numbers start again, in a new epoch."""
    redis = fakeredis.FakeRedis()
    monkeypatch.setattr(dirty, "redis_client", lambda: redis)
    snapshot.keep_engines()
    try:
        for _ in range(3):
            dirty.pop_dirty()
        kept = snapshot.engine_for()  # reflects drains 1 to 3
        redis.flushdb()
        product = Product.objects.filter(pk__in=kept.row_of, in_stock=True).order_by("pk").first()
        assert product is not None
        Product.objects.filter(pk=product.pk).update(in_stock=False)
        redis.sadd(dirty.dirty_key("products"), product.pk)
        assert dirty.pop_dirty().number == 1  # taken by a drain in another process
        for _ in range(3):
            dirty.pop_dirty()  # drain 4 is past the kept engine's 3, but of another log
        engine = snapshot.engine_for()
        assert not engine.available[engine.row_of[product.pk]]
    finally:
        snapshot.keep_engines(False)


@pytest.mark.django_db
def test_an_engine_built_before_the_first_drain_is_patched_by_it(demo: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """A worker that starts on an empty Redis builds its engine before any drain: the log's epoch starts then,
    so the first drain patches that engine instead of making the worker build another."""
    redis = fakeredis.FakeRedis()
    monkeypatch.setattr(dirty, "redis_client", lambda: redis)
    snapshot.keep_engines()
    try:
        kept = snapshot.engine_for()
        product = drained_out_of_stock(redis, kept)
        engine = snapshot.engine_for()
        assert engine.lexicon is kept.lexicon  # patched, not built
        assert not engine.available[engine.row_of[product.pk]]
    finally:
        snapshot.keep_engines(False)


@pytest.mark.django_db
def test_what_an_engine_built_from_the_pages_is_kept_until_a_page_changes(
    demo: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The page matrix and the pages' reach (`Engine.of_pages`) go with the engine through drains that took only
    products (a stock feed), and are built again after a drain that took a page."""
    redis = fakeredis.FakeRedis()
    monkeypatch.setattr(dirty, "redis_client", lambda: redis)
    snapshot.keep_engines()
    try:
        kept = snapshot.engine_for()
        pages = kept.of_pages("page_matrix", lambda: page_matrix(kept))
        product = drained_out_of_stock(redis, kept)
        patched = snapshot.engine_for()
        assert patched is not kept and not patched.available[patched.row_of[product.pk]]
        assert patched.of_pages("page_matrix", lambda: page_matrix(patched)) is pages

        redis.sadd(dirty.dirty_key("pages"), ContentPage.objects.order_by("pk").values_list("pk", flat=True)[0])
        dirty.pop_dirty()
        again = snapshot.engine_for()
        assert again.of_pages("page_matrix", lambda: page_matrix(again)) is not pages
    finally:
        snapshot.keep_engines(False)


def test_a_log_entry_that_does_not_say_whether_pages_changed_counts_as_one_that_did(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Entries written before entries said so (a worker of the previous version drained them)."""
    redis = fakeredis.FakeRedis()
    monkeypatch.setattr(dirty, "redis_client", lambda: redis)
    redis.set(dirty.log_key(1), b'{"epoch": "e", "all": false, "products": [7]}')
    redis.set(dirty.log_key(2), b'{"epoch": "e", "all": false, "pages": false, "products": [8]}')
    assert dirty.changes_between("e", 1, 2) == dirty.Changes({7, 8}, pages=True)
    assert dirty.changes_between("e", 2, 2) == dirty.Changes({8}, pages=False)


@pytest.mark.django_db
def test_a_worker_starting_on_an_empty_store_warms_without_error() -> None:
    """A new install: no pages, no products; the warm start scores nothing and raises nothing."""
    engine = engine_build()
    engine_warmed(engine)
    assert engine.built_of_pages("page_reach") is not None
