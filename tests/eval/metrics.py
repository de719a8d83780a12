"""The evaluation's metrics: pure functions of ranked skus, judgments and a catalog view (no ORM).

Per page: nDCG@5 and P@3 from the graded judgments; forbidden items in the top 5; avoid
violations (a product anywhere in the list whose supplement facts contain a nutrient the page's
judgment lists under `avoid`); a guarded first item (the first product contains a nutrient the
judgment lists under `not_first`); and whether the list is empty. Per set: the means and counts
`make eval` prints, and the targets a set is checked against.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

K = 5
P_AT = 3
RELEVANT = 2  # grade at or above which an item counts for precision


def dcg(gains: Sequence[float]) -> float:
    return sum(g / math.log2(i + 2) for i, g in enumerate(gains))


def ndcg_at_k(ranked: Sequence[str], grades: Mapping[str, int], k: int = K) -> float:
    """nDCG@k with gain = grade, log2 discount, ideal from the judged grades; 0 when nothing is judged."""
    ideal = dcg(sorted((g for g in grades.values() if g > 0), reverse=True)[:k])
    if ideal == 0:
        return 0.0
    return dcg([grades.get(sku, 0) for sku in ranked[:k]]) / ideal


def precision_at_k(ranked: Sequence[str], grades: Mapping[str, int], k: int = P_AT) -> float:
    """Share of the first k slots holding a product graded >= RELEVANT (empty slots count as misses)."""
    return sum(1 for sku in ranked[:k] if grades.get(sku, 0) >= RELEVANT) / k


def mean(values: Sequence[float]) -> float:
    return sum(values) / len(values) if values else 0.0


@dataclass
class Catalog:
    """What the metrics need to know about products, read once after a set's catalog is loaded."""

    sku_by_id: dict[int, str]
    in_stock: dict[str, bool]  # in stock and active (the adapter's is_available)
    approved_tags: dict[str, frozenset[str]]  # sku -> approved tag slugs (as stored, no parents)
    id_by_sku: dict[str, int] = field(default_factory=dict)
    # sku -> nutrient tag slugs its supplement facts contain (with parents: ferrous-sulfate -> iron)
    contains: dict[str, frozenset[str]] = field(default_factory=dict)
    # Flag a product with no approved tags as forbidden. Right for the project set, whose demo catalog is
    # hand-tagged (untagged there means "nothing to do with minerals"); wrong for a feed catalog with an
    # empty tags column, where it says nothing about relevance: the judged `forbidden` lists name the
    # never-relevant products explicitly instead.
    untagged_is_bad: bool = True

    def bad_reasons(self, sku: str, forbidden: Sequence[str]) -> list[str]:
        """Why this sku must not be in a top 5 (empty when it may)."""
        reasons = []
        if sku in forbidden:
            reasons.append("judged forbidden")
        if not self.in_stock.get(sku, False):
            reasons.append("out of stock or inactive")
        if self.untagged_is_bad and not self.approved_tags.get(sku):
            reasons.append("no approved tags")
        return reasons

    def containing(self, sku: str, codes: Sequence[str]) -> list[str]:
        """The nutrients among `codes` that this product's supplement facts contain."""
        return sorted(set(codes) & self.contains.get(sku, frozenset()))


def score_page(ranked: Sequence[str], judgment: Mapping[str, Any], catalog: Catalog) -> dict[str, Any]:
    """One system's list for one page; `ranked` may be longer than K (avoid is checked on all of it)."""
    grades = judgment.get("grades", {})
    forbidden = judgment.get("forbidden", [])
    bad = {sku: r for sku in ranked[:K] if (r := catalog.bad_reasons(sku, forbidden))}
    avoid = {sku: c for sku in ranked if (c := catalog.containing(sku, judgment.get("avoid", [])))}
    first = catalog.containing(ranked[0], judgment.get("not_first", [])) if ranked else []
    return {
        "top": list(ranked[:K]),
        "grades": [grades.get(sku, 0) for sku in ranked[:K]],
        "ndcg": round(ndcg_at_k(ranked, grades), 4),
        "p_at_3": round(precision_at_k(ranked, grades), 4),
        "forbidden": bad,
        "avoid": avoid,
        "guarded_first": first,
        "empty": not ranked,
    }


def summarise(pages: Mapping[str, dict[str, Any]], judgments: Mapping[str, Any]) -> dict[str, float]:
    on = [s for s in pages if not judgments[s]["off_topic"]]
    off = [s for s in pages if judgments[s]["off_topic"]]
    return {
        "ndcg": round(mean([pages[s]["ndcg"] for s in on]), 4),
        "p_at_3": round(mean([pages[s]["p_at_3"] for s in on]), 4),
        "forbidden_rate": round(mean([1.0 if pages[s]["forbidden"] else 0.0 for s in pages]), 4),
        "avoid_violations": sum(1 for s in pages if pages[s].get("avoid")),
        "guarded_first": sum(1 for s in pages if pages[s].get("guarded_first")),
        "off_topic_empty": round(mean([1.0 if pages[s]["empty"] else 0.0 for s in off]), 4),
        "on_topic_pages": len(on),
        "off_topic_pages": len(off),
    }


def target_failures(
    engine: Mapping[str, float], baseline: Mapping[str, float], targets: Mapping[str, float]
) -> list[str]:
    """Targets the engine misses (empty when it meets them all). Only the targets given are checked."""
    problems = []
    if "ndcg" in targets and engine["ndcg"] < targets["ndcg"]:
        problems.append(f"mean nDCG@5 {engine['ndcg']:.3f} < {targets['ndcg']}")
    if "forbidden_rate" in targets and engine["forbidden_rate"] > targets["forbidden_rate"]:
        problems.append(f"forbidden rate {engine['forbidden_rate']:.3f} > {targets['forbidden_rate']}")
    if "avoid_violations" in targets and engine["avoid_violations"] > targets["avoid_violations"]:
        problems.append(f"avoid violations {engine['avoid_violations']} > {targets['avoid_violations']:g}")
    if "off_topic_empty" in targets and engine["off_topic_empty"] < targets["off_topic_empty"]:
        problems.append(f"off-topic empty {engine['off_topic_empty']:.3f} < {targets['off_topic_empty']}")
    if targets.get("beat_baseline") and engine["ndcg"] <= baseline["ndcg"]:
        problems.append(f"engine nDCG@5 {engine['ndcg']:.3f} not ahead of baseline {baseline['ndcg']:.3f}")
    return problems
