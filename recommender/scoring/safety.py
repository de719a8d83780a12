"""What a page says about safety and its subject: nutrients to avoid, nutrients research found no
benefit from, pages with nothing to recommend, and the nutrient a page is about.

Pure: takes the tag space and a page's tag weights.
"""

from __future__ import annotations

from collections.abc import Mapping

from recommender.scoring.space import NO_BENEFIT, TagSpace

TOPIC_KINDS = frozenset({"condition", "symptom"})


def avoided(space: TagSpace, weights: Mapping[str, float], *, subject_weight: float) -> frozenset[str]:
    """Nutrients no listed product may contain: the "avoid" relations of every condition the page is
    about (weight at least `subject_weight`), whatever else the page says."""
    against: set[str] = set()
    for slug, w in weights.items():
        if w >= subject_weight and slug in space.index:
            against |= space.avoided(slug)
    return frozenset(against)


def no_benefit(space: TagSpace, weights: Mapping[str, float], *, topic_weight: float) -> frozenset[str]:
    """Nutrients research found no benefit from for a condition the page is about (magnesium for leg
    cramps): their products may be listed where the page discusses them, but never lead."""
    return frozenset(
        r.target
        for slug, w in weights.items()
        if w >= topic_weight
        for r in space.relations_from(slug)
        if r.polarity == NO_BENEFIT
    )


def is_safety_page(space: TagSpace, weights: Mapping[str, float]) -> bool:
    """The page's main topic is a condition the taxonomy links only to nutrients to avoid
    (haemochromatosis, kidney disease): such a page discusses nothing the store should recommend."""
    positive = {slug: w for slug, w in weights.items() if w > 0 and slug in space.index}
    best = max(positive.values(), default=0.0)
    return any(space.only_avoids(slug) for slug, w in positive.items() if w >= best)


def page_subject(space: TagSpace, weights: Mapping[str, float], *, topic_weight: float = 0.5) -> str:
    """The nutrient the page is about (an iron fact page), or "".

    The page's strongest tag must be the nutrient, one of its forms or its deficiency (a tag whose
    parent is the nutrient), and no other condition or symptom may be a main topic (`topic_weight`):
    a page about restless legs that names iron often is about restless legs.
    """
    positive = {slug: w for slug, w in weights.items() if w > 0 and slug in space.index}
    if not positive:
        return ""
    best = max(positive.values())
    top = {space.ancestors(slug)[-1] for slug, w in positive.items() if w >= best}
    if len(top) != 1:
        return ""
    (subject,) = top
    if space.info(subject).kind != "nutrient":
        return ""
    topics = [s for s, w in positive.items() if w >= topic_weight and space.info(s).kind in TOPIC_KINDS]
    if any(space.ancestors(s)[-1] != subject for s in topics):
        return ""
    return subject
