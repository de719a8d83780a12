"""Units of supplement facts as labels print them, and the conversions between them.

One module for units: the import, the facts-tag sync, dose cautions and the admin all read and convert
amounts through here.

- Mass: g, mg, mcg (also µg, ug).
- Equivalents: mcg DFE (folate), mcg RAE (vitamin A), mg NE (niacin), mg alpha-TE (vitamin E). The taxonomy's
  intake values for those nutrients are already in equivalents, so an equivalent converts 1:1 to its mass base
  (mcg DFE -> mcg of folate). Folic acid and DFE are kept apart (NUTRIENTS.md): a mass of folic acid is
  1.7 times as much DFE (1 mcg DFE = 0.6 mcg folic acid), see `MASS_TO_EQUIVALENT`.
- IU: converted with a tag's `iu_per_unit` (vitamin D 40 IU per mcg, A 3.33 IU per mcg RAE, E 1.49 IU per mg).
- kcal: energy, never converted to mass.
- %DV: a share of the FDA Daily Value; converted with `DAILY_VALUES` where a nutrient has one.
"""

from __future__ import annotations

import re

MASS_IN_MCG = {"g": 1_000_000.0, "mg": 1_000.0, "mcg": 1.0}
EQUIVALENTS = {"mcg DFE": "mcg", "mcg RAE": "mcg", "mg NE": "mg", "mg alpha-TE": "mg"}
PERCENT_DV = "%DV"
UNITS = ("mg", "mcg", "g", "IU", "kcal", "mcg DFE", "mcg RAE", "mg NE", "mg alpha-TE", PERCENT_DV)
FOLIC_ACID_DFE = 1 / 0.6  # mcg DFE per mcg of folic acid (21 CFR 101.9(c)(8)(iv))
# A mass of a form counted in its nutrient's equivalents: (form tag slug, equivalent unit) -> factor.
MASS_TO_EQUIVALENT = {("folic-acid", "mcg DFE"): FOLIC_ACID_DFE}

_SPELLINGS = {
    "mg": "mg", "milligram": "mg", "milligrams": "mg",
    "mcg": "mcg", "µg": "mcg", "μg": "mcg", "ug": "mcg", "microgram": "mcg", "micrograms": "mcg",
    "g": "g", "gram": "g", "grams": "g",
    "iu": "IU", "i.u.": "IU",
    "kcal": "kcal", "calories": "kcal", "calorie": "kcal", "cal": "kcal",
    "mcg dfe": "mcg DFE", "µg dfe": "mcg DFE", "μg dfe": "mcg DFE", "ug dfe": "mcg DFE",
    "mcg rae": "mcg RAE", "µg rae": "mcg RAE", "μg rae": "mcg RAE", "ug rae": "mcg RAE",
    "mg ne": "mg NE",
    "mg alpha-te": "mg alpha-TE", "mg α-te": "mg alpha-TE", "mg a-te": "mg alpha-TE", "mg alpha te": "mg alpha-TE",
    "%dv": PERCENT_DV, "% dv": PERCENT_DV, "%": PERCENT_DV, "% daily value": PERCENT_DV,
}  # fmt: skip

# Longest spelling first, so "mcg DFE" wins over "mcg" and "mg alpha-TE" over "mg".
UNIT_PATTERN = "|".join(re.escape(s) for s in sorted(_SPELLINGS, key=len, reverse=True))

# FDA Daily Values (2016 Supplement Facts rule, adults and children 4+; NUTRIENTS.md), by taxonomy slug.
DAILY_VALUES: dict[str, tuple[float, str]] = {
    "vitamin-a": (900, "mcg RAE"), "vitamin-c": (90, "mg"), "calcium": (1300, "mg"), "iron": (18, "mg"),
    "vitamin-d": (20, "mcg"), "vitamin-e": (15, "mg alpha-TE"), "vitamin-k": (120, "mcg"),
    "vitamin-b1": (1.2, "mg"), "vitamin-b2": (1.3, "mg"), "vitamin-b3": (16, "mg NE"), "vitamin-b6": (1.7, "mg"),
    "folate": (400, "mcg DFE"), "vitamin-b12": (2.4, "mcg"), "biotin": (30, "mcg"), "vitamin-b5": (5, "mg"),
    "phosphorus": (1250, "mg"), "iodine": (150, "mcg"), "magnesium": (420, "mg"), "zinc": (11, "mg"),
    "selenium": (55, "mcg"), "copper": (0.9, "mg"), "manganese": (2.3, "mg"), "chromium": (35, "mcg"),
    "molybdenum": (45, "mcg"), "chloride": (2300, "mg"), "potassium": (4700, "mg"), "choline": (550, "mg"),
    "sodium": (2300, "mg"),
}  # fmt: skip


def parse_unit(text: str) -> str | None:
    """The canonical unit for a unit as printed ('µg' -> 'mcg', 'MCG dfe' -> 'mcg DFE'); None if unknown."""
    return _SPELLINGS.get(" ".join(text.split()).lower())


def canonical_unit(unit: str) -> str:
    """'µg' -> 'mcg', 'iu' -> 'IU', 'mcg dfe' -> 'mcg DFE'; unknown units come back stripped."""
    cleaned = " ".join(unit.split())
    return _SPELLINGS.get(cleaned.lower(), cleaned)


def _mass_base(unit: str) -> str:
    """The mass unit an equivalent is counted in ('mcg DFE' -> 'mcg'); other units unchanged."""
    return EQUIVALENTS.get(unit, unit)


def convert(amount: float, unit: str, to_unit: str, *, iu_per_unit: float | None = None) -> float | None:
    """`amount unit` expressed in `to_unit`; None when it cannot be converted.

    `iu_per_unit` is the tag's IU per `to_unit` (vitamin D: 40 IU per mcg). An equivalent (mcg DFE) converts to
    its mass base 1:1, since a tag's intake values for that nutrient are already in equivalents; %DV and kcal
    never convert here (see `from_daily_value`).
    """
    src, dst = canonical_unit(unit), canonical_unit(to_unit)
    if src == dst:
        return amount
    if src == "IU":
        return amount / iu_per_unit if iu_per_unit else None
    if dst == "IU":
        return amount * iu_per_unit if iu_per_unit else None
    src, dst = _mass_base(src), _mass_base(dst)
    if src in MASS_IN_MCG and dst in MASS_IN_MCG:
        return amount * MASS_IN_MCG[src] / MASS_IN_MCG[dst]
    return None


def from_daily_value(percent: float, slug: str) -> tuple[float, str] | None:
    """A '%DV'-only amount as (amount, unit) from the FDA Daily Value of this nutrient; None when unknown."""
    daily_value = DAILY_VALUES.get(slug)
    if daily_value is None:
        return None
    value, unit = daily_value
    return percent * value / 100, unit


def amount_words(amount: float, unit: str, converted: float | None = None, to_unit: str = "") -> str:
    """ "5,000 IU (125 mcg)": the amount as the label gives it, and in the limit's unit when that differs."""
    text = f"{amount:,g} {unit}"
    if converted is not None and to_unit and canonical_unit(unit) != canonical_unit(to_unit):
        text += f" ({converted:,g} {to_unit})"
    return text
