"""Safe and relevant on pages and catalogs the team did not write (issue 10).

Safety is structure: an "avoid" relation or advice against a nutrient excludes every product that
contains it, at any amount; a guarded product (iron) never leads unless pinned; "no benefit shown"
never promotes. A catalog imported with an empty tags column still honours the store's request.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.management import call_command

from recommender.adapters import get_adapter
from recommender.models import ProductTag, Tag, TagRelation
from recommender.selectors import recommendations_for_text
from recommender.services.engine_build import engine_build
from recommender.services.tagging import nutrient_code_index
from shop.catalog.models import Product

ROOT = Path(settings.BASE_DIR)
SEED = ROOT / "fixtures" / "articles" / "how-to-treat-restless-leg-syndrome.md"
DISEASE_CLAIM = re.compile(r"\b(treats?|cures?|for (rls|restless legs))\b", re.IGNORECASE)

HAEMOCHROMATOSIS = {
    "british, with avoid": (
        "Haemochromatosis: eating well",
        "Haemochromatosis is an inherited condition in which the body stores too much iron. People with "
        "haemochromatosis should avoid iron supplements and avoid vitamin C supplements with meals. Iron builds "
        "up in the liver and joints; blood tests track ferritin.",
    ),
    "british, no avoid or not": (
        "Haemochromatosis",
        "Haemochromatosis causes iron overload. Iron from food and supplements is absorbed in excess, and vitamin "
        "C raises iron absorption. Treatment is regular venesection; ferritin and transferrin saturation are "
        "measured in blood tests. Iron accumulates in the liver, heart and pancreas.",
    ),
    "us, with not": (
        "Hemochromatosis and diet",
        "With hemochromatosis you do not need extra iron. Iron supplements are not advised, and vitamin C "
        "supplements are not recommended because they increase iron absorption. Your clinician checks ferritin.",
    ),
    "us, no avoid or not": (
        "Understanding hemochromatosis",
        "Hemochromatosis is the most common inherited iron overload disorder. Iron, vitamin C and magnesium are "
        "discussed by clinicians who manage it with phlebotomy; ferritin is tracked in the blood.",
    ),
}


def containing(codes: set[str]) -> set[str]:
    """Skus of products whose supplement facts list one of these nutrients at any amount."""
    index = nutrient_code_index()
    adapter = get_adapter()
    found = set()
    for product in adapter.queryset():
        for fact in adapter.nutrients(product):
            tag = index.get(fact.code)
            family = set()
            while tag is not None:
                family.add(tag.slug)
                tag = tag.parent
            if family & codes:
                found.add(adapter.sku(product))
    return found


def skus(title: str, text: str, limit: int = 20) -> list[str]:
    return [item["product"]["sku"] for item in recommendations_for_text(title=title, text=text, limit=limit)["items"]]


@pytest.mark.parametrize("variant", HAEMOCHROMATOSIS)
def test_haemochromatosis_page_lists_no_iron_or_vitamin_c(demo: None, variant: str) -> None:
    title, text = HAEMOCHROMATOSIS[variant]
    unsafe = containing({"iron", "vitamin-c"})
    assert unsafe, "the demo catalog has iron and vitamin C products"
    assert not set(skus(title, text)) & unsafe


def test_iron_free_page_lists_no_product_with_iron_facts(demo: None) -> None:
    title = "Choosing a multivitamin after 50"
    text = (
        "After menopause most women no longer need extra iron, so an iron-free multivitamin is the usual choice. "
        "Iron is still discussed at length here: iron deficiency, ferritin, iron absorption, iron in red meat and "
        "iron in fortified cereals. Vitamin D, vitamin B12 and calcium matter more for bone and nerve health. "
        "You do not need extra iron unless a blood test shows low ferritin."
    )
    listed = set(skus(title, text))
    assert listed, "the page still has vitamin D, B12 and calcium products to show"
    assert not listed & containing({"iron"})


def test_kidney_disease_page_lists_no_magnesium_or_potassium(demo: None) -> None:
    text = (
        "Chronic kidney disease changes how the body clears minerals. With kidney disease, magnesium and "
        "potassium can build up, so supplements containing them are taken only on a clinician's advice."
    )
    assert not set(skus("Kidney disease and supplements", text)) & containing({"magnesium", "potassium"})


def test_avoid_and_no_benefit_relations_are_recorded(demo: None) -> None:
    avoid = set(
        TagRelation.objects.filter(polarity=TagRelation.Polarity.AVOID).values_list("source__slug", "target__slug")
    )
    assert {("hemochromatosis", "iron"), ("hemochromatosis", "vitamin-c")} <= avoid
    assert {("kidney-disease", "magnesium"), ("kidney-disease", "potassium")} <= avoid
    cramps = TagRelation.objects.get(source__slug="nocturnal-leg-cramps", target__slug="magnesium")
    assert cramps.polarity == TagRelation.Polarity.NO_BENEFIT
    assert "10.1002/14651858.CD009402.pub3" in cramps.citations


def test_leg_cramps_page_does_not_lead_with_magnesium(demo: None) -> None:
    text = (
        "Leg cramps at night are sudden, painful tightening of the calf muscles. Stretching before bed helps many "
        "people. Magnesium is often suggested for leg cramps, and magnesium supplements are widely sold, but "
        "trials of magnesium for nocturnal leg cramps in older adults found little difference from placebo. Drink "
        "enough fluids, especially in hot weather, since dehydration can make cramps more likely."
    )
    payload = recommendations_for_text(title="Leg cramps at night", text=text, limit=6)
    assert payload["items"]
    primary = {m.id: m.primary_nutrient for m in engine_build().metas}
    assert primary[payload["items"][0]["product"]["id"]] != "magnesium"
    labels = [r["label"] for item in payload["items"] for r in item["reasons"] if r["tag"] == "magnesium"]
    assert any("has shown no benefit" in label for label in labels)


def test_rls_page_naming_only_iron_never_leads_with_iron(demo: None) -> None:
    text = (
        "Restless legs syndrome causes an urge to move the legs at night. Low iron stores in the brain are linked "
        "to it, so clinicians check ferritin and transferrin saturation, and iron is sometimes prescribed."
    )
    items = recommendations_for_text(title="Restless legs syndrome", text=text, limit=6)["items"]
    assert items
    assert "iron" not in items[0]["product"]["tags"]
    assert any(c["code"] == "iron" for item in items for c in item["cautions"] if "iron" in item["product"]["tags"])


@pytest.fixture
def untagged_catalog(db: None, tmp_path: Path, django_capture_on_commit_callbacks: Any) -> None:
    """The taxonomy and the demo catalog imported from a feed with an empty tags column."""
    from recommender.services.taxonomy import taxonomy_load
    from recommender.taxonomy import shipped

    taxonomy_load(data=shipped())
    with open(ROOT / "fixtures" / "catalog.csv", encoding="utf-8", newline="") as stream:
        rows = list(csv.DictReader(stream))
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows({**row, "tags": ""} for row in rows)
    path = tmp_path / "feed.csv"
    path.write_text(out.getvalue(), encoding="utf-8")
    with django_capture_on_commit_callbacks(execute=True):
        call_command("import_products", str(path), verbosity=0)


def test_untagged_catalog_derives_product_lines_and_groups(untagged_catalog: None) -> None:
    drops = Product.objects.get(sku="TM-CTD-8OZ")
    tags = dict(ProductTag.objects.filter(product=drops, status="approved").values_list("tag__slug", "source"))
    assert tags["concentrace"] == ProductTag.Source.NAME
    assert tags["trace-minerals"] == ProductTag.Source.FACTS
    multi = Product.objects.get(sku="NP-MULTI-90")
    multi_tags = set(ProductTag.objects.filter(product=multi).values_list("tag__slug", flat=True))
    assert "multivitamin" in multi_tags and "trace-minerals" not in multi_tags  # vitamins dominate its label
    assert Tag.objects.get(slug="concentrace").kind == Tag.Kind.PRODUCT_LINE


def test_untagged_catalog_honours_the_seed_article(untagged_catalog: None) -> None:
    lines = SEED.read_text(encoding="utf-8").splitlines()
    title, body = lines[0].lstrip("# ").strip(), "\n".join(lines[1:])
    payload = recommendations_for_text(title=title, text=body, limit=6)
    top3 = payload["items"][:3]
    top_skus = [item["product"]["sku"] for item in top3]
    assert "TM-CTD-8OZ" in top_skus
    magnesium = containing({"magnesium"}) - {"TM-CTD-8OZ", "TM-CTD-2OZ", "TM-CTT-90"}
    assert set(top_skus) & magnesium, top_skus
    for item in top3:
        assert item["reasons"] and all(r["label"] for r in item["reasons"])
        assert not any(DISEASE_CLAIM.search(r["label"]) for r in item["reasons"])
    assert payload["disclaimer"].startswith("These statements have not been evaluated")
