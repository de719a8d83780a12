"""An engine's candidates per page, found in blocks with floors, are what ranking the whole catalog finds."""

from __future__ import annotations

import numpy as np
import pytest
from django.test import override_settings
from hypothesis import given, settings
from hypothesis import strategies as st

from bench.store import seed_pages, seed_products
from recommender.models import ContentPage, PageTag, Placement, ProductTag, Tag
from recommender.scoring.explain import explain_many
from recommender.scoring.related import best, sparse_columns, sparse_rows
from recommender.services.engine import Engine, tag_ordered_dot
from recommender.services.engine_build import engine_build
from recommender.services.refresh import page_inputs, pages_compute
from shop.catalog.models import Product


@pytest.fixture
def skewed_store(demo: None) -> None:
    """The demo (pages of every kind: iron, advice against a nutrient, a product line) and the benchmarks'
    skewed synthetic catalog: many products hold the same one or two tags, so scores tie at every edge."""
    seed_products(400, seed=5)
    seed_pages(60, seed=6)


@pytest.mark.django_db
@pytest.mark.parametrize("candidates", [1, 3, 8, 40])
def test_candidates_are_the_best_allowed_products_of_the_whole_catalog(skewed_store, candidates):
    """Pages that only stock limits take the one-pass way through `candidates_many`, the others the per-page
    way; both find what ranking the whole catalog finds, ties at the edge included."""
    every_fifth = list(Product.objects.order_by("pk").values_list("pk", flat=True))[::5]
    Product.objects.filter(pk__in=every_fifth).update(in_stock=False)
    engine = engine_build()
    pages = list(ContentPage.objects.filter(pk__in=PageTag.objects.values("page_id")).order_by("pk"))
    inputs = page_inputs([p.pk for p in pages])
    prepared = engine.prepare_many([inputs[p.pk].weights for p in pages], [inputs[p.pk].advised for p in pages])
    assert any(engine.only_stock_rules(p) for p in prepared)
    assert any(not engine.only_stock_rules(p) for p in prepared)
    assert engine.over_limit.any() and not engine.over_limit.all()
    with override_settings(RECOMMENDER={"CANDIDATES": candidates}):
        found = engine.candidates_many(prepared, [[] for _ in pages], limit=0)
        for p, rows in zip(prepared, found, strict=True):
            every = np.arange(len(engine.ids), dtype=np.intp)
            # Guarded products against the whole page, the others against the page without guarded nutrients.
            scores = np.where(engine.guarded_rows(p.subject), p.matrix @ p.page, p.matrix @ p.open_page)
            # A serving over an upper limit costs its product DOSE_PENALTY, as ranking counts it.
            scores = np.where(engine.over_limit, scores * engine.params(1).dose_penalty, scores)
            keep = engine.allowed(p, every) & (scores > 0) & (scores >= engine.params(1).min_score)
            expected, _ = best(every[keep], scores[keep].astype(np.float32), engine.ids, candidates)
            assert sorted(rows.tolist()) == sorted(expected.tolist())


@pytest.fixture
def deep_store(demo: None) -> None:
    """The skewed synthetic catalog at a size where the best ten times a list's length of a magnesium page are
    all magnesium products: its other nutrients are deep down."""
    seed_products(1500, seed=7)
    seed_pages(30, seed=8)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "caps",
    [
        {"MAX_PER_NUTRIENT": 3, "MAX_PER_BRAND": 0},  # the defaults
        {"MAX_PER_NUTRIENT": 1, "MAX_PER_BRAND": 2},
        {"MAX_PER_NUTRIENT": 0, "MAX_PER_BRAND": 1},
    ],
)
@pytest.mark.parametrize("limit", [3, 8, 20])
def test_lists_from_candidates_are_the_lists_of_ranking_the_whole_catalog(deep_store, caps, limit):
    """The diversity caps let a product far below the best `CANDIDATES` into a list (its nutrient and brand not
    yet capped): the candidates hold the best of each group the caps count, so ranking them gives the list
    that ranking every product gives. Guarded products (iron) and over-limit ones are among them."""
    every_seventh = list(Product.objects.order_by("pk").values_list("pk", flat=True))[::7]
    Product.objects.filter(pk__in=every_seventh).update(in_stock=False)
    engine = engine_build()
    assert engine.guard_count.any() and engine.over_limit.any()
    pages = list(ContentPage.objects.filter(pk__in=PageTag.objects.values("page_id")).order_by("pk"))
    # Rules drop or move the best of a group on some pages: an exclude, a bury, a boost, a pin.
    first = {pk: items[0].product_id for pk, items in pages_compute(pages, engine, limit=limit).items() if items}
    actions = ["exclude", "bury", "boost", "pin"]
    Placement.objects.bulk_create(
        Placement(page_id=pk, product_id=product_id, action=action, position=2, factor=0.1)
        for (pk, product_id), action in zip(list(first.items())[:8], actions * 2, strict=False)
    )
    engine = engine_build()
    with override_settings(RECOMMENDER={"CANDIDATES": 1, **caps}):  # ten times the limit
        assert len(engine.ids) > 4 * 10 * limit
        lists = pages_compute(pages, engine, limit=limit)
    with override_settings(RECOMMENDER={"CANDIDATES": len(engine.ids), **caps}):
        whole = pages_compute(pages, engine, limit=limit)
    assert sum(len(items) for items in whole.values()) > len(pages)
    assert lists == whole


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.lists(st.floats(0, 1, width=32), min_size=9, max_size=9), min_size=1, max_size=30),
    st.lists(st.floats(0, 1, width=32), min_size=9, max_size=9),
    st.randoms(use_true_random=False),
)
def test_ranking_sums_each_score_as_the_candidates_sparse_product_does(rows, weights, random) -> None:
    """Equal product rows score equally wherever they sit (so ties break by id), and exactly as the sparse
    product that chose the candidates: a candidate's score and its ranked score are one number."""
    matrix = np.array(rows + rows, dtype=np.float32)  # every row twice
    order = list(range(len(matrix)))
    random.shuffle(order)
    matrix = matrix[order]
    page = np.array(weights, dtype=np.float32)
    named = np.flatnonzero(page)
    found = tag_ordered_dot(matrix[:, named], page[named])
    sparse_scores = (sparse_rows(page[np.newaxis, :]) @ sparse_columns(matrix)).toarray()[0]
    assert found.tobytes() == sparse_scores.astype(np.float32).tobytes()
    by_row: dict[bytes, float] = {}
    for row, score in zip(matrix, found.tolist(), strict=True):
        assert by_row.setdefault(row.tobytes(), score) == score


@pytest.mark.django_db
@pytest.mark.parametrize(
    "caps", [{"MAX_PER_NUTRIENT": 3, "MAX_PER_BRAND": 0}, {"MAX_PER_NUTRIENT": 0, "MAX_PER_BRAND": 2}]
)
def test_pages_ranked_together_are_ranked_as_the_rules_rank_each(deep_store, caps, monkeypatch) -> None:
    """Most pages are ranked together in array passes (`Engine.ranked_together`); they get the lists `rank`
    gives each page on its own, guarded products (iron) among their candidates included."""
    # Pages where iron products score near the top without being the page's subject: the guarded rule moves them.
    tags = {t.slug: t for t in Tag.objects.filter(slug__in=["iron", "magnesium"])}
    for n in range(3):  # iron with magnesium, as much of each
        product = Product.objects.create(sku=f"FE-MG-{n}", slug=f"fe-mg-{n}", name=f"Iron and magnesium {n}", price=9)
        for slug in ("iron", "magnesium"):
            ProductTag.objects.create(product=product, tag=tags[slug], relevance=1.0, status=ProductTag.Status.APPROVED)
    for n, weight in enumerate([0.99, 0.9, 0.6]):
        page = ContentPage.objects.create(slug=f"iron-{n}", url=f"/iron-{n}/", title="Iron", text="Iron.")
        PageTag.objects.create(page=page, tag=tags["magnesium"], weight=1.0)
        PageTag.objects.create(page=page, tag=tags["iron"], weight=weight)
    engine = engine_build()
    pages = list(ContentPage.objects.filter(pk__in=PageTag.objects.values("page_id")).order_by("pk"))
    with override_settings(RECOMMENDER=caps):
        together = pages_compute(pages, engine, limit=8)
        monkeypatch.setattr(Engine, "ranks_plainly", lambda *args: False)
        one_by_one = pages_compute(pages, engine, limit=8)
    assert together == one_by_one
    assert sum(bool(items) for items in together.values()) > len(pages) / 2


@pytest.mark.django_db
def test_scores_that_chose_the_candidates_are_the_scores_ranking_gives_them(deep_store) -> None:
    """Pages that only stock limits are ranked with the scores their candidates were chosen by (not worked out
    again): byte for byte what `candidate_scores` gives each page's candidates."""
    Product.objects.filter(pk__in=list(Product.objects.order_by("pk").values_list("pk", flat=True))[::9]).update(
        in_stock=False
    )
    engine = engine_build()
    assert engine.over_limit.any()
    pages = list(ContentPage.objects.filter(pk__in=PageTag.objects.values("page_id")).order_by("pk"))
    inputs = page_inputs([p.pk for p in pages])
    prepared = engine.prepare_many([inputs[p.pk].weights for p in pages], [inputs[p.pk].advised for p in pages])
    given = 0
    for p, (rows, scores) in zip(
        prepared, engine.scored_candidates_many(prepared, [[] for _ in pages], 8), strict=True
    ):
        assert np.all(np.diff(rows) > 0)  # in row order
        if scores is not None:
            given += 1
            assert scores.tobytes() == engine.candidate_scores(p, rows).tobytes()
    assert given >= len(pages) // 3  # the pages that only stock limits


@pytest.mark.django_db
def test_items_explained_together_are_explained_as_each_page_alone(skewed_store) -> None:
    """A chunk's items are explained in one sparse pass over pages of both matrices (a page naming a product line
    scores against the product matrix, the others against the plain one): each item gets the reasons that its own
    vector times its page's gives it, worked out page by page."""
    engine = engine_build()
    pages = list(ContentPage.objects.filter(pk__in=PageTag.objects.values("page_id")).order_by("pk"))
    inputs = page_inputs([p.pk for p in pages])
    prepared = engine.prepare_many([inputs[p.pk].weights for p in pages], [inputs[p.pk].advised for p in pages])
    assert {p.matrix is engine.products for p in prepared} == {True, False}  # both matrices in one chunk
    lists = pages_compute(pages, engine, limit=8)
    explained = 0
    for page, p in zip(pages, prepared, strict=True):
        items = lists[page.pk]
        rows = [engine.row_of[item.product_id] for item in items]
        alone = explain_many(engine.space, p.weights, p.page, p.matrix[rows])
        assert [item.reasons for item in items] == alone
        explained += sum(bool(item.reasons) for item in items)
    assert explained > len(pages)
