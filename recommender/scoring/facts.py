"""How central each nutrient is to a product, from its supplement facts.

Each amount is measured against its reference intake (capped at one intake, so a large dose is no
better a match than a normal one), then shared out: a potassium-only product is fully about
potassium even at 99 mg, and 500 mg of magnesium matches no better than 200 mg.
"""

from __future__ import annotations

from collections.abc import Mapping


def centrality(ratios: Mapping[str, float]) -> dict[str, float]:
    """Relevance per nutrient in [0, 1] from amount / reference-intake ratios; the top nutrient is 1."""
    capped = {slug: min(max(r, 0.0), 1.0) for slug, r in ratios.items() if r > 0}
    top = max(capped.values(), default=0.0)
    if top <= 0:
        return {}
    return {slug: round(r / top, 4) for slug, r in capped.items() if r / top >= 0.01}
