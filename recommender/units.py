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
