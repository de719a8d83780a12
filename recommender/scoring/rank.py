"""Rank products for one page: similarity, then the business rules of DESIGN.md section 4.

Pure: takes arrays and plain records, returns ranked items. Ties break by product id, so the
same input always gives the same list.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from recommender.scoring.related import Groups, run_places


@dataclass(frozen=True)
class ProductMeta:
    """What the rules need to know about a product, in the same order as the product matrix."""

    id: int
    available: bool
    brand: str = ""
    primary_nutrient: str = ""
    guarded: bool = False  # carries a caution that keeps it off the top spot unless pinned
    over_limit: bool = False  # a serving exceeds a nutrient's supplemental upper limit
    tags: frozenset[str] = frozenset()  # approved tags with their parents
    contains: frozenset[str] = frozenset()  # every nutrient in it at any amount (facts and tags), with parents
    guards: frozenset[str] = frozenset()  # the guarded nutrients it contains (iron)

    @property
    def holds(self) -> frozenset[str]:
        """What the product is or contains, for the avoid rules."""
        return self.tags | self.contains


@dataclass(frozen=True)
class Rule:
    """A placement in force for this page."""

    product_id: int
    action: str  # pin, boost, bury, exclude
    position: int | None = None
    factor: float = 1.0
    link_params: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class RankParams:
    """Knobs from settings, passed in so this module never reads Django settings."""

    limit: int = 6
    min_score: float = 0.12
    max_per_nutrient: int = 3
    max_per_brand: int = 4
    dose_penalty: float = 0.85
    lead_share: float = 0.5
    guarded_in_top: int = 1  # at most this many guarded products among the first TOP_WINDOW items


@dataclass
class Ranked:
    """One item of a ranked list."""

    index: int  # row in the product matrix
    product_id: int
    score: float
    pinned: bool = False
    position: int = 0  # requested 1-based position, for pins
    link_params: dict[str, str] = field(default_factory=dict)


def candidate_scores(
    page: NDArray[np.float32],
    products: NDArray[np.float32],
    metas: Sequence[ProductMeta],
    *,
    against: frozenset[str],
    params: RankParams,
    unwanted: frozenset[str] = frozenset(),
    open_page: NDArray[np.float32] | None = None,
    subject: str = "",
) -> NDArray[np.float32]:
    """Cosine per product, with unavailable, contraindicated, guarded and over-limit products handled.

    A product is contraindicated when it contains, at any amount, a nutrient the page says to avoid
    (`against`), or when its primary nutrient is one the page merely speaks against (`unwanted`: "not
    iron"; an electrolyte mix with some magnesium stays on a page that says "not magnesium").
    Unless the page is about its nutrient, a guarded product (iron: a clinician checks first) is
    scored against the whole page and the other products against `open_page`, the page without the
    guarded nutrients, so a page's weight on iron does not crowd out what shoppers may choose for
    themselves.
    """
    guarded = np.fromiter((is_guarded(m, subject) for m in metas), dtype=bool, count=len(metas))
    scores = np.where(guarded, products @ page, products @ (page if open_page is None else open_page))
    available = np.fromiter((m.available for m in metas), dtype=bool, count=len(metas))
    contraindicated = np.fromiter(
        ((bool(against) and bool(m.holds & against)) or m.primary_nutrient in unwanted for m in metas),
        dtype=bool,
        count=len(metas),
    )
    over = np.fromiter((m.over_limit for m in metas), dtype=bool, count=len(metas))
    scores = np.where(over, scores * params.dose_penalty, scores)
    return np.where(available & ~contraindicated, scores, -1.0).astype(np.float32)


MAX_BOOST = 100.0


def apply_boosts(scores: NDArray[np.float32], index_of: dict[int, int], rules: Sequence[Rule]) -> None:
    """Multiply boosted products' scores in place (a boost can lift a marginal product over the minimum).

    Factors are clamped to [0, MAX_BOOST] so no stored factor can overflow a score to infinity.
    """
    for rule in rules:
        i = index_of.get(rule.product_id)
        if rule.action == "boost" and i is not None and scores[i] > 0:
            factor = rule.factor if np.isfinite(rule.factor) else 0.0
            scores[i] *= min(max(factor, 0.0), MAX_BOOST)


def diversify(
    order: Sequence[int], metas: Sequence[ProductMeta], params: RankParams, keys: NDArray[np.intp] | None = None
) -> list[int]:
    """At most N per primary nutrient and per brand before any product over a cap.

    Products over a cap are not dropped: they follow the others, so a page about one nutrient
    still fills its list with that nutrient when nothing else is relevant. With only one cap set, `keys`
    (per product, what that cap counts as a number, -1 for nothing) lets it count in a few array passes.
    """
    cap = params.max_per_nutrient or params.max_per_brand
    if keys is not None and not (params.max_per_nutrient and params.max_per_brand) and len(order):
        at = np.asarray(order, dtype=np.intp)
        counted = keys[at]
        by_key = np.argsort(counted, kind="stable")  # within a key, in `order`
        place = np.empty(len(at), dtype=np.intp)
        place[by_key] = run_places(counted[by_key])
        keep = (counted < 0) | (place < cap) if cap else np.ones(len(at), dtype=bool)
        return at[keep].tolist() + at[~keep].tolist()
    # Plain dicts: a Counter's missing key is a Python call, and this runs for every candidate of every page.
    per_nutrient: dict[str, int] = {}
    per_brand: dict[str, int] = {}
    max_nutrient, max_brand = params.max_per_nutrient, params.max_per_brand
    kept, deferred = [], []
    for i in order:
        meta = metas[i]
        nutrient, brand = meta.primary_nutrient, meta.brand
        taken_nutrient, taken_brand = per_nutrient.get(nutrient, 0), per_brand.get(brand, 0)
        nutrient_full = nutrient and max_nutrient and taken_nutrient >= max_nutrient
        if nutrient_full or (brand and max_brand and taken_brand >= max_brand):
            deferred.append(i)
            continue
        per_nutrient[nutrient] = taken_nutrient + 1
        per_brand[brand] = taken_brand + 1
        kept.append(i)
    return kept + deferred


def cap_groups(nutrients: NDArray[np.intp], brands: Sequence[str], params: RankParams) -> Groups:
    """Products in groups of `diversify`'s caps: one primary nutrient (`nutrients[i]`, -1 for none) and brand.

    However deep in the catalog, a product a list holds before any over a cap is among the best `caps` of its
    group (the least of the group's caps; `params.limit` where no cap counts): with that many of its group
    ahead of it, all held, one of its caps would be full. Where only one cap is set, a group's best product
    is surely held (nothing else counts toward its cap), and so are the best `limit` products no cap counts
    (`sure`): no product below the `limit`-th of those reaches the list's first `limit`.
    """
    nutrient = nutrients if params.max_per_nutrient else np.full(len(nutrients), -1, dtype=np.intp)
    brand = codes(brands) if params.max_per_brand else np.full(len(brands), -1, dtype=np.intp)
    cells, of = np.unique(np.stack([nutrient, brand], axis=1), axis=0, return_inverse=True)
    capped = np.zeros(len(cells), dtype=bool)
    caps = np.full(len(cells), params.limit, dtype=np.intp)
    if params.max_per_nutrient:
        capped |= cells[:, 0] >= 0
        caps = np.where(cells[:, 0] >= 0, np.minimum(caps, params.max_per_nutrient), caps)
    if params.max_per_brand:
        capped |= cells[:, 1] >= 0
        caps = np.where(cells[:, 1] >= 0, np.minimum(caps, params.max_per_brand), caps)
    one_cap = not (params.max_per_nutrient and params.max_per_brand)
    sure = np.where(capped, np.minimum(caps, 1 if one_cap else 0), caps)
    return Groups(of.reshape(-1).astype(np.intp), caps, sure.astype(np.intp))


def codes(values: Sequence[str]) -> NDArray[np.intp]:
    """A number per distinct value, -1 for the empty string."""
    numbers: dict[str, int] = {"": -1}
    return np.fromiter((numbers.setdefault(v, len(numbers) - 1) for v in values), dtype=np.intp, count=len(values))


TOP_WINDOW = 3


def is_guarded(meta: ProductMeta, subject: str) -> bool:
    """Guarded (iron), unless the page is about that very nutrient (an iron fact page)."""
    if not meta.guarded:
        return False
    return not (subject and meta.guards and meta.guards <= {subject})


def may_lead(meta: ProductMeta, subject: str, held_back: frozenset[str] = frozenset()) -> bool:
    """Neither guarded nor mainly a nutrient the page's research found no benefit from (`held_back`)."""
    return not is_guarded(meta, subject) and meta.primary_nutrient not in held_back


def guard_top(
    order: list[int],
    metas: Sequence[ProductMeta],
    scores: NDArray[np.float32],
    *,
    subject: str,
    lead_share: float,
    held_back: frozenset[str] = frozenset(),
) -> list[int]:
    """A guarded product (iron) never stands first, even when every candidate is guarded.

    The best product that may lead goes first, but only if it is relevant in its own right (at least
    `lead_share` of the best score): nothing leads just because the guarded products were moved. When
    no product may lead, the list is empty.
    """
    if not order:
        return order
    best = float(scores[order[0]])
    for pos, i in enumerate(order):
        if may_lead(metas[i], subject, held_back) and float(scores[i]) >= lead_share * best:
            return [i, *order[:pos], *order[pos + 1 :]]
    return []


def spread_guarded(order: list[int], metas: Sequence[ProductMeta], *, subject: str, allowed: int) -> list[int]:
    """At most `allowed` guarded products among the first TOP_WINDOW items while others are left to show.

    Guarded products carry a caution (ask a clinician first); they stay listed, just not crowding the top.
    """
    top: list[int] = []
    waiting: list[int] = []
    rest = list(order)
    while rest and len(top) < TOP_WINDOW:
        i = rest.pop(0)
        crowded = is_guarded(metas[i], subject) and sum(is_guarded(metas[j], subject) for j in top) >= allowed
        if crowded and any(not is_guarded(metas[j], subject) for j in rest):
            waiting.append(i)
            continue
        top.append(i)
    return top + waiting + rest


def place_pins(order: list[Ranked], pins: list[Ranked], limit: int) -> list[Ranked]:
    """Insert pinned items at their 1-based positions (clamped to the list end)."""
    pinned = {p.product_id for p in pins}
    result = [r for r in order if r.product_id not in pinned]
    for pin in sorted(pins, key=lambda p: (p.position, p.product_id)):
        result.insert(min(pin.position - 1, len(result)), pin)
    return result[:limit]


def rank(
    page: NDArray[np.float32],
    products: NDArray[np.float32] | None,
    metas: Sequence[ProductMeta],
    *,
    rules: Sequence[Rule] = (),
    against: frozenset[str] = frozenset(),
    unwanted: frozenset[str] = frozenset(),
    subject: str = "",
    held_back: frozenset[str] = frozenset(),
    open_page: NDArray[np.float32] | None = None,
    params: RankParams = RankParams(),
    scores: NDArray[np.float32] | None = None,
    ids: NDArray[np.int64] | None = None,
    cap_keys: NDArray[np.intp] | None = None,
) -> list[Ranked]:
    """The list for one page: at most `params.limit` unique, available products.

    `against` holds the nutrients the page says to avoid (any amount), `unwanted` those it merely speaks
    against, `subject` the nutrient the page is about, if any, and `held_back` nutrients whose products
    may not lead (research on the page's condition found no benefit). `scores` are the products'
    `candidate_scores` when the caller has them already (an engine works them out from its arrays),
    `ids` the products' ids as an array (the metas' ids otherwise), and `cap_keys` what the one cap set
    counts, per product (`diversify`).
    """
    if scores is None:
        if products is None:
            raise ValueError("rank needs the products' vectors or their scores")
        scores = candidate_scores(
            page, products, metas, against=against, unwanted=unwanted, params=params, open_page=open_page,
            subject=subject,
        )  # fmt: skip
    else:
        scores = scores.copy()  # boosts change them in place
    index_of = {m.id: i for i, m in enumerate(metas)} if rules else {}
    apply_boosts(scores, index_of, rules)
    excluded = {r.product_id for r in rules if r.action == "exclude"}
    buried = {r.product_id for r in rules if r.action == "bury"}
    pin_rules = {r.product_id: r for r in rules if r.action == "pin" and r.product_id not in excluded}
    if ids is None:
        ids = np.fromiter((m.id for m in metas), dtype=np.int64, count=len(metas))
    by_score = np.lexsort((ids, -scores))
    eligible = by_score[scores[by_score] >= params.min_score].tolist()
    if excluded or pin_rules:
        eligible = [i for i in eligible if metas[i].id not in excluded and metas[i].id not in pin_rules]
    # Buried products stay listed, after every other relevant product; the caution rule outranks burying.
    at_end = [i for i in eligible if metas[i].id in buried] if buried else []
    kept = [i for i in eligible if metas[i].id not in buried] if buried else eligible
    order = diversify(kept, metas, params, cap_keys)
    order = guard_top(
        order + at_end,
        metas,
        scores,
        subject=subject,
        lead_share=params.lead_share,
        held_back=held_back,
    )
    order = order[:1] + spread_guarded(order[1:], metas, subject=subject, allowed=params.guarded_in_top)
    link_by_id = {r.product_id: dict(r.link_params) for r in rules if r.link_params}
    # Pins are never in `order`, so no item past the limit can show: only those are built.
    ranked = [
        Ranked(i, metas[i].id, float(scores[i]), link_params=link_by_id.get(metas[i].id, {}))
        for i in order[: params.limit]
    ]
    pins = []
    for product_id, rule in pin_rules.items():
        i = index_of.get(product_id)
        if i is None or not metas[i].available or metas[i].holds & against:
            continue  # a pin never shows a product the page says to avoid
        score = float(max(scores[i], 0.0))
        position = max(1, rule.position or 1)
        pins.append(Ranked(i, product_id, score, pinned=True, position=position, link_params=dict(rule.link_params)))
    return place_pins(ranked, pins, params.limit)
