"""Supplement facts from Oscar product attributes (pure: no ORM).

Two shapes are read, so a catalogue can keep its own attribute types:
- a number attribute whose code ends in its unit: `magnesium_mg` = 250, `vitamin_d_mcg` = 25, `folate_mcg_dfe`;
- a text attribute named after the nutrient: `magnesium` = "250 mg chloride" (amount, unit, then the form).
Underscores in a code stand for hyphens in the nutrient code (`vitamin_d` is `vitamin-d`). Anything else
(a colour, a weight without a nutrient, free text) is not a fact and is left out.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from recommender.adapters import NutrientFact

SUFFIX_UNITS = {
    "mcg_dfe": "mcg DFE",
    "mcg_rae": "mcg RAE",
    "mg_ne": "mg NE",
    "mg": "mg",
    "mcg": "mcg",
    "ug": "mcg",
    "g": "g",
    "iu": "IU",
}
_UNIT = r"mcg DFE|mcg RAE|mg NE|mg alpha-TE|mcg|µg|μg|ug|mg|g|IU|kcal|%DV"
_TEXT_AMOUNT = re.compile(rf"^\s*(\d+(?:[.,]\d+)?)\s*({_UNIT})(?![A-Za-z])\s*(.*)$", re.IGNORECASE)


def nutrient_code(code: str) -> str:
    return code.strip().lower().replace("_", "-")


def from_number(code: str, value: float) -> NutrientFact | None:
    """`magnesium_mg` = 250 -> magnesium 250 mg; None when the code names no unit."""
    lowered = code.lower()
    for suffix, unit in SUFFIX_UNITS.items():
        if lowered.endswith(f"_{suffix}") and len(lowered) > len(suffix) + 1:
            return NutrientFact(nutrient_code(lowered[: -len(suffix) - 1]), float(value), unit)
    return None


def from_text(code: str, value: str) -> NutrientFact | None:
    """`magnesium` = "250 mg chloride" -> magnesium 250 mg, form chloride; None when it is not an amount."""
    match = _TEXT_AMOUNT.match(value or "")
    if match is None:
        return None
    amount, unit, form = match.groups()
    return NutrientFact(nutrient_code(code), float(amount.replace(",", ".")), unit, form.strip())


def attribute_facts(values: Iterable[tuple[str, Any]]) -> list[NutrientFact]:
    """Facts from (attribute code, value) pairs; booleans, dates and options are never amounts."""
    facts = []
    for code, value in values:
        fact = None
        if isinstance(value, bool):
            continue
        if isinstance(value, int | float):
            fact = from_number(code, value)
        elif isinstance(value, str):
            fact = from_text(code, value)
        if fact is not None:
            facts.append(fact)
    return facts
