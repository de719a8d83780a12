"""Reasons, cautions and the disclaimer are stored as codes with params and worded in the request's language."""

from __future__ import annotations

import json
from pathlib import Path

from django.template import Context, Template
from django.test import Client
from django.utils import translation

from recommender.conf import DISCLAIMER
from recommender.models import Recommendation
from recommender.taxonomy import strings

RLS = "how-to-treat-restless-leg-syndrome"
LIST_URL = f"/api/v1/pages/{RLS}/recommendations/"
TAXONOMY = Path(strings.__file__).with_name("taxonomy.json")


def get(client: Client, language: str) -> dict:
    response = client.get(LIST_URL, {"limit": "20"}, HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200, response.content[:500]
    assert "Accept-Language" in response["Vary"]
    return response.json()


def texts(body: dict) -> tuple[list[str], list[str]]:
    reasons = [r["label"] for item in body["items"] for r in item["reasons"]]
    cautions = [c["text"] for item in body["items"] for c in item["cautions"]]
    return reasons, cautions


def test_rls_list_in_spanish_and_english(demo: None, client: Client) -> None:
    english = get(client, "en")
    spanish = get(client, "es")
    again = get(client, "en")  # a cached Spanish response is never served to an English reader
    assert english == again
    assert english["disclaimer"] == DISCLAIMER
    assert spanish["disclaimer"].startswith("Estas declaraciones no han sido evaluadas")

    stored = list(Recommendation.objects.filter(page__slug=RLS).order_by("rank"))
    assert all("code" in r and "params" in r for row in stored for r in row.reasons)
    # English output is the stored English wording, as before codes existed.
    en_reasons, en_cautions = texts(english)
    assert en_reasons == [r["label"] for row in stored for r in row.reasons][: len(en_reasons)]
    assert "Magnesium is discussed in this article." in en_reasons
    assert any(text.startswith("Magnesium: if you have kidney disease") for text in en_cautions)

    es_reasons, es_cautions = texts(spanish)
    assert "Magnesio se trata en este artículo." in es_reasons
    assert not set(es_reasons) & set(en_reasons)
    assert any(text.startswith("Magnesio: si tiene una enfermedad renal") for text in es_cautions)
    assert not set(es_cautions) & set(en_cautions)
    # Same items, same shape: only the words differ.
    assert [i["product"]["sku"] for i in spanish["items"]] == [i["product"]["sku"] for i in english["items"]]
    for item in spanish["items"]:
        assert all(set(r) == {"tag", "label", "weight", "evidence"} for r in item["reasons"])
        assert all(set(c) == {"code", "text"} for c in item["cautions"])


def test_template_tag_renders_spanish(demo: None) -> None:
    template = Template("{% load recommender_tags %}{% recommended_products page_slug=slug limit=20 %}")
    english = template.render(Context({"slug": RLS}))
    with translation.override("es"):
        spanish = template.render(Context({"slug": RLS}))
    assert "is discussed in this article." in english
    assert "se trata en este artículo." in spanish
    assert "Estas declaraciones no han sido evaluadas" in spanish
    assert "Magnesio: si tiene una enfermedad renal" in spanish
    assert "is discussed in this article." not in spanish


def test_old_rows_without_codes_keep_their_label(demo: None, client: Client) -> None:
    row = Recommendation.objects.filter(page__slug=RLS).order_by("rank").first()
    assert row is not None
    row.reasons = [{"tag": "x", "label": "Written before codes.", "weight": 1.0, "evidence": {}}]
    row.save(update_fields=["reasons"])
    from django.core.cache import cache

    cache.clear()
    assert get(client, "es")["items"][0]["reasons"][0]["label"] == "Written before codes."


def test_taxonomy_strings_follow_the_shipped_taxonomy() -> None:
    data = json.loads(TAXONOMY.read_text())
    assert [t["name"] for t in data["tags"]] == strings.NAMES
    assert [t["caution"] for t in data["tags"] if t.get("caution")] == strings.CAUTIONS


def test_every_shipped_name_has_a_spanish_word() -> None:
    with translation.override("es"):
        untranslated = [n for n in strings.NAMES + strings.CAUTIONS if translation.gettext(n) == n]
    assert set(untranslated) <= {"Zinc", "ConcenTrace", "Mega-Mag"}  # the same word in Spanish, or a brand
