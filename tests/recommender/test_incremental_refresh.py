"""Incremental refresh equals a full refresh (DESIGN.md sections 4-5).

A Hypothesis state machine makes real writes through the services and models: product tags,
stock, placements, page text, new pages, manual page tags and taxonomy strengths. Each write runs
inside `django_capture_on_commit_callbacks(execute=True)`, so the after-commit announcements run
and, with eager Celery, refresh exactly what the change touches. After every step every page's
stored list must equal what a from-scratch computation gives now.

Each example starts from the demo data: the machine takes a savepoint when it is created and rolls
back to it in `teardown`. Product-page lists are refreshed too (by neighbourhood) and checked the
same way: stored related products equal a from-scratch computation.

`test_known_miss` replays, step by step, the smallest sequences the machine once found that left a
page stale (a product change refreshed too few pages); they stay as regression tests.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

import fakeredis
import pytest
from django.core.cache import cache
from django.db import transaction
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from recommender import dirty
from recommender.models import (
    ContentPage,
    PageTag,
    Placement,
    Recommendation,
    RelatedState,
    Tag,
    TagRelation,
)
from recommender.services import snapshot
from recommender.services.engine import Engine
from recommender.services.engine_build import engine_build, engine_patch
from recommender.services.pages import page_upsert
from recommender.services.products import product_update
from recommender.services.refresh import page_compute
from recommender.services.related import page_matrix, related_compute
from recommender.services.tagging import product_tags_set
from shop.catalog.models import Product

Capture = Callable[..., AbstractContextManager[Any]]

# HYPOTHESIS_EXAMPLES=60 HYPOTHESIS_RANDOM=1 runs a longer random search locally.
MACHINE_SETTINGS = settings(
    max_examples=int(os.environ.get("HYPOTHESIS_EXAMPLES", "8")),
    stateful_step_count=12,
    deadline=None,
    derandomize=not os.environ.get("HYPOTHESIS_RANDOM"),
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# Sentences that carry a health context, so that a page naming only a nutrient still counts.
FILLER = (
    "Ask a clinician before you start a new supplement.",
    "Dietary intake varies from person to person.",
    "Many readers ask how this fits into a balanced diet.",
    "Symptoms differ, and blood tests tell more than guesses.",
)
# How a tag name is used in a sentence; the last one speaks against the tag.
MENTIONS = (
    "{name} comes up often.",
    "Some people take {name} with dinner.",
    "Avoid extra {name} unless your doctor advises it.",
)

relevances = st.sampled_from([0.15, 0.4, 0.7, 1.0])
positions = st.integers(min_value=1, max_value=3)
factors = st.sampled_from([0.5, 2.0, 5.0])
indexes = st.integers(min_value=0, max_value=15)  # into the current pages or placements, modulo their number


def stored_rows(page: ContentPage) -> list[tuple[int, int, float]]:
    return list(Recommendation.objects.filter(page=page).order_by("rank").values_list("product_id", "rank", "score"))


def mismatches() -> list[str]:
    """Pages whose stored list differs from a from-scratch computation, described."""
    engine = engine_build()
    problems = []
    for page in ContentPage.objects.order_by("pk"):
        stored = stored_rows(page)
        expected = page_compute(page=page, engine=engine)
        want = [(item.product_id, item.rank) for item in expected]
        have = [(product_id, rank) for product_id, rank, _ in stored]
        if want != have:
            problems.append(f"{page.slug}: stored {have} != full {want}")
            continue
        for item, (_, _, score) in zip(expected, stored, strict=True):
            if abs(item.score - score) > 1e-4:
                problems.append(f"{page.slug}: product {item.product_id} scored {score} != full {item.score}")
    ids = sorted(engine.row_of)
    for product_id, lists in related_compute(engine, page_matrix(engine), ids).items():
        stored = RelatedState.objects.filter(product_id=product_id).values_list("related_ids", "page_ids").first()
        have, have_pages = stored or ([], [])
        if lists.related_ids != have:
            problems.append(f"related products of {product_id}: stored {have} != full {lists.related_ids}")
        want_pages = lists.page_ids
        if want_pages != have_pages:
            problems.append(f"related articles of {product_id}: stored {have_pages} != full {want_pages}")
    return problems


def machine_class(capture: Capture) -> type[RuleBasedStateMachine]:
    """The state machine over the demo data as it is now (products and tags are sampled from it)."""
    skus = list(Product.objects.order_by("pk").values_list("sku", flat=True))
    all_tags = list(Tag.objects.order_by("slug"))
    relations = [(r.source.slug, r.target.slug) for r in TagRelation.objects.select_related("source", "target")]
    products = st.sampled_from(skus)
    # Conditions and forms are where expansion moves weight between tags, so they get a fair share.
    expanding = [t.slug for t in all_tags if t.kind in {Tag.Kind.CONDITION, Tag.Kind.SYMPTOM, Tag.Kind.FORM}]
    tags = st.one_of(st.sampled_from(expanding), st.sampled_from([t.slug for t in all_tags]))

    class IncrementalRefresh(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.savepoint = transaction.savepoint()
            self.new_pages = 0

        def teardown(self) -> None:
            transaction.savepoint_rollback(self.savepoint)
            cache.clear()
            snapshot.forget()  # the rollback is a change nobody announces

        def write(self) -> AbstractContextManager[Any]:
            """A write whose after-commit announcements (and so the eager refreshes) run at its end."""
            return capture(execute=True)

        @staticmethod
        def page(index: int) -> ContentPage:
            pages = list(ContentPage.objects.order_by("pk"))
            return pages[index % len(pages)]

        @staticmethod
        def page_text(names: list[str], mentions: list[str], filler: str) -> tuple[str, str]:
            words = [Tag.objects.get(slug=slug).name for slug in names]
            sentences = [m.format(name=w) for m, w in zip(mentions, words, strict=False)]
            return f"About {words[0]}", " ".join([*sentences, filler])

        @rule(sku=products, chosen=st.dictionaries(tags, relevances, max_size=3))
        def set_product_tags(self, sku: str, chosen: dict[str, float]) -> None:
            product = Product.objects.get(sku=sku)
            by_slug = Tag.objects.in_bulk(list(chosen), field_name="slug")
            with self.write():
                product_tags_set(product=product, tags=[(by_slug[s], r) for s, r in chosen.items()])

        @rule(sku=products)
        def toggle_stock(self, sku: str) -> None:
            product = Product.objects.get(sku=sku)
            with self.write():
                product_update(product=product, data={"in_stock": not product.in_stock})

        @rule(page=indexes, sku=products, position=positions)
        def pin_on_page(self, page: int, sku: str, position: int) -> None:
            product = Product.objects.get(sku=sku)
            with self.write():
                Placement.objects.create(
                    page=self.page(page), product=product, action=Placement.Action.PIN, position=position
                )

        @rule(
            page=indexes,
            sku=products,
            action=st.sampled_from([Placement.Action.EXCLUDE, Placement.Action.BOOST, Placement.Action.BURY]),
            factor=factors,
        )
        def rule_on_page(self, page: int, sku: str, action: str, factor: float) -> None:
            product = Product.objects.get(sku=sku)
            with self.write():
                Placement.objects.create(page=self.page(page), product=product, action=action, factor=factor)

        @rule(
            slug=tags, sku=products, action=st.sampled_from(list(Placement.Action)), position=positions, factor=factors
        )
        def rule_on_tag(self, slug: str, sku: str, action: str, position: int, factor: float) -> None:
            product = Product.objects.get(sku=sku)
            with self.write():
                Placement.objects.create(
                    tag=Tag.objects.get(slug=slug),
                    product=product,
                    action=action,
                    position=position if action == Placement.Action.PIN else None,
                    factor=factor,
                )

        @rule(index=indexes)
        def delete_placement(self, index: int) -> None:
            placements = list(Placement.objects.order_by("pk"))
            if placements:
                with self.write():
                    placements[index % len(placements)].delete()

        @rule(
            page=indexes,
            names=st.lists(tags, min_size=1, max_size=3),
            mentions=st.lists(st.sampled_from(MENTIONS), min_size=3, max_size=3),
            filler=st.sampled_from(FILLER),
        )
        def edit_page(self, page: int, names: list[str], mentions: list[str], filler: str) -> None:
            current = self.page(page)
            title, text = self.page_text(names, mentions, filler)
            with self.write():
                page_upsert(url=current.url, title=title, text=text, source=current.source, published=current.published)

        @rule(
            names=st.lists(tags, min_size=1, max_size=3),
            mentions=st.lists(st.sampled_from(MENTIONS), min_size=3, max_size=3),
            filler=st.sampled_from(FILLER),
        )
        def create_page(self, names: list[str], mentions: list[str], filler: str) -> None:
            self.new_pages += 1
            title, text = self.page_text(names, mentions, filler)
            with self.write():
                page_upsert(
                    url=f"/hypothesis/{self.new_pages}/", slug=f"hypothesis-{self.new_pages}", title=title, text=text
                )

        @rule(page=indexes, slug=tags, weight=st.sampled_from([-0.5, 0.3, 1.0]))
        def manual_page_tag(self, page: int, slug: str, weight: float) -> None:
            with self.write():
                PageTag.objects.update_or_create(
                    page=self.page(page),
                    tag=Tag.objects.get(slug=slug),
                    defaults={"weight": weight, "source": PageTag.Source.MANUAL, "mentions": 0},
                )

        @rule(relation=st.sampled_from(relations), strength=st.sampled_from([0.0, 0.3, 1.0]))
        def relation_strength(self, relation: tuple[str, str], strength: float) -> None:
            row = TagRelation.objects.get(source__slug=relation[0], target__slug=relation[1])
            row.strength = strength
            with self.write():
                row.save()

        @invariant()
        def incremental_equals_full(self) -> None:
            problems = mismatches()
            assert not problems, "\n".join(problems)

    return IncrementalRefresh


def test_incremental_refresh_equals_full_refresh(demo: None, django_capture_on_commit_callbacks: Capture) -> None:
    """The machine's fixed (derandomized) examples do not reach the known miss; a longer random run
    does (one of 60 random examples: a page edited to name only ferrous fumarate, then a product
    newly tagged ionic iron). See `test_known_miss`."""
    assert not mismatches(), "the demo fixture's full refresh is the baseline"
    run_state_machine_as_test(machine_class(django_capture_on_commit_callbacks), settings=MACHINE_SETTINGS)


def test_incremental_refresh_with_a_kept_engine_equals_full_refresh(
    demo: None, django_capture_on_commit_callbacks: Capture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same machine with a Redis for the dirty sets and the drain log: every drain brings the engine it
    kept up to date from the log (`snapshot.engine_for`) instead of building one, as a worker does."""
    redis = fakeredis.FakeRedis()
    monkeypatch.setattr(dirty, "redis_client", lambda: redis)
    patches: list[int] = []

    def counted(engine: Engine, product_ids: Any) -> Engine:
        patches.append(len(product_ids))
        return engine_patch(engine, product_ids)

    monkeypatch.setattr(snapshot, "engine_patch", counted)
    snapshot.keep_engines()  # as in a Celery worker process
    try:
        run_state_machine_as_test(machine_class(django_capture_on_commit_callbacks), settings=MACHINE_SETTINGS)
    finally:
        snapshot.keep_engines(False)
    assert patches, "no drain patched a kept engine"


def test_a_process_that_is_not_a_worker_keeps_no_engine(demo: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """A web process (the admin's "refresh" button) builds an engine per refresh and lets it go."""
    redis = fakeredis.FakeRedis()
    monkeypatch.setattr(dirty, "redis_client", lambda: redis)
    first = snapshot.engine_for()
    assert snapshot.engine_for() is not first
    assert snapshot._kept is None


def replay(capture: Capture, steps: list[tuple[str, dict[str, Any]]]) -> list[str]:
    """Run these machine steps, checking the invariant after each; the mismatches after the last."""
    machine = machine_class(capture)()
    try:
        for number, (name, kwargs) in enumerate(steps, start=1):
            if stale := mismatches():
                pytest.fail(f"already stale before step {number}: {stale}")  # not the known miss
            getattr(machine, name)(**kwargs)
        return mismatches()
    finally:
        machine.teardown()


def about(slug: str) -> dict[str, Any]:
    """A new page that names only this tag."""
    return {"names": [slug], "mentions": [MENTIONS[0]], "filler": FILLER[0]}


@pytest.mark.parametrize(
    "steps",
    [
        # Collagen (no tags) tagged with a condition: it now scores on every magnesium page through
        # magnesium-deficiency -> magnesium, but only pages tagged magnesium-deficiency are refreshed.
        pytest.param(
            [("set_product_tags", {"sku": "VN-COLL-300", "chosen": {"magnesium-deficiency": 1.0}})], id="condition-tag"
        ),
        # A page that names only ferrous fumarate (a form of iron); fish oil gets ionic iron (another form):
        # both expand to iron, but the page has no iron or ionic-iron row, so it is not refreshed.
        pytest.param(
            [
                ("create_page", about("ferrous-fumarate")),
                ("set_product_tags", {"sku": "NP-FISH-120", "chosen": {"ionic-iron": 1.0}}),
            ],
            id="sibling-form-tag",
        ),
        # A page about magnesium citrate lists magnesium glycinate; out of stock it drops off (the page
        # lists it, so it is refreshed), back in stock it does not come back (the page is not found).
        pytest.param(
            [
                ("create_page", about("magnesium-citrate")),
                ("toggle_stock", {"sku": "VN-MGG-120"}),
                ("toggle_stock", {"sku": "VN-MGG-120"}),
            ],
            id="back-in-stock",
        ),
        # The restless legs article's full list ends with a magnesium product over its cap; folate tagged with
        # a little vitamin B12 scores below every listed product, yet the cap holds it, so it goes ahead of that
        # one: a full list's lowest score bounds what enters only while nothing listed is over its cap.
        pytest.param(
            [("set_product_tags", {"sku": "TM-FOL-60", "chosen": {"cyanocobalamin": 0.15}})], id="over-the-cap"
        ),
    ],
)
def test_known_miss(
    demo: None,
    django_capture_on_commit_callbacks: Capture,
    steps: list[tuple[str, dict[str, Any]]],
) -> None:
    problems = replay(django_capture_on_commit_callbacks, steps)
    assert not problems, "\n".join(problems)
