"""Reasons a shopper can read: which tags made a product relevant, with their evidence.

Wording describes the article ("Magnesium is discussed in this article"), never what a product
does for a disease.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Any

import numpy as np
from numpy.typing import NDArray

from recommender.scoring.space import NO_BENEFIT, SUPPORTS, Relation, TagInfo, TagSpace

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


@lru_cache(maxsize=4096)
def in_sentence(name: str) -> str:
    """A tag name inside a sentence: "Trace Minerals" -> "trace minerals", "Vitamin D" -> "vitamin D".

    Cached: a refresh words the same few hundred tag names hundreds of thousands of times."""
    return " ".join(w if len(w) == 1 or any(c.isdigit() for c in w) else w.lower() for w in name.split(" "))


def subject(name: str, kind: str = "") -> str:
    """A tag name opening a sentence: product lines keep their spelling, others read as plain words."""
    if kind == "product-line":
        return name
    words = in_sentence(name)
    return words[:1].upper() + words[1:]


def is_line_name(info: TagInfo) -> bool:
    """A product line with a maker's spelling ("ConcenTrace", "Mega-Mag"), not a category ("Multivitamin")."""
    return info.kind == "product-line" and any(c.isupper() for c in info.name[1:])


def is_plural(name: str) -> bool:
    """Whether a tag name takes "are": "Electrolytes", "Trace Minerals"; not "Magnesium" or "Ferrous Sulfate"."""
    last = name.split()[-1].lower() if name.split() else ""
    return last.endswith("s") and not last.endswith(("ss", "us", "is"))


def discussed(name: str, kind: str = "") -> str:
    """A sentence saying the article discusses this tag, with the verb agreeing ("Electrolytes are")."""
    return f"{subject(name, kind)} {'are' if is_plural(name) else 'is'} discussed in this article."


def no_benefit_label(space: TagSpace, slug: str, rel: Relation) -> str:
    """The nutrient is discussed, and research on the page's condition found no benefit: say so plainly."""
    info = space.info(slug)
    topic = in_sentence(space.info(rel.source).name)
    return f"{discussed(info.name, info.kind)[:-1]}; research on {topic} has shown no benefit."


def reason_label(space: TagSpace, page_weights: Mapping[str, float], slug: str, rel: Relation | None) -> str:
    """One plain sentence about the article, not about the product's effect; the evidence grade and
    sources travel beside it (`evidence`) and are shown in the list's disclosure."""
    info = space.info(slug)
    if is_line_name(info):
        return f"From the {info.name} line named in this article."
    if rel is None or page_weights.get(slug, 0.0) > 0:
        return discussed(info.name, info.kind)
    topic = in_sentence(space.info(rel.source).name)
    return f"This article discusses {topic}; sources link it with {in_sentence(info.name)}."


def top_contributors(
    space: TagSpace, a: NDArray[np.float32], b: NDArray[np.float32], *, top: int = 3
) -> list[tuple[str, float]]:
    """Tags that carry the similarity of two vectors, with their share; one tag per family."""
    return top_contributors_many(space, a, b[np.newaxis, :], top=top)[0]


def top_contributors_many(
    space: TagSpace, a: NDArray[np.float32], rows: NDArray[np.float32], *, top: int = 3
) -> list[list[tuple[str, float]]]:
    """`top_contributors` of `a` with each row, sorted in one numpy call for the whole block."""
    contributions = rows * a
    totals = np.where(contributions > 0, contributions, 0.0).sum(axis=1)
    order = np.argsort(-contributions, axis=1, kind="stable")
    return [_contributors(space, contributions[i], order[i], float(totals[i]), top) for i in range(len(rows))]


def _contributors(
    space: TagSpace, contributions: NDArray[np.float32], order: NDArray[np.intp], total: float, top: int
) -> list[tuple[str, float]]:
    found: list[tuple[str, float]] = []
    if total <= 0:
        return found
    covered: set[str] = set()
    for i in order.tolist():
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
        return f"Also contains {in_sentence(info.name)}."
    return f"Also tagged {in_sentence(info.name)}."


def discusses_label(space: TagSpace, slug: str) -> str:
    """Why an article is related to a product: what it discusses."""
    info = space.info(slug)
    return f"Discusses {info.name if info.kind == 'product-line' else in_sentence(info.name)}."


def simple_reasons(
    space: TagSpace, a: NDArray[np.float32], b: NDArray[np.float32], label: Any, *, top: int = 2
) -> list[dict[str, Any]]:
    """Reasons without evidence grades, for product-to-product and product-to-article lists."""
    return simple_reasons_many(space, a, b[np.newaxis, :], label, top=top)[0]


def simple_reasons_many(
    space: TagSpace, a: NDArray[np.float32], rows: NDArray[np.float32], label: Any, *, top: int = 2
) -> list[list[dict[str, Any]]]:
    """`simple_reasons` of `a` with each row of a block (one list's items at once)."""
    return [
        [
            {"tag": slug, "label": label(space, slug), "weight": share, "evidence": {"grade": None, "citations": []}}
            for slug, share in found
        ]
        for found in top_contributors_many(space, a, rows, top=top)
    ]
