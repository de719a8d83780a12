"""load_taxonomy: the shipped taxonomy, idempotent, keeping a store's own edits unless --overwrite."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from recommender.models import Synonym, Tag, TagRelation
from recommender.taxonomy import shipped


def load(*args: str) -> str:
    out = io.StringIO()
    call_command("load_taxonomy", *args, stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_loads_the_shipped_taxonomy_and_is_idempotent() -> None:
    data = shipped()
    assert "tags" in load()
    counts = (Tag.objects.count(), Synonym.objects.count(), TagRelation.objects.count())
    assert counts[0] == len(data["tags"])
    assert counts[2] == len(data["relations"])
    load()
    assert (Tag.objects.count(), Synonym.objects.count(), TagRelation.objects.count()) == counts


@pytest.mark.django_db
def test_keeps_the_stores_edits_and_adds_what_is_missing() -> None:
    load()
    Tag.objects.filter(slug="magnesium").update(name="Magnesium (store wording)")
    relation = TagRelation.objects.first()
    assert relation is not None
    TagRelation.objects.filter(pk=relation.pk).update(strength=0.11)
    Synonym.objects.filter(tag__slug="magnesium", text="Mg").update(case_sensitive=False)
    Tag.objects.create(slug="store-own", name="Store's own", kind="nutrient")
    Tag.objects.filter(slug="iron").delete()  # a shipped tag that is missing comes back

    load()
    assert Tag.objects.get(slug="magnesium").name == "Magnesium (store wording)"
    assert TagRelation.objects.get(pk=relation.pk).strength == pytest.approx(0.11)
    assert Synonym.objects.get(tag__slug="magnesium", text="Mg").case_sensitive is False
    assert Tag.objects.filter(slug="store-own").exists()
    assert Tag.objects.filter(slug="iron").exists()

    load("--overwrite")
    assert Tag.objects.get(slug="magnesium").name == "Magnesium"
    assert Synonym.objects.get(tag__slug="magnesium", text="Mg").case_sensitive is True
    assert Tag.objects.filter(slug="store-own").exists()
