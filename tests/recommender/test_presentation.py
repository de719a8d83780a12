"""What a rendered list shows: prices for people, cautions shared by several items said once, units."""

from __future__ import annotations

from typing import Any

from django.template.loader import render_to_string
from django.utils import translation

from recommender.money import format_price
from recommender.presentation import list_view, shared_caution_codes
from recommender.units import amount_words

KIDNEY = {"code": "magnesium", "text": "Magnesium: if you have kidney disease, ask your clinician first."}
DOSE = {"code": "dose-magnesium", "text": "One serving provides 500 mg of magnesium, above the 350 mg limit."}


def item(rank: int, *cautions: dict[str, str]) -> dict[str, Any]:
    return {
        "rank": rank,
        "score": 0.5,
        "product": {"sku": f"SKU{rank}", "name": f"Product {rank}", "brand": "B", "price": "1024.50", "currency": "USD",
                    "image_url": f"/static/p{rank}.svg", "url": "/p/"},
        "reasons": [{"tag": "magnesium", "label": "Magnesium is discussed in this article.", "weight": 1.0,
                     "evidence": {"grade": "pilot", "citations": ["10.5664/jcsm.11206"]}}],
        "cautions": list(cautions),
        "link": f"/p/{rank}/?utm_source=x",
    }  # fmt: skip


def test_prices_are_localised() -> None:
    with translation.override("en"):
        assert format_price("24.95", "USD") == "$24.95"
        assert format_price("1024.5", "EUR") == "€1,024.50"
        assert format_price(None, "USD") == ""
        assert format_price("3", "CHF") == "CHF\u00a03.00"


def test_amounts_name_both_units_when_they_differ() -> None:
    assert amount_words(5000, "IU", 125, "mcg") == "5,000 IU (125 mcg)"
    assert amount_words(500, "mg", 500, "mg") == "500 mg"


def test_a_caution_on_several_items_is_said_once() -> None:
    items = [item(1, KIDNEY), item(2, KIDNEY, DOSE), item(3)]
    assert shared_caution_codes(items) == {"magnesium"}
    view = list_view({"items": items, "disclaimer": "D"})
    assert view["shared_cautions"] == [KIDNEY]
    assert [c["own_cautions"] for c in view["cards"]] == [[], [DOSE], []]
    assert [c["has_shared"] for c in view["cards"]] == [True, True, False]
    assert view["cards"][0]["price"] == "$1,024.50"
    assert view["cards"][0]["why"][0]["grade_words"] == "early, limited research"


def test_the_template_renders_compact_cards() -> None:
    payload = {
        "page": {"slug": "rls"},
        "items": [item(1, KIDNEY), item(2, KIDNEY, DOSE)],
        "disclaimer": "Not evaluated.",
    }
    html = render_to_string("recommender/widget.html", {"recommendations": payload, "track": True})
    assert html.count('data-code="magnesium"') == 1
    assert html.count('data-code="dose-magnesium"') == 1
    assert 'data-rec-page="rls"' in html
    assert html.count('class="rec-reason"') == 2
    assert "<details" in html and "doi:10.5664/jcsm.11206" in html and "early, limited research" in html
    assert "$1,024.50" in html
