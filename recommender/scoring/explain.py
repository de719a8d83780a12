"""Reasons a shopper can read: which tags made a product relevant, with their evidence.

Wording describes the article ("Magnesium is discussed in this article"), never what a product
does for a disease.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from numpy.typing import NDArray

from recommender.scoring.space import NO_BENEFIT, SUPPORTS, Relation, TagSpace

GRADE_WORDS = {
    "guideline": "addressed in a clinical practice guideline",
    "rct": "studied in randomised controlled trials",
    "review": "summarised in reviews with mixed results",
    "pilot": "early, limited research",
    "traditional": "traditional use, little research",
}


def best_relation(
    space: TagSpace, page_weights: Mapping[str, float], slug: str, polarity: str = SUPPORTS
) -> Relation | None:
    """The relation of this polarity from the page's main topic to this tag (or its parent)."""
    targets = set(space.ancestors(slug))
    candidates = [
        r
        for r in space.relations
        if r.polarity == polarity and r.target in targets and page_weights.get(r.source, 0.0) > 0
    ]
    return max(candidates, key=lambda r: (page_weights[r.source] * r.strength, r.source), default=None)


def no_benefit_label(space: TagSpace, slug: str, rel: Relation) -> str:
    """The nutrient is discussed, and research on the page's condition found no benefit: say so plainly."""
    name = space.info(slug).name
    topic = space.info(rel.source).name.lower()
    return f"{name} is discussed in this article; research on {topic} found no benefit shown."


def reason_label(space: TagSpace, page_weights: Mapping[str, float], slug: str, rel: Relation | None) -> str:
    """One plain sentence about the article, not about the product's effect."""
    name = space.info(slug).name
    if rel is None:
        return f"{name} is discussed in this article."
    if page_weights.get(slug, 0.0) > 0:
        return f"{name} is discussed in this article (evidence: {GRADE_WORDS[rel.grade]})."
    topic = space.info(rel.source).name.lower()
    evidence = GRADE_WORDS[rel.grade]
    return f"This article discusses {topic}; sources link it with {name.lower()} (evidence: {evidence})."


def top_contributors(
    space: TagSpace, a: NDArray[np.float32], b: NDArray[np.float32], *, top: int = 3
) -> list[tuple[str, float]]:
    """Tags that carry the similarity of two vectors, with their share; one tag per family."""
    contributions = a * b
    positive = np.flatnonzero(contributions > 0)  # a handful of tags: sort only those
    total = float(contributions[positive].sum())
    if total <= 0:
        return []
    found: list[tuple[str, float]] = []
    covered: set[str] = set()
    for i in positive[np.argsort(-contributions[positive], kind="stable")].tolist():
        share = float(contributions[i]) / total
        if share < 0.05 or len(found) >= top:
            break
        slug = space.tags[i].slug
        family = set(space.ancestors(slug))
        if family & covered:
            continue  # "magnesium citrate" adds nothing a shopper needs after "magnesium"
        covered |= family
        found.append((slug, round(share, 3)))
    return found


def explain(
    space: TagSpace,
    page_weights: Mapping[str, float],
    page: NDArray[np.float32],
    product: NDArray[np.float32],
    *,
    top: int = 3,
) -> list[dict[str, Any]]:
    """The top contributing tags with their share of the score and the evidence behind them."""
    reasons = []
    for slug, share in top_contributors(space, page, product, top=top):
        rel = best_relation(space, page_weights, slug)
        label = reason_label(space, page_weights, slug, rel)
        caveat = best_relation(space, page_weights, slug, NO_BENEFIT) if rel is None else None
        if caveat is not None:
            rel, label = caveat, no_benefit_label(space, slug, caveat)
        reasons.append(
            {
                "tag": slug,
                "label": label,
                "weight": share,
                "evidence": {
                    "grade": rel.grade if rel else None,
                    "citations": list(rel.citations) if rel else [],
                },
            }
        )
    return reasons


def shared_label(space: TagSpace, slug: str) -> str:
    """Why another product is related: what the two share."""
    info = space.info(slug)
    if info.kind == "product-line":
        return f"Also part of the {info.name} range."
    if info.kind in ("nutrient", "form"):
        return f"Also contains {info.name.lower()}."
    return f"Also tagged {info.name.lower()}."


def discusses_label(space: TagSpace, slug: str) -> str:
    """Why an article is related to a product: what it discusses."""
    info = space.info(slug)
    return f"Discusses {info.name if info.kind == 'product-line' else info.name.lower()}."


def simple_reasons(
    space: TagSpace, a: NDArray[np.float32], b: NDArray[np.float32], label: Any, *, top: int = 2
) -> list[dict[str, Any]]:
    """Reasons without evidence grades, for product-to-product and product-to-article lists."""
    return [
        {"tag": slug, "label": label(space, slug), "weight": share, "evidence": {"grade": None, "citations": []}}
        for slug, share in top_contributors(space, a, b, top=top)
    ]
