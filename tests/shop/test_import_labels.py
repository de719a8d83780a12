"""Acceptance for issue 11: a catalog of label-style rows imports whole, with the right tags and amounts."""

from __future__ import annotations

import io
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from recommender.models import ProductTag
from recommender.services.cautions import dose_cautions
from recommender.services.taxonomy import taxonomy_load
from recommender.taxonomy import shipped
from shop.catalog.importing import import_products
from shop.catalog.models import NutrientAmount, Product

LABELS = Path(__file__).parent / "data" / "labels.csv"
D = Decimal

# sku -> the taxonomy lines stored, as (code, amount, unit), in the tag's unit after conversion.
AMOUNTS: dict[str, set[tuple[str, Decimal, str]]] = {
    "L-01": {("magnesium", D("90"), "mg")},
    "L-03": {("vitamin-d", D("25"), "mcg")},  # 1000 IU / 40
    "L-04": {("folate", D("680"), "mcg DFE"), ("folic-acid", D("400"), "mcg")},  # kept apart
    "L-05": {("vitamin-b12", D("1000"), "mcg")},
    "L-06": {("vitamin-b2", D("100"), "mg")},
    "L-07": {("vitamin-b2", D("1.3"), "mg")},
    "L-08": {("vitamin-c", D("1000"), "mg")},
    "L-09": {("vitamin-d", D("25"), "mcg")},
    "L-13": {("vitamin-a", D("450"), "mcg RAE")},  # 50% of the 900 mcg RAE Daily Value
    "L-14": {("vitamin-e", D("268.4564"), "mg alpha-TE")},  # 400 IU / 1.49
    "L-15": {("vitamin-b3", D("500"), "mg NE")},
    "L-16": {("vitamin-e", D("15"), "mg alpha-TE")},
    "L-17": {("vitamin-a", D("900"), "mcg RAE")},
    "L-22": {("zinc", D("30"), "mg")},
    "L-23": {("folate", D("666.6667"), "mcg DFE"), ("folic-acid", D("400"), "mcg")},  # 400 mcg folic acid / 0.6
    "L-24": {("biotin", D("30"), "mcg")},  # 100% of 30 mcg
    "L-26": {("vitamin-c", D("1000"), "mg")},  # 1 g
    "L-27": {("vitamin-d", D("10"), "mcg")},  # µg
    "L-28": {("vitamin-d", D("10"), "mcg")},  # ug, upper-case name
    "L-32": {("vitamin-a", D("900.9009"), "mcg RAE"), ("vitamin-b3", D("16"), "mg NE")},  # 3,000 IU / 3.33
    "L-33": {("magnesium", D("1000"), "mg")},
    "L-34": {("potassium", D("94"), "mg")},  # 2% of 4,700 mg
    "L-40": {("vitamin-d", D("125"), "mcg")},
    "L-42": {("folate", D("1700"), "mcg DFE")},
}

# sku -> approved tags derived from the facts (and the file's tags column).
TAGS: dict[str, set[str]] = {
    "L-01": {"magnesium", "magnesium-glycinate"},
    "L-02": {"magnesium", "magnesium-glycinate"},
    "L-03": {"vitamin-d", "vitamin-d3"},
    "L-04": {"folate", "folic-acid"},
    "L-05": {"vitamin-b12", "methylcobalamin"},
    "L-06": {"vitamin-b2"},
    "L-07": {"vitamin-b2"},
    "L-08": {"vitamin-c"},
    "L-09": {"vitamin-d", "vitamin-d3"},
    "L-10": {"vitamin-b6"},
    "L-11": set(),
    "L-12": set(),
    "L-13": {"vitamin-a"},
    "L-14": {"vitamin-e"},
    "L-18": set(),
    "L-19": {"sodium", "potassium"},
    "L-20": {"magnesium", "magnesium-citrate"},
    "L-21": {"iron", "ferrous-bisglycinate"},
    "L-23": {"folate", "folic-acid"},
    "L-25": set(),
    "L-29": {"iodine"},
    "L-31": set(),
    "L-33": {"magnesium", "magnesium-citrate"},
    "L-35": {"calcium", "vitamin-d", "vitamin-d3"},
    "L-36": {"vitamin-k"},
    "L-37": {"vitamin-b1"},
    "L-38": set(),
    "L-39": set(),
    "L-41": {"chromium"},
    "L-42": {"folate", "l-methylfolate"},
}

# sku -> codes of lines kept without a tag.
KEPT = {
    "L-11": {"calories", "garlic-oil"},
    "L-12": {"cinnamon-bark-extract"},
    "L-18": {"proprietary-blend", "ashwagandha-root", "l-theanine"},
    "L-19": {"calories", "total-carbohydrate"},
    "L-25": {"inositol"},
    "L-31": {"calories", "total-fat", "epa", "dha"},
    "L-38": {"l-glycine", "l-lysine", "taurine"},
    "L-39": {"mushroom-proprietary-blend", "reishi", "lion-s-mane-hericium-erinaceus-fruiting-body"},
    "L-41": {"calories"},
}


@pytest.fixture
def taxonomy(db: None) -> None:
    taxonomy_load(data=shipped())


def approved(sku: str) -> set[str]:
    rows = ProductTag.objects.filter(product__sku=sku, status=ProductTag.Status.APPROVED)
    return set(rows.values_list("tag__slug", flat=True))


def test_label_catalog_imports_whole_with_tags_and_converted_amounts(taxonomy: None) -> None:
    text = LABELS.read_text(encoding="utf-8")
    rows = text.count("\n") - 1
    assert rows >= 40
    out = io.StringIO()
    call_command("import_products", str(LABELS), stdout=out, stderr=io.StringIO())
    assert f"imported {rows} new" in out.getvalue()
    assert f"{sum(len(codes) for codes in KEPT.values())} label line(s) kept without a tag" in out.getvalue()
    assert Product.objects.count() == rows

    for sku, expected in AMOUNTS.items():
        stored = set(NutrientAmount.objects.filter(product__sku=sku).values_list("code", "amount", "unit"))
        assert expected <= stored, sku
    for sku, tags in TAGS.items():
        assert approved(sku) == tags, sku
    assert approved("L-32") >= {"multivitamin", "vitamin-a", "vitamin-b1", "vitamin-b5", "molybdenum", "copper"}
    for sku, codes in KEPT.items():
        assert codes <= set(NutrientAmount.objects.filter(product__sku=sku).values_list("code", flat=True)), sku


def test_label_lines_keep_what_the_label_prints(taxonomy: None) -> None:
    import_products(io.StringIO(LABELS.read_text(encoding="utf-8")))
    zinc = NutrientAmount.objects.get(product__sku="L-22", code="zinc")
    assert (zinc.form, zinc.daily_value) == ("zinc picolinate", D("273"))
    assert zinc.label == "Zinc=30 mg (as zinc picolinate) 273% DV"
    blend = NutrientAmount.objects.get(product__sku="L-18", code="ashwagandha-root")
    assert (blend.amount, blend.label) == (None, "Ashwagandha Root=NP")
    inositol = NutrientAmount.objects.get(product__sku="L-25", code="inositol")
    assert (inositol.amount, inositol.unit) == (D("10"), "%DV")  # no Daily Value known: kept, unscored


def test_dose_cautions_read_converted_amounts(taxonomy: None) -> None:
    import_products(io.StringIO(LABELS.read_text(encoding="utf-8")))
    from recommender.models import Tag
    from shop.catalog.adapters import CatalogProductAdapter

    tags = {t.slug: t for t in Tag.objects.all()}
    adapter = CatalogProductAdapter()

    def codes(sku: str) -> list[str]:
        product = adapter.queryset().get(sku=sku)
        return [c["code"] for c in dose_cautions(adapter.nutrients(product), tags)]

    assert codes("L-20") == ["dose-magnesium"]  # 500 mg > 350 mg
    assert codes("L-40") == ["dose-vitamin-d"]  # 125 mcg > 100 mcg
    assert codes("L-04") == []  # 400 mcg folic acid is within its 1,000 mcg limit; DFE does not count
    assert codes("L-01") == []


def test_reimport_of_the_catalog_updates_every_product(taxonomy: None) -> None:
    text = LABELS.read_text(encoding="utf-8")
    import_products(io.StringIO(text))
    changed = text.replace("Vitamin B2=1.3 mg", "Vitamin B2=2 mg")
    result = import_products(io.StringIO(changed))
    assert (result.created, result.updated) == (0, text.count("\n") - 1)
    assert NutrientAmount.objects.get(product__sku="L-07").amount == D("2")


@pytest.mark.parametrize(
    ("bad_row", "words"),
    [
        ("BAD-1,Unknown Unit,,,,,,,,,Magnesium=200 mgs,", "unknown unit 'mgs'"),
        ("BAD-2,Not A Number,,,,,,,,,Vitamin C=lots mg,", "not a number"),
        ("BAD-3,No Unit,,,,,,,,,Vitamin C=500,", "no unit"),
    ],
)
def test_unknown_unit_or_non_numeric_amount_writes_nothing(taxonomy: None, bad_row: str, words: str) -> None:
    lines = LABELS.read_text(encoding="utf-8").splitlines()
    lines.insert(10, bad_row)  # the file's line 11
    result = import_products(io.StringIO("\n".join(lines) + "\n"))
    assert [line for line, _ in result.errors] == [11]
    assert words in result.errors[0][1]
    assert Product.objects.count() == 0
    assert NutrientAmount.objects.count() == 0
    assert ProductTag.objects.count() == 0


def test_every_malformed_row_is_named_by_line(taxonomy: None, tmp_path: Path) -> None:
    lines = LABELS.read_text(encoding="utf-8").splitlines()
    lines[5:5] = ["BAD-5,Bad Unit,,,,,,,,,Zinc=5 kg,"]  # line 6
    lines[20:20] = [",No Sku,,,,,,,,,,"]  # line 21
    lines[30:30] = ["L-01,Duplicate,,,,,,,,,,"]  # line 31
    lines.append('BAD-7,"unterminated,3')  # the last line
    path = tmp_path / "bad.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    err = io.StringIO()
    with pytest.raises(CommandError, match="4 bad row"):
        call_command("import_products", str(path), stdout=io.StringIO(), stderr=err)
    errors = [line for line in err.getvalue().splitlines() if line.startswith("error")]
    assert [e.split(":")[0:2] for e in errors] == [
        ["error", " line 6"], ["error", " line 21"], ["error", " line 31"], ["error", f" line {len(lines)}"],
    ]  # fmt: skip
    assert "broken quote" in errors[-1]
    assert Product.objects.count() == 0


def test_broken_quote_in_the_middle_is_named_and_later_rows_still_checked(taxonomy: None) -> None:
    text = 'sku,name,nutrients\nA-1,"Broken,x\nA-2,Fine,Magnesium=100 mg\nA-3,Bad,Magnesium=1 kg\n'
    result = import_products(io.StringIO(text))
    assert [line for line, _ in result.errors] == [2, 4]
    assert Product.objects.count() == 0
