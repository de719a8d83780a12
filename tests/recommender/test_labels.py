"""The label-facts parser (pure, no database): names, units, conversions, and only `LabelError` on bad input."""

from __future__ import annotations

import contextlib
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from recommender import units
from recommender.labels import LabelError, LabelIndex, TagInfo, label_index, name_key, parse_facts, parse_item

TAGS = [
    TagInfo("magnesium", "nutrient", unit="mg", upper_limit=350),
    TagInfo("magnesium-glycinate", "form", parent="magnesium"),
    TagInfo("vitamin-d", "nutrient", unit="mcg", iu_per_unit=40, upper_limit=100),
    TagInfo("vitamin-d3", "form", parent="vitamin-d"),
    TagInfo("folate", "nutrient", unit="mcg"),
    TagInfo("folic-acid", "form", parent="folate", unit="mcg", upper_limit=1000),
    TagInfo("vitamin-b2", "nutrient", unit="mg"),
    TagInfo("vitamin-c", "nutrient", unit="mg"),
    TagInfo("restless-legs-syndrome", "condition"),
]
SYNONYMS = [
    ("Magnesium", "magnesium"), ("magnesium bisglycinate", "magnesium-glycinate"), ("Vitamin D", "vitamin-d"),
    ("cholecalciferol", "vitamin-d3"), ("vitamin D3", "vitamin-d3"), ("Folic Acid", "folic-acid"),
    ("Riboflavin", "vitamin-b2"), ("ascorbic acid", "vitamin-c"), ("Vitamin C", "vitamin-c"),
    ("Restless legs", "restless-legs-syndrome"),
]  # fmt: skip


@pytest.fixture(scope="module")
def index() -> LabelIndex:
    return label_index(TAGS, SYNONYMS)


def facts(cell: str, index: LabelIndex) -> list[tuple[str, Decimal | None, str, str, bool]]:
    return [(f.code, f.amount, f.unit, f.form, f.tagged) for f in parse_facts(cell, index).facts]


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("Magnesium (as Magnesium Glycinate)=90 mg", [("magnesium", Decimal("90"), "mg", "Magnesium Glycinate", True)]),
        ("Magnesium=90 mg Magnesium Glycinate", [("magnesium", Decimal("90"), "mg", "Magnesium Glycinate", True)]),
        ("MAGNESIUM=0.2 g", [("magnesium", Decimal("200"), "mg", "", True)]),
        ("Vitamin D3 (as cholecalciferol)=1000 IU", [("vitamin-d", Decimal("25"), "mcg", "cholecalciferol", True)]),
        ("Riboflavin=1.7 mg", [("vitamin-b2", Decimal("1.7"), "mg", "", True)]),
        ("vitamin-b2=1.7 mg", [("vitamin-b2", Decimal("1.7"), "mg", "", True)]),
        ("Vitamin C=1,000 mg Ascorbic Acid", [("vitamin-c", Decimal("1000"), "mg", "Ascorbic Acid", True)]),
        ("Vitamin C=50% DV", [("vitamin-c", Decimal("45"), "mg", "", True)]),
        (
            "Folate=680 mcg DFE (400 mcg folic acid)",
            [
                ("folate", Decimal("680"), "mcg DFE", "folic acid", True),
                ("folic-acid", Decimal("400"), "mcg", "", True),
            ],
        ),
        ("Garlic Oil=10 mg", [("garlic-oil", Decimal("10"), "mg", "", False)]),
        ("Calories=10 kcal", [("calories", Decimal("10"), "kcal", "", False)]),
        ("Total Carbohydrate=<1 g", [("total-carbohydrate", Decimal("1"), "g", "", False)]),
        ("Reishi=NP", [("reishi", None, "", "", False)]),
        ("Magnesium=NP", [("magnesium", None, "", "", False)]),
        ("Restless legs=5 mg", [("restless-legs", Decimal("5"), "mg", "", False)]),  # not a nutrient
    ],
)
def test_label_lines(cell: str, expected: list[tuple[str, Decimal | None, str, str, bool]], index: LabelIndex) -> None:
    assert facts(cell, index) == expected


def test_untagged_lines_are_counted(index: LabelIndex) -> None:
    parsed = parse_facts("Magnesium=100 mg; Garlic Oil=10 mg; Blend=NP; Calories=5 kcal", index)
    assert parsed.untagged == 3


def test_same_nutrient_twice_is_summed(index: LabelIndex) -> None:
    assert facts("Magnesium=100 mg; Magnesium=0.05 g", index) == [("magnesium", Decimal("150"), "mg", "", True)]


def test_percent_dv_is_read_beside_an_amount(index: LabelIndex) -> None:
    item = parse_item("Magnesium=200 mg (as magnesium citrate) 48% DV")
    assert (item.amount, item.unit, item.form, item.daily_value) == (
        Decimal("200"), "mg", "magnesium citrate", Decimal("48"),
    )  # fmt: skip


@pytest.mark.parametrize(
    ("cell", "words"),
    [
        ("Magnesium=200 mgs", "unknown unit"),
        ("Magnesium=abc mg", "not a number"),
        ("Magnesium=-5 mg", "not a number"),
        ("Magnesium=200", "no unit"),
        ("Magnesium=", "no amount"),
        ("=5 mg", "no nutrient name"),
        ("Magnesium=123456789 mg", "too large"),
        ("Magnesium=1.000 mg", r"ambiguous .*write 1 or 1000"),  # issue 15: was read as 1 mg
        ("Zinc=2.500 mg", "ambiguous"),
        ("Biotin=12.345 mcg", "ambiguous"),
    ],
)
def test_malformed_items(cell: str, words: str, index: LabelIndex) -> None:
    with pytest.raises(LabelError, match=words):
        parse_facts(cell, index)


@pytest.mark.parametrize(
    ("cell", "amount"), [("Folate=0.125 mg", "0.125"), ("Zinc=1,000 mcg", "1000"), ("Zinc=1.5 mg", "1.5")]
)
def test_unambiguous_amounts_are_read(cell: str, amount: str, index: LabelIndex) -> None:
    assert parse_item(cell).amount == Decimal(amount)


def test_name_key_ignores_case_hyphens_and_marks() -> None:
    assert name_key("  Vitamin-B2® ") == name_key("vitamin b2") == "vitamin b2"


def test_units_convert() -> None:
    assert units.convert(1000, "IU", "mcg", iu_per_unit=40) == 25
    assert units.convert(25, "mcg", "IU", iu_per_unit=40) == 1000
    assert units.convert(680, "mcg DFE", "mcg") == 680
    assert units.convert(1, "g", "mg") == 1000
    assert units.convert(10, "kcal", "mg") is None
    assert units.convert(10, "%DV", "mg") is None
    assert units.from_daily_value(50, "vitamin-a") == (450, "mcg RAE")
    assert units.from_daily_value(50, "inositol") is None
    assert units.parse_unit("µg") == units.parse_unit("ug") == "mcg"
    assert units.parse_unit("MCG dfe") == "mcg DFE"
    assert units.parse_unit("kg") is None


LABEL_ALPHABET = st.sampled_from(
    [*list("abcMgDIU0123456789 .,;=()<%-+µ/&'\"\t"), "mg", "mcg", "IU", "DFE", "NP", "% DV", "(as ", "kcal", "1,000"]
)


@settings(max_examples=400, deadline=None)
@given(st.lists(LABEL_ALPHABET, max_size=40).map("".join))
def test_fuzz_only_label_errors_from_label_like_text(text: str) -> None:
    index = label_index(TAGS, SYNONYMS)
    with contextlib.suppress(LabelError):
        parse_facts(text, index)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=80))
def test_fuzz_only_label_errors_from_any_text(text: str) -> None:
    index = label_index(TAGS, SYNONYMS)
    try:
        result = parse_facts(text, index)
    except LabelError:
        return
    for fact in result.facts:
        assert fact.code and len(fact.code) <= 60
        assert fact.amount is None or 0 <= fact.amount < 10**8
