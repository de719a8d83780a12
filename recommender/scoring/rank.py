"""Rank products for one page: similarity, then the business rules of DESIGN.md section 4.

Pure: takes arrays and plain records, returns ranked items. Ties break by product id, so the
same input always gives the same list.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray


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
) -> NDArray[np.float32]:
    """Cosine per product, with unavailable, contraindicated and over-limit products handled."""
    scores = products @ page
    available = np.fromiter((m.available for m in metas), dtype=bool, count=len(metas))
    contraindicated = np.fromiter((bool(m.tags & against) for m in metas), dtype=bool, count=len(metas))
    over = np.fromiter((m.over_limit for m in metas), dtype=bool, count=len(metas))
    scores = np.where(over, scores * params.dose_penalty, scores)
    return np.where(available & ~contraindicated, scores, -1.0).astype(np.float32)


def apply_boosts(scores: NDArray[np.float32], index_of: dict[int, int], rules: Sequence[Rule]) -> None:
    """Multiply boosted products' scores in place (a boost can lift a marginal product over the minimum)."""
    for rule in rules:
        i = index_of.get(rule.product_id)
        if rule.action == "boost" and i is not None and scores[i] > 0:
            scores[i] *= max(rule.factor, 0.0)


def diversify(order: Sequence[int], metas: Sequence[ProductMeta], params: RankParams) -> list[int]:
    """At most N per primary nutrient and per brand before any product over a cap.

    Products over a cap are not dropped: they follow the others, so a page about one nutrient
    still fills its list with that nutrient when nothing else is relevant.
    """
    per_nutrient: Counter[str] = Counter()
    per_brand: Counter[str] = Counter()
    kept, deferred = [], []
    for i in order:
        meta = metas[i]
        nutrient_full = params.max_per_nutrient and per_nutrient[meta.primary_nutrient] >= params.max_per_nutrient
        brand_full = params.max_per_brand and per_brand[meta.brand] >= params.max_per_brand
        if (meta.primary_nutrient and nutrient_full) or (meta.brand and brand_full):
            deferred.append(i)
            continue
        per_nutrient[meta.primary_nutrient] += 1
        per_brand[meta.brand] += 1
        kept.append(i)
    return kept + deferred


def guard_top(order: list[int], metas: Sequence[ProductMeta]) -> list[int]:
    """A caution product (iron) never stands first: the best unguarded product goes ahead of it."""
    if order and metas[order[0]].guarded:
        for pos, i in enumerate(order):
            if not metas[i].guarded:
                return [i, *order[:pos], *order[pos + 1 :]]
    return order


def place_pins(order: list[Ranked], pins: list[Ranked], limit: int) -> list[Ranked]:
    """Insert pinned items at their 1-based positions (clamped to the list end)."""
    result = [r for r in order if r.product_id not in {p.product_id for p in pins}]
    for pin in sorted(pins, key=lambda p: (p.position, p.product_id)):
        result.insert(min(pin.position - 1, len(result)), pin)
    return result[:limit]


def rank(
    page: NDArray[np.float32],
    products: NDArray[np.float32],
    metas: Sequence[ProductMeta],
    *,
    rules: Sequence[Rule] = (),
    against: frozenset[str] = frozenset(),
    params: RankParams = RankParams(),
) -> list[Ranked]:
    """The list for one page: at most `params.limit` unique, available products."""
    scores = candidate_scores(page, products, metas, against=against, params=params)
    index_of = {m.id: i for i, m in enumerate(metas)}
    apply_boosts(scores, index_of, rules)
    excluded = {r.product_id for r in rules if r.action == "exclude"}
    buried = {r.product_id for r in rules if r.action == "bury"}
    pin_rules = {r.product_id: r for r in rules if r.action == "pin" and r.product_id not in excluded}
    eligible = [
        i
        for i in np.lexsort((np.array([m.id for m in metas]), -scores)).tolist()
        if scores[i] >= params.min_score and metas[i].id not in excluded and metas[i].id not in pin_rules
    ]
    # Buried products stay listed, after every other relevant product; the caution rule outranks burying.
    order = diversify([i for i in eligible if metas[i].id not in buried], metas, params)
    order = guard_top(order + [i for i in eligible if metas[i].id in buried], metas)
    link_by_id = {r.product_id: dict(r.link_params) for r in rules if r.link_params}
    ranked = [Ranked(i, metas[i].id, float(scores[i]), link_params=link_by_id.get(metas[i].id, {})) for i in order]
    pins = []
    for product_id, rule in pin_rules.items():
        i = index_of.get(product_id)
        if i is None or not metas[i].available:
            continue
        score = float(max(scores[i], 0.0))
        position = max(1, rule.position or 1)
        pins.append(Ranked(i, product_id, score, pinned=True, position=position, link_params=dict(rule.link_params)))
    return place_pins(ranked, pins, params.limit)
