"""Management commands of the plugin: recommend (--json) and refresh_recommendations."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from recommender.models import ContentPage, PageState, PageTag, Recommendation

RLS = "how-to-treat-restless-leg-syndrome"

MAGNESIUM_TEXT = """# Magnesium and restless legs

Many people with restless legs syndrome ask about magnesium. Restless legs syndrome (RLS) makes the
legs uncomfortable in the evening. Small pilot studies of magnesium in RLS report mixed results, and
magnesium glycinate and magnesium citrate are common forms. Talk to a clinician about iron and ferritin too.
"""

OFF_TOPIC_TEXT = """# Choosing a bicycle

A good bicycle fits your body and your commute. Check the frame size, the gears and the brakes,
and take a test ride on a hill before you buy.
"""


def recommend_json(tmp_path: Path, text: str, *args: str) -> dict:
    path = tmp_path / "article.md"
    path.write_text(text, encoding="utf-8")
    out, err = io.StringIO(), io.StringIO()
    call_command("recommend", "--text-file", str(path), *args, "--json", stdout=out, stderr=err)
    payload = json.loads(out.getvalue())  # only one JSON object on stdout
    assert isinstance(payload, dict)
    return payload


def db_state() -> tuple[int, int, int, int]:
    return (
        ContentPage.objects.count(),
        PageTag.objects.count(),
        Recommendation.objects.count(),
        PageState.objects.count(),
    )


def test_recommend_json(demo: None, tmp_path: Path) -> None:
    before = db_state()
    payload = recommend_json(tmp_path, MAGNESIUM_TEXT, "--title", "Magnesium and restless legs")
    assert set(payload) == {"page", "generated_at", "disclaimer", "items"}
    assert payload["page"]["title"] == "Magnesium and restless legs"
    items = payload["items"]
    assert 1 <= len(items) <= 6
    assert [item["rank"] for item in items] == list(range(1, len(items) + 1))
    for item in items:
        assert set(item) == {"rank", "score", "product", "reasons", "cautions", "link"}
        assert {"id", "sku", "name", "brand", "url", "price", "currency", "in_stock", "tags"} <= set(item["product"])
        assert item["reasons"]
    assert any("magnesium" in item["product"]["tags"] for item in items[:3])

    assert len(recommend_json(tmp_path, MAGNESIUM_TEXT, "--limit", "2")["items"]) == 2
    off_topic = recommend_json(tmp_path, OFF_TOPIC_TEXT, "--title", "Choosing a bicycle")
    assert off_topic["items"] == []
    assert off_topic["disclaimer"]
    assert db_state() == before  # recommend writes nothing


def test_recommend_plain_output_and_refresh_one_page(demo: None, tmp_path: Path) -> None:
    path = tmp_path / "a.txt"
    path.write_text(MAGNESIUM_TEXT, encoding="utf-8")
    out = io.StringIO()
    call_command("recommend", "--text-file", str(path), stdout=out)
    text = out.getvalue()
    assert "1. " in text and "These statements have not been evaluated" in text
    with pytest.raises(CommandError):
        call_command("recommend", "--text-file", str(tmp_path / "missing.txt"), stdout=io.StringIO())

    # refresh_recommendations --page: recomputes one page in this process; an unchanged list is not rewritten.
    page = ContentPage.objects.get(slug=RLS)
    generation = PageState.objects.get(page=page).generation
    out = io.StringIO()
    call_command("refresh_recommendations", "--page", RLS, stdout=out, stderr=io.StringIO())
    assert "refreshed 1 page(s)" in out.getvalue() and "0 list(s) changed" in out.getvalue()
    assert PageState.objects.get(page=page).generation == generation
    Recommendation.objects.filter(page=page).delete()
    PageState.objects.filter(page=page).update(list_hash="")
    call_command("refresh_recommendations", "--page", RLS, stdout=io.StringIO(), stderr=io.StringIO())
    assert PageState.objects.get(page=page).generation == generation + 1
    assert Recommendation.objects.filter(page=page).count() >= 4


def test_refresh_unknown_page_is_a_command_error(db: None) -> None:
    with pytest.raises(CommandError, match="no-such-page"):
        call_command("refresh_recommendations", "--page", "no-such-page", stdout=io.StringIO())
