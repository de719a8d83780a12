"""Product-page lists: related products and related articles, from the same vectors as page lists.

Marketing's ArticleLinks pin an article on the product's list (and, in refresh.py, the product on
the article's list) within their window.
"""

from __future__ import annotations

import operator
import threading
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial, reduce
from typing import Any

import numpy as np
import orjson
from django.db import connections, router, transaction
from django.db.models import Q
from django.utils import timezone
from numpy.typing import NDArray
from scipy import sparse

from recommender.adapters import ids_filter
from recommender.conf import recommender_settings
from recommender.fingerprint import digest, dumped
from recommender.models import ArticleLink, ContentPage, PageTag, RelatedState
from recommender.scoring.explain import discusses_label, reason_entries, reason_text_pieces, rounded, shared_label
from recommender.scoring.related import (
    BlockTop,
    block_top,
    column_floors,
    heavy_split,
    row_floors,
    sparse_columns,
    sparse_rows,
    split_product,
)
from recommender.scoring.vectors import page_matrix_of
from recommender.services.bulk import light_compression, relaxed_commit, rows_upsert
from recommender.services.engine import Engine, PageQuery
from recommender.services.list_text import NOTHING, OPEN, PieceTable, list_texts
from recommender.signals import related_products_changed

LINK_REASON = "Chosen by the store to read alongside this product."


@dataclass(frozen=True)
class PageRows:
    """What a page matrix is built from, as read: the published pages, their tags, and the settings that weigh
    them. Equal rows, an equal matrix (`pages_carried`)."""

    ids: tuple[int, ...]
    tags: tuple[tuple[int, str, float], ...]  # (page id, tag slug, weight)
    settings: str


def page_rows() -> PageRows:
    """The `PageRows` of the pages as they are now."""
    ids = ContentPage.objects.filter(published=True).order_by("pk").values_list("pk", flat=True)
    tags = PageTag.objects.filter(page__published=True).order_by("pk").values_list("page_id", "tag__slug", "weight")
    weighing = [recommender_settings.KIND_WEIGHTS, recommender_settings.AVOID_SUBJECT_WEIGHT]
    return PageRows(tuple(ids), tuple(tags), repr(weighing))  # a join, not five thousand ids in a list


@dataclass
class PageMatrix:
    """Published pages as rows of expanded, normalised vectors."""

    ids: list[int]  # page ids, row by row
    matrix: np.ndarray
    weights: list[dict[str, float]]
    names: np.ndarray  # pages x tags: the tags each page names (weight > 0)
    columns: sparse.csr_array  # the matrix transposed and sparse, to score blocks of products against
    rows: sparse.csr_array  # the matrix as sparse rows, to explain pairs with
    source: PageRows | None = field(default=None, repr=False)  # what it was built from
    _floors: dict[int, NDArray[np.float32]] = field(default_factory=dict, repr=False)
    _pieces: ListPieces | None = field(default=None, repr=False)

    def pieces(self, engine: Engine) -> ListPieces:
        """What related articles' lists are joined from, once per page matrix (it is built again whenever the
        pages or the taxonomy change): each page's opening (`{"id":...,"reasons":`), and the reasons' pieces."""
        if self._pieces is None:
            heads = [b'{"id":' + dumped(pk) + b',"reasons":' for pk in self.ids]
            self._pieces = list_pieces(engine, discusses_label, heads)
        return self._pieces

    def floors(self, limit: int) -> NDArray[np.float32]:
        """`column_floors` of the pages for lists of `limit` articles, worked out once per page matrix."""
        if limit not in self._floors:
            self._floors[limit] = column_floors(self.columns, None, limit)
        return self._floors[limit]


def active_links() -> Q:
    now = timezone.now()
    return (Q(starts_at__isnull=True) | Q(starts_at__lte=now)) & (Q(ends_at__isnull=True) | Q(ends_at__gt=now))


def page_matrix(engine: Engine, read: PageRows | None = None) -> PageMatrix:
    """Every published page's vector, from its stored page tags (`read`: `page_rows()` when the caller has read
    them already)."""
    read = page_rows() if read is None else read
    ids = list(read.ids)
    weights: dict[int, dict[str, float]] = {pk: {} for pk in ids}
    for page_id, slug, weight in read.tags:
        if page_id in weights:  # published after the pages were read: in the next refresh
            weights[page_id][slug] = weight
    matrix = page_matrix_of(engine.space, [weights[pk] for pk in ids], recommender_settings.KIND_WEIGHTS)
    names = np.zeros((len(ids), engine.space.size), dtype=bool)
    for i, pk in enumerate(ids):
        names[i, [engine.space.index[s] for s, w in weights[pk].items() if w > 0 and s in engine.space.index]] = True
    return PageMatrix(
        ids,
        matrix,
        [weights[pk] for pk in ids],
        np.asfortranarray(names),
        sparse_columns(matrix),
        sparse_rows(matrix),
        read,
    )


@dataclass(frozen=True)
class PageReach:
    """The published pages as the rules score them (`Engine.prepare`), stacked by the product matrix they
    score against: built from the pages alone, so a patched engine keeps it while no page changes."""

    # (whether they score against the matrix with product lines, page ids, whole pages, opened pages)
    groups: list[tuple[bool, list[int], NDArray[np.float32], NDArray[np.float32]]]
    held_back: frozenset[int]  # pages holding a nutrient back from leading their list (`Prepared.held_back`)


def page_reach(engine: Engine) -> PageReach:
    """`PageReach` of the engine's page matrix: the pages naming a product line score against the product
    matrix, the others against its plain form (`Engine.matrix_for`)."""
    pages = engine.of_pages("page_matrix", lambda: page_matrix(engine))  # shared with the related lists
    prepared = engine.prepare_many(pages.weights, vectors=pages.matrix)
    groups = []
    for lines in (True, False):
        group = [j for j, p in enumerate(prepared) if (p.matrix is engine.products) == lines]
        if group:
            whole = np.vstack([prepared[j].page for j in group])
            opened = np.vstack([prepared[j].open_page for j in group])
            groups.append((lines, [pages.ids[j] for j in group], whole, opened))
    return PageReach(groups, frozenset(pk for pk, p in zip(pages.ids, prepared, strict=True) if p.held_back))


WARM_SAMPLE = 50  # pages and products `engine_warmed` scores


def engine_warmed(engine: Engine) -> None:
    """Build everything a refresh scores with, for a worker process as it starts, so that its first drain (or its
    first chunk of a full refresh) waits for none of it: what the engine knows of the pages (the page matrix and the
    pages' reach), and the floors, sparse columns and list pieces that scoring builds on first use, by scoring a
    few pages and products and storing nothing."""
    pages = engine.of_pages("page_matrix", lambda: page_matrix(engine))
    engine.of_pages("page_reach", lambda: page_reach(engine))
    limit = recommender_settings.STORED_LIMIT
    engine.compute_many([PageQuery(weights) for weights in pages.weights[:WARM_SAMPLE]], limit=limit)
    related_compute(engine, pages, [int(pk) for pk in engine.ids[:WARM_SAMPLE]], links={})


def pages_carried(engine: Engine, kept: Engine) -> None:
    """Give `engine`, the kept engine's full read (`engine_build.engine_rebuilt`), the kept engine's data of the
    pages (`Engine.of_pages`) when the pages read the same, else build its page matrix from what was read.

    A full refresh reads the pages again as it reads the catalog: a page or page tag changed behind the plugin's
    back is repaired. Where none was (the usual case), what the related lists and the drains' neighbourhoods know of
    five thousand pages goes on instead of being built again by every worker process in every run.
    """
    if engine is kept or engine.space is not kept.space:  # another taxonomy: nothing of the pages holds
        return
    read = page_rows()
    built = kept.built_of_pages("page_matrix")
    if isinstance(built, PageMatrix) and built.source == read:
        engine.pages_kept_from(kept)
    else:
        engine.of_pages("page_matrix", lambda: page_matrix(engine, read))


def line_factors(pages: PageMatrix, lines: list[int]) -> np.ndarray:
    """LINE_BOOST for pages that name one of these product lines (ConcenTrace on its own article)."""
    if not len(pages.names):
        return np.ones(len(pages.ids), dtype=np.float32)
    named = pages.names[:, lines].any(axis=1)
    return np.where(named, recommender_settings.LINE_BOOST, 1.0).astype(np.float32)


@dataclass
class RelatedLists:
    """One product's two lists, computed, as JSON text ready to store (`RelatedState.products` and `.articles`:
    `fingerprint.dumped` of the items), with what the store reads beside it."""

    products_text: bytes  # [{"cautions", "id", "reasons", "score"}, ...] in rank order
    articles_text: bytes  # [{"id"[, "link_params"], "reasons", "score"}, ...] in rank order
    related_ids: list[int]
    page_ids: list[int]
    # The last related product's score when the list is full: a changed product enters it only above this.
    last_score: float | None

    @property
    def products(self) -> list[dict[str, Any]]:
        return list(orjson.loads(self.products_text))

    @property
    def articles(self) -> list[dict[str, Any]]:
        return list(orjson.loads(self.articles_text))


def links_in_force(product_ids: Sequence[int] | None = None) -> dict[int, list[ArticleLink]]:
    """Marketing's links in force to published pages, by product (of these products, or every product: a
    full refresh reads the few links once, not once per chunk)."""
    rows = ArticleLink.objects.filter(active_links(), page__published=True)
    if product_ids is not None:
        rows = rows.filter(product_id__in=list(product_ids))
    links: dict[int, list[ArticleLink]] = defaultdict(list)
    for link in rows:
        links[link.product_id].append(link)
    return links


def related_compute(
    engine: Engine,
    pages: PageMatrix,
    product_ids: Sequence[int],
    links: Mapping[int, list[ArticleLink]] | None = None,
) -> dict[int, RelatedLists]:
    """Related products and articles of these products, scored as sparse blocks (never products x products),
    the best of every row found and explained in one pass per block. `links`: `links_in_force()` when the
    caller has read them."""
    limit = recommender_settings.STORED_LIMIT
    rows = {pid: engine.row_of[pid] for pid in product_ids if pid in engine.row_of}
    if links is None:
        links = links_in_force(product_ids)
    links = defaultdict(list, {pid: links[pid] for pid in product_ids if pid in links})
    similar = discussed = None
    if rows:
        block = sparse_rows(engine.products[list(rows.values())])
        similar = similar_products(engine, block, list(rows.values()), limit)
        if pages.ids:
            discussed = discussing_pages(engine, pages, block, list(rows.values()), [links[pid] for pid in rows], limit)
    block_rows = np.array(list(rows.values()), dtype=np.intp)
    product_pieces = engine.derived("related_pieces", lambda: list_pieces(engine, shared_label, related_heads(engine)))
    product_texts, related_ids, related_scores = listed_texts(
        engine, block_rows, similar, engine.product_rows(), product_pieces, engine.ids
    )
    page_ids = np.asarray(pages.ids, dtype=np.int64)
    article_texts, articles_ids, _ = listed_texts(
        engine, block_rows, discussed, pages.rows, pages.pieces(engine), page_ids
    )
    lists = {}
    at = {pid: i for i, pid in enumerate(rows)}
    full = recommender_settings.STORED_LIMIT
    for pid in product_ids:
        if (i := at.get(pid)) is None:
            lists[pid] = RelatedLists(b"[]", b"[]", [], [], None)
            continue
        articles, article_ids = article_texts[i], articles_ids[i]
        if links[pid]:  # pinned at their positions: the few products with links go through dicts
            items = related_articles(list(orjson.loads(articles)), links[pid], limit)
            articles, article_ids = dumped(items), [item["id"] for item in items]
        scores = related_scores[i]
        last = scores[-1] if len(scores) >= full else None
        lists[pid] = RelatedLists(product_texts[i], articles, related_ids[i], article_ids, last)
    return lists


def related_heads(engine: Engine) -> list[bytes]:
    """Each engine row's opening of a related product's JSON (`{"cautions":[...],"id":...,"reasons":`)."""
    return [
        b'{"cautions":' + dumped(engine.cautions.get(pid, [])) + b',"id":' + dumped(pid) + b',"reasons":'
        for pid in engine.ids.tolist()
    ]


@dataclass
class ListPieces:
    """The pieces one kind of related list (products' or articles') is joined from, in one table: the openings of
    the items it can list (row by row of what it lists), each reason's tag opening after "[" (a first reason) and
    after "," (a later one), the reasons' weight closings (`reason_text_pieces`), and the closings of the scores met
    so far (`tails`)."""

    table: PieceTable
    heads: int  # where each kind of piece starts in the table
    firsts: int
    nexts: int
    closings: int
    # The scores whose closings the table holds, as float bits (sorted), and where each closing is: one pair,
    # replaced whole, so a thread reading it never sees one without the other (a worker's kept engine may serve
    # two refreshes at once in a threads pool); adding to the table takes the lock.
    known: tuple[NDArray[np.int64], NDArray[np.intp]] = field(
        default_factory=lambda: (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.intp))
    )
    adding: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def tails(self, scores: NDArray[np.float64]) -> NDArray[np.intp]:
        """Where the closing of an item with each of these scores (four places) and of its reasons list is. A score
        met for the first time gets its closing added: each distinct score's text is made once (a few thousand), not
        once per item. (Found by the float's bits: 0.0 and -0.0 are equal as numbers, not as text.)"""
        bits = scores.view(np.int64)
        found = self.found(bits)
        if found is not None:
            return found
        with self.adding:
            known_bits, known_at = self.known
            new = np.setdiff1d(bits, known_bits)
            start = self.table.add([b'],"score":' + dumped(s) + b"}" for s in new.view(np.float64).tolist()])
            merged = np.concatenate([known_bits, new])
            order = np.argsort(merged, kind="stable")
            known_bits, known_at = merged[order], np.concatenate([known_at, start + np.arange(len(new))])[order]
            self.known = (known_bits, known_at)
        return known_at[np.searchsorted(known_bits, bits)]

    def found(self, bits: NDArray[np.int64]) -> NDArray[np.intp] | None:
        """Where the closings of scores with these bits are; None if the table lacks one."""
        known_bits, known_at = self.known
        place = np.searchsorted(known_bits, bits)
        inside = place < len(known_bits)
        if not inside.all() or not (known_bits[place] == bits).all():
            return None
        return known_at[place]


def list_pieces(engine: Engine, label: Any, heads: list[bytes]) -> ListPieces:
    """The table of a kind of related list: items with these openings, reasons worded by `label`."""
    openings, closings = reason_text_pieces(engine.space, label)
    table = PieceTable()
    return ListPieces(
        table,
        heads=table.add(heads),
        firsts=table.add([b"[" + opening for opening in openings]),
        nexts=table.add([b"," + opening for opening in openings]),
        closings=table.add(closings),
    )


def listed_texts(
    engine: Engine,
    rows: NDArray[np.intp],
    top: BlockTop | None,
    targets: sparse.csr_array,
    pieces: ListPieces,
    ids: NDArray[np.int64],
) -> tuple[list[bytes], list[list[int]], list[list[float]]]:
    """Each product's list of a block's best entries (`top`, over the rows of `targets`, whose items are joined
    from `pieces`) as JSON text, with its ids and its scores as stored (four places).

    An item is its opening, each reason's tag opening and weight closing, and its score's closing: a block's lists
    are joined from the table by index (`list_texts`).
    """
    n = len(rows)
    if top is None or not len(top.cols):
        return [b"[]"] * n, [[] for _ in range(n)], [[] for _ in range(n)]
    tags, weights = pair_reasons(engine, rows, top, targets)
    scores = rounded(top.scores.astype(np.float64), 4)
    held = tags >= 0
    columns = [pieces.heads + top.cols]
    for place in range(tags.shape[1]):
        opened = (pieces.firsts if place == 0 else pieces.nexts) + tags[:, place]
        columns.append(np.where(held[:, place], opened, OPEN if place == 0 else NOTHING))  # no reasons: "[" "]"
        columns.append(np.where(held[:, place], pieces.closings + weights[:, place], NOTHING))
    columns.append(pieces.tails(scores))
    texts = list_texts(pieces.table, np.column_stack(columns).astype(np.intp), top.bounds)
    bounds = top.bounds.tolist()
    listed_ids, listed_scores = ids[top.cols].tolist(), scores.tolist()
    return (
        texts,
        [listed_ids[bounds[i] : bounds[i + 1]] for i in range(n)],
        [listed_scores[bounds[i] : bounds[i + 1]] for i in range(n)],
    )


def similar_products(engine: Engine, block: sparse.csr_array, rows: list[int], limit: int) -> BlockTop:
    """The best other products for each product of a block (its engine `rows`): in stock, at least the
    minimum score, ties by id."""
    columns = engine.columns(engine.products)
    own = np.array(rows, dtype=np.intp)
    # Another product's list is never longer than `limit`: `limit` + 1 products holding a tag (the
    # product itself may be one of them) bound the last listed score.
    floors = engine.derived(f"related_floors:{limit}", lambda: column_floors(columns, engine.available, limit + 1))
    split = engine.derived(f"related_split:{limit}", lambda: heavy_split(columns, floors))
    scores = split_product(block, columns, split)
    floor = np.maximum(row_floors(block, floors), np.float32(recommender_settings.MIN_SCORE))
    return block_top(
        scores,
        engine.ids,
        floors=floor,
        limit=limit,
        allowed=lambda at, cols: (cols != own[at]) & engine.available[cols],
    )


def discussing_pages(
    engine: Engine,
    pages: PageMatrix,
    block: sparse.csr_array,
    rows: list[int],
    links: list[list[ArticleLink]],
    limit: int,
) -> BlockTop:
    """The best pages for each product of a block: pages naming one of its product lines count LINE_BOOST
    times, pages linked to it are left out (they are pinned at their positions instead)."""
    scores = block @ pages.columns
    page_ids = np.asarray(pages.ids, dtype=np.int64)
    floor = row_floors(block, pages.floors(limit))
    has_links = np.array([bool(found) for found in links], dtype=bool)
    for i in np.flatnonzero(engine.in_lines()[rows] | has_links).tolist():  # the few products in a line or linked
        lines, linked = engine.line_dims(rows[i]), [link.page_id for link in links[i]]
        start, end = scores.indptr[i], scores.indptr[i + 1]
        cols = scores.indices[start:end]
        if lines:
            scores.data[start:end] *= line_factors(pages, lines)[cols]
        if linked:  # below every floor
            scores.data[start:end][np.isin(page_ids[cols], linked)] = -1.0
        floor[i] = 0.0  # the pages' floors hold for neither
    floor = np.maximum(floor, np.float32(recommender_settings.MIN_SCORE))
    return block_top(scores, page_ids, floors=floor, limit=limit)


def pair_reasons(
    engine: Engine, rows: NDArray[np.intp], top: BlockTop, targets: sparse.csr_array
) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """Reasons for every (product, listed row of `targets`) pair of a block (its products' engine `rows`), in
    one sparse pass, in `top`'s order, as `reason_entries` (tags and weights, pairs x 2)."""
    left = rows[np.repeat(np.arange(len(top.bounds) - 1), np.diff(top.bounds))]
    pairs = engine.product_rows()[left].multiply(targets[top.cols])
    return reason_entries(engine.space, pairs)


def related_articles(items: list[dict[str, Any]], links: list[ArticleLink], limit: int) -> list[dict[str, Any]]:
    """The product's articles: pages that discuss what it holds, linked pages pinned at their positions.

    A linked page's item carries `link_params` with only what differs from a product page's defaults
    (its campaign); `article_link_params` adds the defaults when the list is served.
    """
    if not links:
        return items if len(items) <= limit else items[:limit]
    items = list(items)
    for link in sorted(links, key=lambda lk: (lk.position, lk.pk)):
        reason: dict[str, Any] = {
            "tag": None,
            "label": LINK_REASON,
            "weight": 1.0,
            "evidence": {"grade": None, "citations": []},
        }
        pinned = {"id": link.page_id, "score": 0.0, "reasons": [reason]}
        if link.campaign:
            pinned["link_params"] = {"utm_campaign": link.campaign}
        items.insert(min(link.position - 1, len(items)), pinned)
    return items[:limit]


def article_link_params(sku: str, stored: Mapping[str, str]) -> dict[str, str]:
    """The UTM parameters of a related article's link on a product's page: the defaults (the product's sku
    as the campaign), then what the stored row sets (a linked page's campaign; rows stored before rows held
    only that carry every parameter)."""
    defaults = {"utm_source": recommender_settings.UTM_SOURCE, "utm_medium": "product-page", "utm_campaign": sku}
    return defaults | {key: value for key, value in stored.items() if value}


def related_bodies(lists: RelatedLists) -> tuple[str, orjson.Fragment, orjson.Fragment]:
    """The lists' fingerprint (`fingerprint([products, articles])`) and their JSON, serialised once for both:
    `JSONTextField` stores a `Fragment` as it is."""
    products, articles = lists.products_text, lists.articles_text
    return digest(b"[" + products + b"," + articles + b"]"), orjson.Fragment(products), orjson.Fragment(articles)


@transaction.atomic
def related_store(lists: dict[int, RelatedLists]) -> int:
    """Write the products' lists that changed, one row per product, in bulk; returns how many were written."""
    relaxed_commit(RelatedState)
    light_compression(RelatedState)
    ids = sorted(lists)
    states = RelatedState.objects.filter(ids_filter("product_id", ids))
    stored = states.values_list("product_id", "list_hash", "related_ids")
    before = {pid: (digest, listed) for pid, digest, listed in stored}
    # A product whose lists were never stored: no fingerprint, no products listed.
    unwritten: tuple[str, list[int]] = ("", [])
    bodies = {pid: related_bodies(lists[pid]) for pid in ids}
    changed = [pid for pid in ids if before.get(pid, unwritten)[0] != bodies[pid][0]]
    now = timezone.now()
    rows_upsert(
        RelatedState,
        "product_id",
        ["list_hash", "computed_at", "related_ids", "page_ids", "last_score", "products", "articles"],
        [
            (pid, (body := bodies[pid])[0], now, (found := lists[pid]).related_ids, found.page_ids,
             found.last_score, body[1], body[2])
            for pid in changed
        ],
    )  # fmt: skip
    for pid in changed:
        after = lists[pid].related_ids
        if before.get(pid, unwritten)[1] != after:
            send = partial(related_products_changed.send, sender=RelatedState, product_id=pid, related_ids=after)
            transaction.on_commit(send)
    return len(changed)


def lists_holding(field: str, ids: Iterable[int]) -> set[int]:
    """Products whose stored list (`related_ids` or `page_ids`) holds one of these ids.

    A database that can test JSON containment (PostgreSQL) answers for a few ids (each id is one test
    per row: past about ten, reading the lists here is quicker); otherwise the id lists, a few hundred
    bytes a product, are read and tested here. Either scans one small column, where a per-item index
    would cost every refresh its writes.
    """
    wanted = sorted(set(ids))
    if not wanted:
        return set()
    stored = RelatedState.objects.exclude(computed_at=None)
    if connections[router.db_for_read(RelatedState)].features.supports_json_field_contains and len(wanted) <= 10:
        holds = reduce(operator.or_, (Q(**{f"{field}__contains": [pk]}) for pk in wanted))
        return set(stored.filter(holds).values_list("product_id", flat=True))
    found = set(wanted)
    rows = stored.values_list("product_id", field).iterator(chunk_size=5000)
    return {pid for pid, held in rows if not found.isdisjoint(held)}


def article_links_as_rules(page: ContentPage) -> list[tuple[int, int, str]]:
    """(product id, position, campaign) of links in force for this page."""
    rows = ArticleLink.objects.filter(active_links(), page=page).order_by("position", "pk")
    return [(link.product_id, link.position, link.campaign) for link in rows]
