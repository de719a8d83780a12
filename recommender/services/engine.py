"""The engine: one snapshot of tags and products, and how pages are scored, ranked and explained against it.

A full refresh builds the snapshot once (`engine_build.py`) and scores every page against it; a
single-page refresh builds it too (it is a few queries), so both give identical lists.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from itertools import chain
from typing import Any, TypeVar

import numpy as np
from numpy.typing import NDArray
from scipy import sparse

from recommender.adapters import ProductRecord
from recommender.conf import recommender_settings
from recommender.models import Tag
from recommender.scoring.explain import ReasonMemo, coded, contributors, explained
from recommender.scoring.rank import TOP_WINDOW, ProductMeta, Ranked, RankParams, Rule, cap_groups, codes, rank
from recommender.scoring.related import (
    BlockTop,
    Groups,
    best,
    block_group_top,
    block_top,
    column_floors,
    group_best,
    group_floors,
    group_row_floors,
    id_ranks,
    least_sure,
    ranked_order,
    row_floors,
    row_of,
    run_places,
    scaled_columns,
    settled,
    sparse_columns,
    sparse_rows,
)
from recommender.scoring.safety import avoided, is_safety_page, no_benefit, page_subject
from recommender.scoring.space import TagSpace
from recommender.scoring.vectors import page_matrix_of, page_vector, without
from recommender.text.lexicon import Lexicon

T = TypeVar("T")
PIN_REASON = "Featured by the store alongside this article."


@dataclass
class Item:
    """One computed list item, ready to be stored as a Recommendation row."""

    product_id: int
    rank: int
    score: float
    reasons: list[dict[str, Any]]
    cautions: list[dict[str, Any]]
    link_params: dict[str, str]


@dataclass(frozen=True)
class PageQuery:
    """One page to compute: its tag weights, what it advises against, the rules in force, its campaign."""

    weights: Mapping[str, float]
    advised: frozenset[str] = frozenset()
    rules: tuple[Rule, ...] = ()
    campaign: str = ""


@dataclass(frozen=True)
class Prepared:
    """What the rules need to know about one page (see `Engine.prepare`)."""

    weights: Mapping[str, float]
    page: NDArray[np.float32]
    open_page: NDArray[np.float32]  # the page without guarded nutrients it is not about (the same array if none)
    matrix: NDArray[np.float32]  # the product matrix this page scores against
    against: frozenset[str]
    unwanted: frozenset[str]
    subject: str
    held_back: frozenset[str]


BLOCK = 500  # pages scored per sparse product


@dataclass(frozen=True)
class Taxonomy:
    """The taxonomy side of a snapshot: what product rows are built from besides the products themselves."""

    space: TagSpace
    tags: Mapping[str, Tag]  # by slug
    codes: Mapping[str, Tag]  # by supplement-facts nutrient code
    guard_tags: frozenset[str]  # guarded nutrients (iron) and their forms
    # The rows and settings it was built from (`engine_build.taxonomy_rows`): equal rows, the same taxonomy.
    rows: tuple[Any, ...] = ()


@dataclass(frozen=True)
class Catalog:
    """The product side of a snapshot as read from the database: each product's record and approved tag
    relevances. An engine keeps it, so a full refresh can tell which products changed since it was built."""

    records: Mapping[int, ProductRecord]
    relevances: Mapping[int, Mapping[str, float]]

    def changed_since(self, other: Catalog) -> set[int]:
        """The products whose rows differ between the two (added, removed or changed in any way)."""
        old, new = other.records, self.records
        if old == new and other.relevances == self.relevances:  # the usual case, compared without a Python loop
            return set()
        return {
            pk
            for pk in old.keys() | new.keys()
            if old.get(pk) != new.get(pk) or other.relevances.get(pk) != self.relevances.get(pk)
        }

    def updated(
        self,
        touched: Collection[int],
        records: Mapping[int, ProductRecord],
        relevances: Mapping[int, Mapping[str, float]],
    ) -> Catalog:
        """This catalog with the `touched` products read again: `records` and `relevances` are theirs now (a
        touched product missing from `records` is no longer in the catalog)."""
        kept = {pk: record for pk, record in self.records.items() if pk not in touched}
        kept_relevances = {pk: self.relevances[pk] for pk in kept}
        return Catalog(kept | dict(records), kept_relevances | {pk: relevances.get(pk, {}) for pk in records})


@dataclass
class MetaArrays:
    """The rules' view of some products as arrays (see `Engine.index_metas`)."""

    available: NDArray[np.bool_]
    ids: NDArray[np.int64]
    primary: NDArray[np.intp]
    holds: NDArray[np.bool_]
    guards: NDArray[np.bool_]
    over_limit: NDArray[np.bool_]


def meta_arrays(space: TagSpace, metas: Sequence[ProductMeta]) -> MetaArrays:
    """The arrays of these metas, row for row."""
    index, n = space.index, len(metas)
    return MetaArrays(
        available=np.fromiter((m.available for m in metas), dtype=bool, count=n),
        ids=np.fromiter((m.id for m in metas), dtype=np.int64, count=n),
        primary=np.fromiter((index.get(m.primary_nutrient, -1) for m in metas), dtype=np.intp, count=n),
        holds=marked(index, [m.holds for m in metas], space.size),
        guards=marked(index, [m.guards for m in metas], space.size),
        over_limit=np.fromiter((m.over_limit for m in metas), dtype=bool, count=n),
    )


def marked(index: Mapping[str, int], slugs: Sequence[frozenset[str]], size: int) -> NDArray[np.bool_]:
    """A row per set of slugs, True in the columns of the slugs `index` knows: one assignment for every row,
    not one a row (a catalog's worth of small index lists cost a tenth of building an engine)."""
    found = np.zeros((len(slugs), size), dtype=bool)
    cols = [[index[s] for s in row if s in index] for row in slugs]
    lengths = np.fromiter((len(c) for c in cols), dtype=np.intp, count=len(cols))
    flat = np.fromiter(chain.from_iterable(cols), dtype=np.intp, count=int(lengths.sum()))
    found[np.repeat(np.arange(len(cols)), lengths), flat] = True
    return found


@dataclass
class Engine:
    """Tag space, lexicon and the product matrix with the rules' view of each product."""

    space: TagSpace
    lexicon: Lexicon
    products: NDArray[np.float32]
    metas: list[ProductMeta]
    cautions: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    skus: dict[int, str] = field(default_factory=dict)
    guard_tags: frozenset[str] = frozenset()  # guarded nutrients (iron) and their forms
    plain: NDArray[np.float32] | None = None  # the product matrix without product-line dimensions
    # The rules' view of every product as arrays, so candidates are chosen without a Python loop.
    available: NDArray[np.bool_] = field(default_factory=lambda: np.zeros(0, dtype=bool))
    holds: NDArray[np.bool_] = field(default_factory=lambda: np.zeros((0, 0), dtype=bool))
    guards: NDArray[np.bool_] = field(default_factory=lambda: np.zeros((0, 0), dtype=bool))
    primary: NDArray[np.intp] = field(default_factory=lambda: np.zeros(0, dtype=np.intp))
    ids: NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    guard_count: NDArray[np.intp] = field(default_factory=lambda: np.zeros(0, dtype=np.intp))
    over_limit: NDArray[np.bool_] = field(default_factory=lambda: np.zeros(0, dtype=bool))
    row_of: dict[int, int] = field(default_factory=dict)
    taxonomy: Taxonomy | None = None  # what `engine_patch` builds new product rows from
    catalog: Catalog | None = None  # what the product rows were built from (see `engine_build.engine_rebuilt`)
    _columns: dict[str, sparse.csr_array] = field(default_factory=dict, repr=False)
    _derived: dict[str, Any] = field(default_factory=dict, repr=False)
    _of_pages: dict[str, Any] = field(default_factory=dict, repr=False)
    _guarded: dict[str, NDArray[np.bool_]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        if len(self.ids) != len(self.metas):
            self.index_metas()

    def index_metas(self) -> None:
        """The arrays behind `candidates`, from the metas."""
        arrays = meta_arrays(self.space, self.metas)
        self.available, self.ids, self.primary = arrays.available, arrays.ids, arrays.primary
        self.over_limit = arrays.over_limit
        # Column-major: the rules read a few tag columns across every product.
        self.holds, self.guards = np.asfortranarray(arrays.holds), np.asfortranarray(arrays.guards)
        self.guard_count = arrays.guards.sum(axis=1)
        self.row_of = {m.id: row for row, m in enumerate(self.metas)}

    def derived(self, key: str, make: Callable[[], T]) -> T:
        """`make()`, once per snapshot: data built from the engine that chunks of one run share."""
        if key not in self._derived:
            self._derived[key] = make()
        value: T = self._derived[key]
        return value

    def of_pages(self, key: str, make: Callable[[], T]) -> T:
        """`make()`, once per snapshot of the pages: data built from the published pages and the taxonomy
        (never from products), which a patched engine keeps while no page changed (`pages_kept_from`)."""
        if key not in self._of_pages:
            self._of_pages[key] = make()
        value: T = self._of_pages[key]
        return value

    def built_of_pages(self, key: str) -> Any:
        """What `of_pages` holds under this key, or None where nothing was built."""
        return self._of_pages.get(key)

    def pages_kept_from(self, other: Engine) -> None:
        """Take over `other`'s data of the pages (`of_pages`): the pages did not change since it was built."""
        if other is not self:
            self._of_pages = dict(other._of_pages)

    def forget_pages(self) -> None:
        """Drop the data of the pages (`of_pages`): a page changed, so it is built again when asked for."""
        self._of_pages.clear()

    def without_pages(self) -> Engine:
        """This engine as a new snapshot of the pages: everything built from the products shared, nothing
        built from the pages (this engine is left as it is, for a thread still scoring with it)."""
        return replace(self, _of_pages={})

    def dims(self, slugs: frozenset[str]) -> list[int]:
        return [self.space.index[s] for s in slugs if s in self.space.index]

    def columns(self, matrix: NDArray[np.float32]) -> sparse.csr_array:
        """The product matrix (or its plain form) transposed and sparse, built once per snapshot."""
        key = "products" if matrix is self.products else "plain"
        if key not in self._columns:
            self._columns[key] = sparse_columns(matrix)
        return self._columns[key]

    def product_rows(self) -> sparse.csr_array:
        """The product matrix as sparse rows (to explain pairs with), built once per snapshot."""
        if "rows" not in self._columns:
            self._columns["rows"] = sparse_rows(self.products)
        return self._columns["rows"]

    def in_lines(self) -> NDArray[np.bool_]:
        """Which rows belong to a product line (have `line_dims`), once per snapshot."""

        def make() -> NDArray[np.bool_]:
            lines = frozenset(t.slug for t in self.space.tags if t.kind == Tag.Kind.PRODUCT_LINE)
            return np.fromiter((not m.tags.isdisjoint(lines) for m in self.metas), dtype=bool, count=len(self.metas))

        return self.derived("in_lines", make)

    def line_dims(self, row: int) -> list[int]:
        """The tag columns of the product lines this product belongs to."""
        return [self.space.index[s] for s in self.metas[row].tags if self.space.info(s).kind == Tag.Kind.PRODUCT_LINE]

    def guarded_rows(self, subject: str) -> NDArray[np.bool_]:
        """Products guarded on a page about `subject`: guarded by something other than the subject itself."""
        if subject not in self._guarded:
            guarded = self.guard_count > 0
            if subject in self.space.index:
                guarded = self.guard_count - self.guards[:, self.space.index[subject]] > 0
            self._guarded[subject] = guarded
        return self._guarded[subject]

    def candidates_many(
        self, prepared: Sequence[Prepared], rules: Sequence[Sequence[Rule]], limit: int
    ) -> list[NDArray[np.intp]]:
        """`scored_candidates_many`'s rows alone."""
        return [rows for rows, _ in self.scored_candidates_many(prepared, rules, limit)]

    def scored_candidates_many(
        self,
        prepared: Sequence[Prepared],
        rules: Sequence[Sequence[Rule]],
        limit: int,
        plainly: Sequence[bool] = (),
    ) -> list[tuple[NDArray[np.intp], NDArray[np.float32] | None]]:
        """Rows worth ranking for each page, in row order, with the scores `rank` gives them where the sparse
        products that chose them already did (pages that `only_stock_rules` and no rule names a product on;
        None elsewhere): its best `CANDIDATES` (at least ten times the limit) allowed
        products at or above the minimum score, by the same scores `rank` uses, ties by id as `rank`
        breaks them, the best of each group the diversity caps count that can still reach the list
        (`rank.cap_groups`: a product of a nutrient not yet capped goes ahead of a fourth magnesium one,
        however far below it scores), plus every product a rule names.

        A page marked in `plainly` (it `ranks_plainly`) needs only its best `limit` besides the best of the
        groups: its list holds the best of the groups the cap counts, then, when those are fewer than the limit,
        the best of the others by score. Fewer than `limit` products rank above any of those (the first of the
        groups and the others before it), so each is among the page's best `limit`.

        Scores come from sparse products of blocks of pages with the product matrix: a page shares
        tags with a small part of the catalog, and a product sharing nothing scores 0 and is never
        listed. Ranking only these gives the same list as ranking the whole catalog, at a fraction of the cost.
        """
        n = len(self.metas)
        k = max(recommender_settings.CANDIDATES, 10 * limit)
        wanted = [limit if j < len(plainly) and plainly[j] else k for j in range(len(prepared))]
        placed = [
            np.array([self.row_of[r.product_id] for r in page_rules if r.product_id in self.row_of], dtype=np.intp)
            for page_rules in rules
        ]
        if n <= k:
            return [(np.arange(n, dtype=np.intp), None) for _ in prepared]
        groups = self.cap_groups(self.params(limit))
        found: list[NDArray[np.intp]] = [np.zeros(0, dtype=np.intp)] * len(prepared)
        known: list[NDArray[np.float32] | None] = [None] * len(prepared)
        for matrix in {id(p.matrix): p.matrix for p in prepared}.values():
            group = [j for j, p in enumerate(prepared) if p.matrix is matrix]
            for start in range(0, len(group), BLOCK):
                block = group[start : start + BLOCK]
                plain = [j for j in block if self.only_stock_rules(prepared[j])]
                for count in sorted({wanted[j] for j in plain}):
                    pages = [j for j in plain if wanted[j] == count]
                    # A page with rules may drop a product the caps' groups count on (`group_best`).
                    limits = [0 if rules[j] else limit for j in pages]
                    for j, (rows, scores) in zip(
                        pages, self.plain_best([prepared[j] for j in pages], matrix, count, groups, limits), strict=True
                    ):
                        found[j], known[j] = rows, scores
                others = [j for j in block if not self.only_stock_rules(prepared[j])]
                scored = self.block_scores([prepared[j] for j in others], matrix) if others else []
                for j, (cols, scores) in zip(others, scored, strict=True):
                    found[j] = self.allowed_best(prepared[j], cols, scores, wanted[j], groups, 0 if rules[j] else limit)
        return [
            (np.union1d(rows, extra).astype(np.intp), None)
            if len(extra)
            else (rows, scores)
            if scores is not None
            else (np.sort(rows).astype(np.intp), None)
            for rows, scores, extra in zip(found, known, placed, strict=True)
        ]

    def cap_groups(self, params: RankParams) -> Groups | None:
        """The products' groups under the diversity caps (`rank.cap_groups`), once per snapshot."""
        if not params.max_per_nutrient and not params.max_per_brand:
            return None
        key = f"cap_groups:{params.max_per_nutrient}:{params.max_per_brand}:{params.limit}"
        return self.derived(key, lambda: cap_groups(self.primary, [m.brand for m in self.metas], params))

    def only_stock_rules(self, p: Prepared) -> bool:
        """Whether only stock limits this page's candidates: it scores every product against one vector and
        names nothing to avoid or speak against (most pages)."""
        return p.open_page is p.page and not self.dims(p.against) and not self.dims(p.unwanted)

    def plain_best(
        self,
        block: Sequence[Prepared],
        matrix: NDArray[np.float32],
        k: int,
        groups: Groups | None,
        limits: Sequence[int],
    ) -> list[tuple[NDArray[np.intp], NDArray[np.float32]]]:
        """`allowed_best` of pages that `only_stock_rules`, for the whole block in a few passes (`block_top`,
        `block_group_top`), each page's rows in row order with their scores (as `candidate_scores` gives them:
        the same sparse product, summed in tag order)."""
        pages = sparse_rows(np.vstack([p.page for p in block]))
        columns = self.columns(matrix)
        factors = self.dose_factors()
        matrix_name = "products" if matrix is self.products else "plain"
        key = f"candidate_floors:{matrix_name}:{k}:{recommender_settings.DOSE_PENALTY}"
        floors = self.derived(key, lambda: column_floors(scaled_columns(columns, factors), self.available, k))
        minimum = np.float32(recommender_settings.MIN_SCORE)
        floor = np.maximum(row_floors(pages, floors), minimum)
        scores = pages @ columns
        scores.data *= factors[scores.indices]
        available = self.available
        top = block_top(scores, self.ids, floors=floor, limit=k, allowed=lambda _, cols: available[cols])
        pages_of = np.arange(len(block))
        if groups is None:
            return in_row_order([(pages_of, top)], len(block), len(self.ids))
        limited = np.array(limits, dtype=np.intp)
        open_rows = np.flatnonzero(~settled(top, groups, limited, k))
        if not len(open_rows):
            return in_row_order([(pages_of, top)], len(block), len(self.ids))
        key = f"group_floors:{matrix_name}:{recommender_settings.DOSE_PENALTY}:{id(groups)}"
        floors = self.derived(key, lambda: group_floors(scaled_columns(columns, factors), self.available, groups))
        floor = np.maximum(group_row_floors(pages[open_rows], floors), minimum)
        firsts = Groups(groups.of, np.ones(groups.count, dtype=np.intp), groups.sure)
        key = f"group_best_floors:{matrix_name}:{recommender_settings.DOSE_PENALTY}:{id(groups)}"
        best_floors = self.derived(key, lambda: group_floors(scaled_columns(columns, factors), self.available, firsts))
        least = least_sure(group_row_floors(pages[open_rows], best_floors), groups, limited[open_rows])
        capped = block_group_top(
            scores[open_rows],
            self.ids,
            groups,
            floors=floor,
            limits=limited[open_rows],
            least=least,
            allowed=lambda _, c: available[c],
        )
        return in_row_order([(pages_of, top), (open_rows, capped)], len(block), len(self.ids))

    def dose_factors(self) -> NDArray[np.float32]:
        """Each product's factor on its score: DOSE_PENALTY when a serving is over an upper limit, else 1."""
        penalty = np.float32(recommender_settings.DOSE_PENALTY)
        return np.where(self.over_limit, penalty, np.float32(1.0)).astype(np.float32)

    def block_scores(
        self, block: Sequence[Prepared], matrix: NDArray[np.float32]
    ) -> list[tuple[NDArray[np.intp], NDArray[np.float32]]]:
        """Each page's (rows, scores) with the products it shares a tag with: guarded products (iron)
        against the whole page, the others against the page without the guarded nutrients."""
        columns = self.columns(matrix)
        open_scores = sparse_rows(np.vstack([p.open_page for p in block])) @ columns
        guarded = [i for i, p in enumerate(block) if p.open_page is not p.page]
        full_scores = sparse_rows(np.vstack([block[i].page for i in guarded])) @ columns if guarded else None
        full_row = {i: r for r, i in enumerate(guarded)}
        scored = []
        for i, p in enumerate(block):
            cols, scores = row_of(open_scores, i)
            if full_scores is not None and i in full_row:
                rows = self.guarded_rows(p.subject)
                full_cols, full = row_of(full_scores, full_row[i])
                keep, take = ~rows[cols], rows[full_cols]
                cols = np.concatenate([cols[keep], full_cols[take]])
                scores = np.concatenate([scores[keep], full[take]])
            scored.append((cols, scores))
        return scored

    def allowed_best(
        self,
        p: Prepared,
        cols: NDArray[np.intp],
        scores: NDArray[np.float32],
        k: int,
        groups: Groups | None,
        limit: int,
    ) -> NDArray[np.intp]:
        """The best `k` rows among those the page allows (available, not avoided, not spoken against), and
        the best of each group of the diversity caps that can reach the first `limit` (`group_best`; 0: all)."""
        scores = scores * self.dose_factors()[cols]  # as `candidate_scores` ranks them
        keep = self.allowed(p, cols) & (scores >= recommender_settings.MIN_SCORE)
        cols, scores = cols[keep], scores[keep]
        rows, _ = best(cols, scores, self.ids, k)
        if groups is None:
            return rows
        zeros = np.zeros(len(cols), dtype=np.intp)
        capped = group_best(zeros, cols, scores, id_ranks(self.ids)[cols], groups, np.array([limit], dtype=np.intp))
        return np.union1d(rows, cols[capped])

    def allowed(self, p: Prepared, rows: NDArray[np.intp]) -> NDArray[np.bool_]:
        """Which of these rows the page may list: in stock, holding nothing it says to avoid, not mainly a
        nutrient it speaks against (`rank.candidate_scores`' rules, from the engine's arrays)."""
        keep = self.available[rows]
        if against := self.dims(p.against):
            keep &= ~self.holds[rows][:, against].any(axis=1)
        if unwanted := self.dims(p.unwanted):
            keep &= ~np.isin(self.primary[rows], unwanted)
        return keep

    def candidate_scores(self, p: Prepared, rows: NDArray[np.intp]) -> NDArray[np.float32]:
        """`rank.candidate_scores` of these rows for a page, from the engine's arrays (no loop over products).

        Only the page's own tags are read from the product rows (a few columns, not the whole rows), and
        summed in tag order, as the sparse products of `candidates_many` sum them: products with the same
        vector get the very same score, so ties break by id (a BLAS dot product's rounding depends on
        where a row sits in the matrix).
        """
        guarded = self.guarded_rows(p.subject)[rows]
        named = np.flatnonzero(p.page)  # the open page names a part of these
        products = p.matrix[np.ix_(rows, named)]
        full = tag_ordered_dot(products, p.page[named])
        if p.open_page is not p.page:
            full = np.where(guarded, full, tag_ordered_dot(products, p.open_page[named]))
        scores = np.where(self.over_limit[rows], full * np.float32(recommender_settings.DOSE_PENALTY), full)
        return np.where(self.allowed(p, rows), scores, np.float32(-1.0)).astype(np.float32)

    def matrix_for(self, weights: Mapping[str, float]) -> NDArray[np.float32]:
        """Product lines count only on a page that names one; elsewhere they would only dilute a
        product's nutrient profile (a line says who makes it, not what is in it)."""
        names_a_line = any(
            w > 0 and s in self.space.index and self.space.info(s).kind == Tag.Kind.PRODUCT_LINE
            for s, w in weights.items()
        )
        return self.products if names_a_line or self.plain is None else self.plain

    def params(self, limit: int) -> RankParams:
        s = recommender_settings
        return RankParams(
            limit=limit,
            min_score=s.MIN_SCORE,
            max_per_nutrient=s.MAX_PER_NUTRIENT,
            max_per_brand=s.MAX_PER_BRAND,
            dose_penalty=s.DOSE_PENALTY,
            lead_share=s.LEAD_SHARE,
            guarded_in_top=s.GUARDED_IN_TOP,
        )

    def prepare(
        self,
        weights: Mapping[str, float],
        advised: frozenset[str] = frozenset(),
        vector: NDArray[np.float32] | None = None,
    ) -> Prepared:
        """What the rules need to know about one page with these tag weights.

        `advised` holds the tags the page advises against taking: no product containing them is listed.
        `vector` is the page's vector when the caller has it (`prepare_many`).
        """
        page = page_vector(self.space, weights, recommender_settings.KIND_WEIGHTS) if vector is None else vector
        if is_safety_page(self.space, weights):
            page = np.zeros_like(page)  # nothing to recommend; pins that pass the avoid rules still show
        subject = page_subject(self.space, weights)
        guarded = self.dims(self.guard_tags - {subject})
        open_page = without(self.space, page, self.guard_tags - {subject}) if page[guarded].any() else page
        return Prepared(
            weights=weights,
            page=page,
            open_page=open_page,
            matrix=self.matrix_for(weights),
            against=advised | avoided(self.space, weights, subject_weight=recommender_settings.AVOID_SUBJECT_WEIGHT),
            unwanted=frozenset(slug for slug, w in weights.items() if w < 0),
            subject=subject,
            held_back=no_benefit(self.space, weights, topic_weight=recommender_settings.AVOID_SUBJECT_WEIGHT),
        )

    def prepare_many(
        self,
        weights: Sequence[Mapping[str, float]],
        advised: Sequence[frozenset[str]] | None = None,
        vectors: NDArray[np.float32] | None = None,
    ) -> list[Prepared]:
        """`prepare` for many pages, their vectors built as one matrix (or given: `related.PageMatrix`'s)."""
        if vectors is None:
            vectors = page_matrix_of(self.space, weights, recommender_settings.KIND_WEIGHTS)
        advice = advised or [frozenset()] * len(weights)
        return [self.prepare(w, a, vector) for w, a, vector in zip(weights, advice, vectors, strict=True)]

    def compute(
        self,
        weights: Mapping[str, float],
        *,
        advised: frozenset[str] = frozenset(),
        rules: Sequence[Rule] = (),
        limit: int,
        campaign: str = "",
    ) -> list[Item]:
        """The ranked, explained list for a page with these tag weights."""
        return self.compute_many([PageQuery(weights, advised, tuple(rules), campaign)], limit=limit)[0]

    def compute_many(self, queries: Sequence[PageQuery], *, limit: int) -> list[list[Item]]:
        """The ranked, explained lists of many pages, their candidates scored in blocks."""
        if not self.metas:
            return [[] for _ in queries]
        prepared = self.prepare_many([q.weights for q in queries], [q.advised for q in queries])
        params = self.params(limit)
        plainly = [self.ranks_plainly(p, q, params) for p, q in zip(prepared, queries, strict=True)]
        scored = self.scored_candidates_many(prepared, [q.rules for q in queries], limit, plainly)
        candidates = [rows for rows, _ in scored]
        plain = [j for j, yes in enumerate(plainly) if yes]
        ranked: list[list[Ranked]] = [[] for _ in queries]
        together = self.ranked_together(
            [prepared[j] for j in plain], [candidates[j] for j in plain], params, [scored[j][1] for j in plain]
        )
        for j, found in zip(plain, together, strict=True):
            ranked[j] = found
        # A guarded product (iron) among the first few would move: those pages go through the rules.
        window = TOP_WINDOW + 1
        unsettled = [
            j for j in plain
            if self.guarded_rows(prepared[j].subject)[candidates[j][[r.index for r in ranked[j][:window]]]].any()
        ]  # fmt: skip
        if unsettled:  # the rules may move the guarded products down the list: every candidate they may need
            again = self.candidates_many([prepared[j] for j in unsettled], [queries[j].rules for j in unsettled], limit)
            for j, rows in zip(unsettled, again, strict=True):
                candidates[j] = rows
        for j in sorted(set(range(len(queries))) - set(plain) | set(unsettled)):
            ranked[j] = self.ranked(prepared[j], queries[j], candidates[j], params)
        shares = contributors(self.space, self.item_contributions(prepared, candidates, ranked), top=3)
        lists, at = [], 0
        memo = self.derived("reason_memo", lambda: ReasonMemo(self.space))
        for p, q, found in zip(prepared, queries, ranked, strict=True):
            reasons = explained(self.space, p.weights, shares[at : at + len(found)], memo)
            lists.append(self.items(q, found, reasons))
            at += len(found)
        return lists

    def item_contributions(
        self, prepared: Sequence[Prepared], candidates: Sequence[NDArray[np.intp]], ranked: Sequence[list[Ranked]]
    ) -> NDArray[np.float32]:
        """Every listed item's vector times its page's, a row per item, page by page: every item of every page
        explained in one numpy pass (`contributors`)."""
        chosen = [
            p.matrix[rows[[r.index for r in found]]] * p.page
            for p, rows, found in zip(prepared, candidates, ranked, strict=True)
        ]
        return np.vstack(chosen) if chosen else np.zeros((0, self.space.size), dtype=np.float32)

    def ranks_plainly(self, p: Prepared, query: PageQuery, params: RankParams) -> bool:
        """Whether only the scores and one diversity cap order this page's list (most pages), unless a guarded
        product comes among the first few (`compute_many` checks): no rules, no nutrient held back from
        leading, and a lead share the best product meets."""
        return not query.rules and not p.held_back and self.plain_params(params)

    @staticmethod
    def plain_params(params: RankParams) -> bool:
        """Whether these settings let a page rank plainly (`ranks_plainly`): at most one diversity cap, and a
        lead share the best product meets."""
        return not (params.max_per_nutrient and params.max_per_brand) and params.lead_share <= 1

    def ranked_together(
        self,
        pages: Sequence[Prepared],
        candidates: Sequence[NDArray[np.intp]],
        params: RankParams,
        known: Sequence[NDArray[np.float32] | None] | None = None,
    ) -> list[list[Ranked]]:
        """`ranked` of pages that `ranks_plainly`, all at once: sorted by score (ties by id), the cap counted
        and the first `limit` taken in a few array passes over every page's candidates together, as `rank`
        orders one page (the rules it has besides change nothing on such a page). `known`: each page's
        candidates' scores where choosing them gave them (`scored_candidates_many`), else worked out here."""
        lengths = np.array([len(rows) for rows in candidates], dtype=np.intp)
        page = np.repeat(np.arange(len(pages)), lengths)
        local = np.arange(len(page)) - np.repeat(np.cumsum(lengths) - lengths, lengths)  # index in its candidates
        rows = np.concatenate(candidates) if len(candidates) else np.zeros(0, dtype=np.intp)
        known = known or [None] * len(pages)  # the candidates' scores where choosing them gave them
        scores = np.concatenate(
            [
                self.candidate_scores(p, r) if scores is None else scores
                for p, r, scores in zip(pages, candidates, known, strict=True)
            ]
            or [np.zeros(0, dtype=np.float32)]
        )
        eligible = scores >= params.min_score
        page, local, rows, scores = page[eligible], local[eligible], rows[eligible], scores[eligible]
        order = ranked_order(page, scores, id_ranks(self.ids)[rows])  # by page, highest score, then id
        page, local, rows, scores = page[order], local[order], rows[order], scores[order]
        held = np.ones(len(page), dtype=bool)
        keys, cap = self.cap_keys(params), params.max_per_nutrient or params.max_per_brand
        if keys is not None and cap and len(page):
            counted = keys[rows]
            within = page * (int(counted.max()) + 2) + counted + 1  # (page, what the cap counts) as one number
            by = np.argsort(within, kind="stable")
            place = np.empty(len(page), dtype=np.intp)
            place[by] = run_places(within[by])
            held = (counted < 0) | (place < cap)
        order = np.argsort(page * 2 + ~held, kind="stable")  # held first, then those over the cap
        page, local, rows, scores = page[order], local[order], rows[order], scores[order]
        listed = run_places(page) < params.limit
        page, local, rows, scores = page[listed], local[listed], rows[listed], scores[listed]
        items = [
            Ranked(i, pid, score)
            for i, pid, score in zip(local.tolist(), self.ids[rows].tolist(), scores.tolist(), strict=True)
        ]
        bounds = np.searchsorted(page, np.arange(len(pages) + 1)).tolist()
        return [items[bounds[j] : bounds[j + 1]] for j in range(len(pages))]

    def ranked(self, p: Prepared, query: PageQuery, rows: NDArray[np.intp], params: RankParams) -> list[Ranked]:
        """One page's candidates ranked by the rules."""
        keys = self.cap_keys(params)
        return rank(
            p.page,
            None,
            metas_at(self.metas, rows),
            scores=self.candidate_scores(p, rows),
            ids=self.ids[rows],
            rules=query.rules,
            against=p.against,
            unwanted=p.unwanted,
            subject=p.subject,
            held_back=p.held_back,
            open_page=p.open_page,
            params=params,
            cap_keys=None if keys is None else keys[rows],
        )

    def cap_keys(self, params: RankParams) -> NDArray[np.intp] | None:
        """What the one diversity cap set counts, per product (`rank.diversify`); None with both or neither."""
        if bool(params.max_per_nutrient) == bool(params.max_per_brand):
            return None
        if params.max_per_nutrient:
            return self.primary
        return self.derived("brand_codes", lambda: codes([m.brand for m in self.metas]))

    def items(self, query: PageQuery, ranked: list[Ranked], reasons: list[list[dict[str, Any]]]) -> list[Item]:
        """A page's ranked products as list items with their reasons, cautions and link parameters."""
        items = []
        source, medium = recommender_settings.UTM_SOURCE, recommender_settings.UTM_MEDIUM
        for position, (r, why) in enumerate(zip(ranked, reasons, strict=True), start=1):
            if r.pinned and not why:
                why = [{"tag": None, **coded("pinned"), "weight": 1.0, "evidence": {"grade": None, "citations": []}}]
            link_params = {
                "utm_source": source,
                "utm_medium": medium,
                "utm_campaign": query.campaign,
                "utm_content": self.skus.get(r.product_id, ""),
            }
            if r.link_params:
                link_params.update({k: v for k, v in r.link_params.items() if v})
            items.append(
                Item(r.product_id, position, round(r.score, 4), why, self.cautions.get(r.product_id, []), link_params)
            )
        return items


def tag_ordered_dot(rows: NDArray[np.float32], weights: NDArray[np.float32]) -> NDArray[np.float32]:
    """Each row's dot product with `weights`, summed term by term in column order (float32, as scipy's sparse
    products sum), so equal rows give equal sums wherever they sit."""
    total = np.zeros(len(rows), dtype=np.float32)
    for column, weight in enumerate(weights.tolist()):
        total += rows[:, column] * np.float32(weight)
    return total


def in_row_order(
    tops: Sequence[tuple[NDArray[np.intp], BlockTop]], pages: int, n: int
) -> list[tuple[NDArray[np.intp], NDArray[np.float32]]]:
    """Each page's entries of these block tops (each with the page each of its rows belongs to) as one set, in
    row order, with their scores: one sort of (page, row) keys for the whole block. An entry in two tops is one
    product's one score, kept once."""
    keys = np.concatenate([np.repeat(at, np.diff(top.bounds)) * n + top.cols for at, top in tops])
    scores = np.concatenate([top.scores for _, top in tops])
    order = np.argsort(keys, kind="stable")
    keys, scores = keys[order], scores[order]
    first = np.r_[True, keys[1:] != keys[:-1]]
    keys, scores = keys[first], scores[first]
    bounds = np.searchsorted(keys, np.arange(pages + 1) * n)
    rows = (keys - np.repeat(np.arange(pages) * n, np.diff(bounds))).astype(np.intp)
    return [(rows[bounds[i] : bounds[i + 1]], scores[bounds[i] : bounds[i + 1]]) for i in range(pages)]


def metas_at(metas: list[ProductMeta], rows: NDArray[np.intp]) -> list[ProductMeta]:
    """The metas of these rows, in their order (`itemgetter` picks them without a Python loop)."""
    if len(rows) == 0:
        return []
    picked = operator.itemgetter(*rows.tolist())(metas)
    return [picked] if len(rows) == 1 else list(picked)
