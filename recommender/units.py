"""Convert supplement-facts amounts into a tag's unit (mg or mcg), including IU and mcg DFE."""

from __future__ import annotations

_MASS_IN_MCG = {"g": 1_000_000.0, "mg": 1_000.0, "mcg": 1.0}
_ALIASES = {"µg": "mcg", "μg": "mcg", "ug": "mcg", "mcg dfe": "mcg", "mcg rae": "mcg", "iu": "IU"}
UNITS = ("mg", "mcg", "g", "IU", "mcg DFE", "µg", "μg", "ug")


def canonical_unit(unit: str) -> str:
    """'µg' -> 'mcg', 'mcg DFE' -> 'mcg', 'iu' -> 'IU'; unknown units come back stripped."""
    cleaned = " ".join(unit.split())
    return _ALIASES.get(cleaned.lower(), cleaned.lower() if cleaned.lower() in _MASS_IN_MCG else cleaned)


def convert(amount: float, unit: str, to_unit: str, *, iu_per_unit: float | None = None) -> float | None:
    """`amount unit` expressed in `to_unit`; None when it cannot be converted."""
    src, dst = canonical_unit(unit), canonical_unit(to_unit)
    if src == dst:
        return amount
    if src == "IU":
        return amount / iu_per_unit if iu_per_unit else None
    if src in _MASS_IN_MCG and dst in _MASS_IN_MCG:
        return amount * _MASS_IN_MCG[src] / _MASS_IN_MCG[dst]
    return None


def amount_words(amount: float, unit: str, converted: float | None = None, to_unit: str = "") -> str:
    """ "5,000 IU (125 mcg)": the amount as the label gives it, and in the limit's unit when that differs."""
    text = f"{amount:,g} {unit}"
    if converted is not None and to_unit and canonical_unit(unit) != canonical_unit(to_unit):
        text += f" ({converted:,g} {to_unit})"
    return text
