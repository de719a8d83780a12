"""Pure scoring tests; the small tag space they share lives here."""

from __future__ import annotations

from recommender.scoring.space import Relation, TagInfo, TagSpace, build_space

EVIDENCE = {"guideline": 1.0, "rct": 0.9, "review": 0.6, "pilot": 0.5, "traditional": 0.3}

TAGS = [
    TagInfo("magnesium", "Magnesium", "nutrient"),
    TagInfo("magnesium-glycinate", "Magnesium Glycinate", "form", "magnesium"),
    TagInfo("magnesium-citrate", "Magnesium Citrate", "form", "magnesium"),
    TagInfo("iron", "Iron", "nutrient"),
    TagInfo("potassium", "Potassium", "nutrient"),
    TagInfo("zinc", "Zinc", "nutrient"),
    TagInfo("vitamin-d", "Vitamin D", "nutrient"),
    TagInfo("restless-legs-syndrome", "Restless Legs Syndrome", "condition"),
    TagInfo("concentrace", "ConcenTrace", "product-line"),
]
RELATIONS = [
    Relation("restless-legs-syndrome", "iron", 0.9, "guideline", ("10.1016/j.sleep.2018.11.019",)),
    Relation("restless-legs-syndrome", "magnesium", 0.6, "pilot", ("10.5664/jcsm.11206",)),
    Relation("restless-legs-syndrome", "vitamin-d", 0.4, "review"),
]


def space(relation_weight: float = 1.0, parent_weight: float = 0.8) -> TagSpace:
    return build_space(
        TAGS, RELATIONS, parent_weight=parent_weight, evidence_weights=EVIDENCE, relation_weight=relation_weight
    )
