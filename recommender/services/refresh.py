"""The one refresh service: recompute and store page lists and product-page lists.

`recommendations_refresh` is what tasks, the command, beat, the admin and eager mode all call. It
builds the engine once, loads every page's inputs in a few queries, scores in blocks, and writes
only the lists that changed (compared by a hash), in bulk, one transaction per chunk. Given changed
page or product ids it first widens them to their neighbourhood: the pages whose expanded tags meet
a changed product's, and the products whose related lists can change.
"""

from __future__ import annotations

import gc
import logging
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import numpy as np
from django.core.cache import cache
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from recommender import metrics
from recommender.adapters import get_adapter, ids_filter, rows_of_ids
from recommender.cachekeys import list_cache_keys
from recommender.conf import recommender_settings
from recommender.fingerprint import fingerprint
from recommender.models import (
    ArticleLink,
    ContentPage,
    PageState,
    PageTag,
    Placement,
    Recommendation,
    RelatedState,
)
from recommender.scoring.rank import Rule
from recommender.scoring.related import sparse_rows
from recommender.services.bulk import relaxed_commit, rows_insert, rows_update, stored_ids
from recommender.services.engine import Engine, Item, PageQuery
from recommender.services.pages import content_hash, page_analyse, page_extract
from recommender.services.related import (
    active_links,
    links_in_force,
    lists_holding,
    page_matrix,
    page_reach,
    related_compute,
    related_store,
)
from recommender.services.snapshot import engine_for
from recommender.signals import recommendations_changed

logger = logging.getLogger(__name__)
CHUNK = 500
RECOMMENDATION_FIELDS = (
    "page_id", "product_id", "rank", "score", "reasons", "cautions", "link_params", "generation", "computed_at",
)  # fmt: skip


@dataclass
class RefreshSummary:
    """What one refresh did, for the command, the logs and the benchmarks."""

    pages: int = 0
    items: int = 0
    empty: int = 0
    written: int = 0
    products: int = 0
    products_written: int = 0
    timings: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class PageInput:
    """Everything a page's list depends on besides the engine."""

    weights: dict[str, float]
    advised: frozenset[str]
    rules: list[Rule]


# ---------------------------------------------------------------- inputs, loaded in bulk


def in_force(now: object) -> Q:
    return (Q(starts_at__isnull=True) | Q(starts_at__lte=now)) & (Q(ends_at__isnull=True) | Q(ends_at__gt=now))


def page_inputs(ids: Sequence[int]) -> dict[int, PageInput]:
    """Weights, advice and rules of these pages in four queries."""
    weights: dict[int, dict[str, float]] = {pk: {} for pk in ids}
    advised: dict[int, set[str]] = defaultdict(set)
    tags = PageTag.objects.filter(ids_filter("page_id", ids))
    rows = tags.values_list("page_id", "tag__slug", "weight", "advised_against")
    for page_id, slug, weight, against in rows:
        weights[page_id][slug] = weight
        if against:
            advised[page_id].add(slug)
    now = timezone.now()
    by_page: dict[int, list[Placement]] = defaultdict(list)
    by_tag: dict[str, list[Placement]] = defaultdict(list)
    placements = Placement.objects.filter(in_force(now)).filter(ids_filter("page_id", ids) | Q(page__isnull=True))
    for p in placements.select_related("tag").order_by("id"):
        if p.page_id:
            by_page[p.page_id].append(p)
        elif p.tag is not None:
            by_tag[p.tag.slug].append(p)
    links: dict[int, list[ArticleLink]] = defaultdict(list)
    for link in ArticleLink.objects.filter(active_links(), ids_filter("page_id", ids)).order_by("position", "pk"):
        links[link.page_id].append(link)
    inputs = {}
    for pk in ids:
        positive = {slug for slug, w in weights[pk].items() if w > 0}
        placed = sorted(
            by_page[pk] + [p for slug in sorted(positive) for p in by_tag.get(slug, [])], key=lambda p: p.pk
        )
        rules = [placement_rule(p) for p in dict.fromkeys(placed)]
        rules += [link_rule(link) for link in links[pk]]
        inputs[pk] = PageInput(weights[pk], frozenset(advised[pk]), rules)
    return inputs


def pages_with_rules(ids: Sequence[int]) -> set[int]:
    """Which of these pages have a rule in force (`page_inputs`' rules: a placement on the page or on a tag
    it names, a link to it), in three small queries instead of reading every page's tags."""
    now = timezone.now()
    placements = Placement.objects.filter(in_force(now))
    ruled = set(placements.filter(page_id__in=ids).values_list("page_id", flat=True))
    tags = placements.filter(page__isnull=True, tag__isnull=False).values_list("tag_id", flat=True)
    named = PageTag.objects.filter(page_id__in=ids, tag_id__in=list(tags), weight__gt=0)
    ruled |= set(named.values_list("page_id", flat=True))
    ruled |= set(ArticleLink.objects.filter(active_links(), page_id__in=ids).values_list("page_id", flat=True))
    return ruled


def placement_rule(p: Placement) -> Rule:
    utm = {"utm_source": p.utm_source, "utm_medium": p.utm_medium, "utm_campaign": p.utm_campaign or p.campaign}
    return Rule(p.product_id, p.action, p.position, p.factor, tuple((k, v) for k, v in utm.items() if v))


def link_rule(link: ArticleLink) -> Rule:
    params = (("utm_campaign", link.campaign),) if link.campaign else ()
    return Rule(link.product_id, "pin", link.position, link_params=params)


def pages_analyse(pages: Sequence[ContentPage], engine: Engine) -> None:
    """Analyse the pages whose text changed since their last analysis (usually none); the engine's data of
    the pages (`Engine.of_pages`) is built again after any did."""
    stale = [p for p in pages if not p.analysed_at or p.content_hash != content_hash(p.title, p.text)]
    for page in stale:
        page_analyse(page=page, lexicon=engine.lexicon)
    if stale:
        engine.forget_pages()


# ---------------------------------------------------------------- computing


def page_compute(*, page: ContentPage, engine: Engine, limit: int | None = None) -> list[Item]:
    """The list a page would show now; writes nothing (a page whose text changed is analysed in memory)."""
    if not page.published:
        return []
    data = page_inputs([page.pk])[page.pk]
    weights, advised = data.weights, data.advised
    if not page.analysed_at or page.content_hash != content_hash(page.title, page.text):
        found = page_extract(engine.lexicon, title=page.title, text=page.text)
        manual = PageTag.objects.filter(page=page, source=PageTag.Source.MANUAL).values_list("tag__slug", "weight")
        weights = {**{slug: tw.weight for slug, tw in found.items()}, **dict(manual)}
        advised = frozenset(slug for slug, tw in found.items() if tw.advised_against)
    limit = limit or recommender_settings.STORED_LIMIT
    return engine.compute(weights, advised=advised, rules=data.rules, limit=limit, campaign=page.slug)


def pages_compute(pages: Sequence[ContentPage], engine: Engine, *, limit: int | None = None) -> dict[int, list[Item]]:
    """Lists of analysed pages against one engine snapshot, scored as one block; unpublished pages get none."""
    inputs = page_inputs([p.pk for p in pages])
    published = [page for page in pages if page.published]
    queries = [
        PageQuery(inputs[p.pk].weights, inputs[p.pk].advised, tuple(inputs[p.pk].rules), p.slug) for p in published
    ]
    computed = engine.compute_many(queries, limit=limit or recommender_settings.STORED_LIMIT)
    lists: dict[int, list[Item]] = {page.pk: [] for page in pages}
    lists.update(zip((p.pk for p in published), computed, strict=True))
    return lists


# ---------------------------------------------------------------- storing


def list_hash(items: Sequence[Item], page: ContentPage) -> str:
    """A fingerprint of everything a served list shows, the page's own title and address included."""
    body: list[Any] = [(page.slug, page.title, page.url)]
    body += [(i.product_id, i.rank, i.score, i.reasons, i.cautions, i.link_params) for i in items]
    return fingerprint(body)


@transaction.atomic
def pages_store(lists: dict[int, list[Item]], pages: dict[int, ContentPage]) -> int:
    """Write the lists that differ from the stored ones, in bulk; returns how many were written.

    The pages' states are locked in id order (two workers never write one page at once, and never
    deadlock); readers see each page's old list or its new one, never half.
    """
    relaxed_commit(Recommendation)
    ids = sorted(lists)
    PageState.objects.bulk_create([PageState(page_id=pk) for pk in ids], ignore_conflicts=True)
    locked = PageState.objects.select_for_update().filter(ids_filter("page_id", ids)).order_by("page_id")
    states = {s.page_id: s for s in locked}
    now = timezone.now()
    # The stored rows as they are (a list whose rows were removed behind the service's back is rewritten
    # too), and which products they list, to announce only lists whose products changed. Only lists this
    # service wrote have rows: a first fill reads nothing.
    before = stored_ids(Recommendation, "page_id", "product_id", [pk for pk in ids if states[pk].computed_at])
    changed, written = [], []
    for pk in ids:
        state, digest = states[pk], list_hash(lists[pk], pages[pk])
        state.checked_at = now
        intact = len(before.get(pk, ())) == len(lists[pk])
        if state.list_hash == digest and state.computed_at is not None and intact:
            continue
        if state.computed_at is not None:
            written.append(pk)
        state.generation += 1
        state.computed_at, state.list_hash = now, digest
        changed.append(state)
    rows_update(
        PageState,
        "page_id",
        ["generation", "computed_at", "list_hash", "checked_at"],
        [(s.page_id, s.generation, s.computed_at, s.list_hash, s.checked_at) for s in states.values()],
    )
    if not changed:
        return 0
    changed_ids = [s.page_id for s in changed]
    if written:  # a first fill only inserts
        Recommendation.objects.filter(page_id__in=written).delete()
    rows_insert(
        Recommendation,
        RECOMMENDATION_FIELDS,
        [
            (s.page_id, i.product_id, i.rank, i.score, i.reasons, i.cautions, i.link_params, s.generation, now)
            for s in changed
            for i in lists[s.page_id]
        ],
    )
    keys = [key for s in changed for key in list_cache_keys(pages[s.page_id].slug)]
    transaction.on_commit(lambda: cache.delete_many(keys))
    for pk in changed_ids:
        after = [item.product_id for item in lists[pk]]
        if before.get(pk, []) != after:  # other products, or another order: announce after commit
            send = partial(recommendations_changed.send, sender=ContentPage, page=pages[pk], product_ids=after)
            transaction.on_commit(send)
    return len(changed)


# ---------------------------------------------------------------- neighbourhoods


def expanded_page_tags(engine: Engine, page_ids: Iterable[int] | None = None) -> tuple[list[int], np.ndarray]:
    """Page ids and a boolean matrix of the tags each page reaches after expansion (against tags too)."""
    rows: dict[int, dict[str, float]] = defaultdict(dict)
    tags = PageTag.objects.all() if page_ids is None else PageTag.objects.filter(page_id__in=list(page_ids))
    for page_id, slug, weight in tags.values_list("page_id", "tag__slug", "weight"):
        rows[page_id][slug] = abs(weight)
    ids = sorted(rows)
    if not ids:
        return [], np.zeros((0, engine.space.size), dtype=bool)
    raw = np.vstack([engine.space.vector(rows[pk]) for pk in ids])
    return ids, engine.space.expand(raw) > 0


def pages_for_products(engine: Engine, product_ids: Sequence[int]) -> set[int]:
    """Pages whose lists the products can enter (`pages_entered`), plus pages that list, pin or link them now.

    A product can appear on a page only where it scores at least the minimum score, by the scores the
    engine ranks with (against the whole page and against the page without guarded nutrients), and on a
    full list that ranks plainly only above its lowest listed score; every other list stays as it is. A
    product out of stock is never a candidate (not even pinned), so it can only leave the pages that list
    it: a stock feed's change reaches a handful of pages, not every page that shares a tag with the product.
    """
    rows = available_rows(engine, product_ids)
    found = pages_entered(engine, rows)
    found |= set(Recommendation.objects.filter(product_id__in=product_ids).values_list("page_id", flat=True))
    found |= set(ArticleLink.objects.filter(product_id__in=product_ids).values_list("page_id", flat=True))
    placed = Placement.objects.filter(product_id__in=product_ids)
    found |= set(placed.exclude(page__isnull=True).values_list("page_id", flat=True))
    tag_scoped = placed.filter(page__isnull=True, tag__isnull=False).values_list("tag_id", flat=True)
    found |= set(PageTag.objects.filter(tag_id__in=list(tag_scoped)).values_list("page_id", flat=True))
    return found


def available_rows(engine: Engine, product_ids: Sequence[int]) -> list[int]:
    """The engine rows of these products that can be listed anywhere (in stock)."""
    rows = (engine.row_of[i] for i in product_ids if i in engine.row_of)
    return [row for row in rows if engine.available[row]]


def pages_reached(engine: Engine, rows: list[int]) -> dict[int, float]:
    """Published pages where any of these product rows scores at least the minimum score, with the best
    score one of them can rank with there (the higher of its scores against the whole page and against the
    page without guarded nutrients; before any dose penalty)."""
    if not rows:
        return {}
    reach = engine.of_pages("page_reach", lambda: page_reach(engine))
    found: dict[int, float] = {}
    for lines, ids, whole, opened in reach.groups:
        matrix = engine.products if lines or engine.plain is None else engine.plain
        products = matrix[rows].T
        best = np.maximum(whole @ products, opened @ products).max(axis=1)
        at = np.flatnonzero(best >= recommender_settings.MIN_SCORE - 1e-6)
        found.update(zip((ids[j] for j in at), best[at].tolist(), strict=True))
    return found


def pages_entered(engine: Engine, rows: list[int]) -> set[int]:
    """Published pages whose lists these product rows can enter now (pages listing them are not asked about).

    A product enters a list only if it scores at least the minimum score there. A page whose stored list is
    full, ranks plainly (scores and one diversity cap alone: no rules, no nutrient held back) and lists
    nothing over its cap takes it only if it also scores at least the lowest listed score: with less, it
    ranks after every listed product, and it counts toward no listed product's cap, so the list stays as it
    is. (A list holding a product over its cap takes any product the cap holds, whatever its score.) A
    stock feed's change to a product listed nowhere therefore recomputes few pages, not every page that
    shares a tag with it.
    """
    reached = pages_reached(engine, rows)
    floors = entry_floors(engine, sorted(reached))
    tolerance = 1e-4  # stored scores are rounded to four places
    return {pk for pk, score in reached.items() if score >= floors.get(pk, -1.0) - tolerance}


def entry_floors(engine: Engine, page_ids: list[int]) -> dict[int, float]:
    """The lowest listed score of each of these pages whose stored list a product enters only above it (see
    `pages_entered`); the others have none."""
    limit = recommender_settings.STORED_LIMIT
    params = engine.params(limit)
    if not page_ids or not engine.plain_params(params):
        return {}
    reach = engine.of_pages("page_reach", lambda: page_reach(engine))
    listed: dict[int, list[tuple[int, float]]] = defaultdict(list)
    for start in range(0, len(page_ids), CHUNK * 4):  # a bounded number of query parameters (SQLite)
        ids = page_ids[start : start + CHUNK * 4]
        ruled = pages_with_rules(ids)
        plain = [pk for pk in ids if pk not in ruled and pk not in reach.held_back]
        stored = Recommendation.objects.filter(page_id__in=plain, page__state__computed_at__isnull=False)
        for pk, product_id, score in stored.values_list("page_id", "product_id", "score"):
            listed[pk].append((product_id, score))
    keys, cap = engine.cap_keys(params), params.max_per_nutrient or params.max_per_brand
    floors = {}
    for pk, items in listed.items():
        if len(items) < limit or any(product_id not in engine.row_of for product_id, _ in items):
            continue
        if keys is not None and cap:
            counted = Counter(int(keys[engine.row_of[product_id]]) for product_id, _ in items)
            if any(count > cap for key, count in counted.items() if key >= 0):
                continue  # a product over its cap is listed: a product the cap holds goes ahead of it
        floors[pk] = min(score for _, score in items)
    return floors


def products_near_products(engine: Engine, product_ids: Sequence[int]) -> set[int]:
    """The products themselves, those listing them now, and those whose related list they can enter.

    A changed product enters another product's list only if it scores at least that list's last stored
    score (or the minimum score, on a list that is not full); every other list stays as it is. This
    bounds a change to a common tag by one sparse product, not by every product sharing the tag; a
    product out of stock enters no list.
    """
    near = set(product_ids) | lists_holding("related_ids", product_ids)
    rows = available_rows(engine, product_ids)
    if not rows:
        return near
    min_score = recommender_settings.MIN_SCORE
    best = np.zeros(len(engine.ids), dtype=np.float32)
    for start in range(0, len(rows), CHUNK):
        block = sparse_rows(engine.products[rows[start : start + CHUNK]]) @ engine.columns(engine.products)
        best = np.maximum(best, block.toarray().max(axis=0))
    reached = np.flatnonzero(best >= min_score)
    candidates = [int(i) for i in engine.ids[reached]]
    stored = RelatedState.objects.filter(last_score__isnull=False)
    last = dict(rows_of_ids(stored, "product_id", candidates, "last_score"))  # thousands where a tag is common
    tolerance = 1e-4  # stored scores are rounded to four places
    near |= {
        pid
        for pid, score in zip(candidates, best[reached].tolist(), strict=True)
        if score >= last.get(pid, min_score) - tolerance
    }
    return near


def products_near_pages(engine: Engine, page_ids: Sequence[int]) -> set[int]:
    """Products whose "read more" list can change with these pages."""
    _, matrix = expanded_page_tags(engine, page_ids)
    reach = matrix.any(axis=0) if len(matrix) else np.zeros(engine.space.size, dtype=bool)
    near = {int(engine.ids[i]) for i in np.flatnonzero((engine.products > 0)[:, reach].any(axis=1))}
    linked = ArticleLink.objects.filter(page_id__in=page_ids).values_list("product_id", flat=True)
    return near | lists_holding("page_ids", page_ids) | set(linked)


# ---------------------------------------------------------------- the service


def recommendations_refresh(
    *,
    page_ids: Iterable[int] | None = None,
    product_ids: Iterable[int] | None = None,
    expand: bool = True,
    progress: Callable[[int], None] | None = None,
    run: str | None = None,
) -> RefreshSummary:
    """Refresh stored lists: everything when given no ids, else what the changes can reach.

    With `expand` (the default) `page_ids` and `product_ids` name what changed, and the service finds
    the pages and products whose lists depend on them. Without it they name exactly the lists to
    recompute (the chunks of a fanned-out full refresh, which pass their `run` so that a worker builds
    the engine once per run). A worker keeps its engine between refreshes and reads again only what
    changed: see `snapshot.engine_for`. `progress` is called with each chunk's size.
    """
    started = time.perf_counter()
    full = page_ids is None and product_ids is None
    pages = set(page_ids or ())
    products = set(product_ids or ())
    with collector_paused():  # the engine is twenty thousand small objects at the default size
        engine = engine_for(full=full and run is None, run=run, changed=products if expand else ())
    summary = RefreshSummary(timings={"engine_s": round(time.perf_counter() - started, 3)})
    if full:
        pages = set(ContentPage.objects.values_list("pk", flat=True))
        products = {int(i) for i in get_adapter().queryset().values_list("pk", flat=True)}
    elif expand:
        if page_ids:
            # Analyse changed pages first: their new tags decide which products' "read more" lists change.
            pages_analyse(list(ContentPage.objects.filter(pk__in=sorted(pages))), engine)
        changed_products = sorted(products)
        if changed_products:
            pages |= pages_for_products(engine, changed_products)
            products = products_near_products(engine, changed_products)
        if page_ids:
            products |= products_near_pages(engine, sorted(set(page_ids)))
    pages_refresh_in_chunks(engine, sorted(pages), summary, progress)
    related_refresh_in_chunks(engine, sorted(products), summary)
    summary.timings["total_s"] = round(time.perf_counter() - started, 3)
    metrics.refresh_observed(summary, full=full)
    logger.info(
        "refreshed %d pages (%d written) and %d product lists (%d written) in %.2f s",
        summary.pages, summary.written, summary.products, summary.products_written, summary.timings["total_s"],
        extra={
            "event": "recommendations_refreshed", "full": full, "pages": summary.pages,
            "pages_written": summary.written, "products": summary.products,
            "products_written": summary.products_written, **summary.timings,
        },
    )  # fmt: skip
    return summary


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while a chunk builds and writes its lists.

    A chunk allocates a few hundred thousand small dicts and lists (reasons, rows) that all live until
    they are written, and every burst of allocations made the collector walk them again: 40% of the
    compute at the default size. They hold no reference cycles, so nothing waits long: the collector
    resumes when the chunk is done, and the chunk's garbage goes with its next pass.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def pages_refresh_in_chunks(
    engine: Engine, ids: list[int], summary: RefreshSummary, progress: Callable[[int], None] | None
) -> None:
    compute_s = 0.0
    for start in range(0, len(ids), CHUNK):
        chunk = list(ContentPage.objects.filter(ids_filter("pk", ids[start : start + CHUNK])).order_by("pk"))
        pages_analyse(chunk, engine)
        began = time.perf_counter()
        with collector_paused():
            lists = pages_compute(chunk, engine)
            compute_s += time.perf_counter() - began
            summary.written += pages_store(lists, {p.pk: p for p in chunk})
        summary.pages += len(chunk)
        summary.items += sum(len(items) for items in lists.values())
        summary.empty += sum(not items for items in lists.values())
        del lists  # stored: one chunk's lists are alive at a time, never the last one's beside the next
        if progress:
            progress(len(chunk))
    summary.timings["pages_compute_s"] = round(compute_s, 3)


def related_refresh_in_chunks(engine: Engine, ids: list[int], summary: RefreshSummary) -> None:
    if not ids:
        return
    pages = engine.of_pages("page_matrix", lambda: page_matrix(engine))
    compute_s = 0.0
    model = get_adapter().model()
    links = links_in_force(None if len(ids) > CHUNK else ids)
    for start in range(0, len(ids), CHUNK):
        # Only products that still exist (a deleted product's lists went with it).
        found = model._default_manager.filter(ids_filter("pk", ids[start : start + CHUNK]))
        chunk = sorted(found.values_list("pk", flat=True))
        began = time.perf_counter()
        with collector_paused():
            lists = related_compute(engine, pages, chunk, links)
            compute_s += time.perf_counter() - began
            summary.products_written += related_store(lists)
        del lists  # as for page lists
        summary.products += len(chunk)
    summary.timings["related_compute_s"] = round(compute_s, 3)


def chunks_for_full_refresh(size: int | None = None) -> list[tuple[list[int], list[int]]]:
    """(page ids, product ids) chunks that together cover every list, for a fanned-out full refresh."""
    size = size or recommender_settings.REFRESH_CHUNK
    pages = list(ContentPage.objects.order_by("pk").values_list("pk", flat=True))
    products = [int(pk) for pk in get_adapter().queryset().order_by("pk").values_list("pk", flat=True)]
    page_chunks = [pages[i : i + size] for i in range(0, len(pages), size)]
    product_chunks = [products[i : i + size * 4] for i in range(0, len(products), size * 4)]
    count = max(len(page_chunks), len(product_chunks), 1)
    page_chunks += [[]] * (count - len(page_chunks))
    product_chunks += [[]] * (count - len(product_chunks))
    return list(zip(page_chunks, product_chunks, strict=True))


def page_refresh(*, page_id: int) -> int:
    """Recompute and store one page's list (the admin's "refresh" button); returns its length."""
    recommendations_refresh(page_ids=[page_id], expand=False)
    return Recommendation.objects.filter(page_id=page_id).count()
