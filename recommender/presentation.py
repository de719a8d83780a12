"""What a rendered list shows: compact cards, and cautions shared by several items said once.

Used by the `recommender/widget.html` template; `static/recommender/widget.js` does the same in the
browser, so both render the same markup from the same list.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from django.utils.translation import gettext

from recommender.money import format_price
from recommender.scoring.explain import GRADE_WORDS


def grade_words(grade: str | None) -> str:
    """An evidence grade in plain words, in the active language."""
    words = GRADE_WORDS.get(grade or "")
    return gettext(words) if words else ""


def shared_caution_codes(items: Sequence[Mapping[str, Any]]) -> set[str]:
    """Codes of cautions that two or more items carry: the list says them once."""
    counts = Counter(c["code"] for item in items for c in {c["code"]: c for c in item.get("cautions") or []}.values())
    return {code for code, n in counts.items() if n > 1}


def list_view(recommendations: Mapping[str, Any] | None) -> dict[str, Any]:
    """Cards and the list's shared cautions, from a recommendation list (DESIGN.md section 7 shape)."""
    items = list((recommendations or {}).get("items") or [])
    shared = shared_caution_codes(items)
    cards: list[dict[str, Any]] = []
    notes: dict[str, Mapping[str, Any]] = {}
    for item in items:
        cautions = item.get("cautions") or []
        for caution in cautions:
            if caution["code"] in shared:
                notes.setdefault(caution["code"], caution)
        product = item["product"]
        reasons = item.get("reasons") or []
        cards.append(
            {
                "item": item,
                "product": product,
                "price": format_price(product.get("price"), product.get("currency") or "USD"),
                "reason": reasons[0]["label"] if reasons else "",
                "why": [{**r, "grade_words": grade_words((r.get("evidence") or {}).get("grade"))} for r in reasons],
                "own_cautions": [c for c in cautions if c["code"] not in shared],
                "has_shared": any(c["code"] in shared for c in cautions),
            }
        )
    return {"cards": cards, "shared_cautions": list(notes.values())}
