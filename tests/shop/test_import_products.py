"""import_products (DESIGN.md section 7): all-or-nothing CSV import with every bad row listed."""

from __future__ import annotations

import io
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from recommender.models import ProductTag
from recommender.services.taxonomy import taxonomy_load
from recommender.taxonomy import shipped
from shop.catalog import importing
from shop.catalog.importing import import_products
from shop.catalog.models import Brand, NutrientAmount, Product

HEADER = "sku,name,brand,description,price,currency,in_stock,url,image_url,serving_size,nutrients,tags"

GOOD = "\n".join(
    [
        HEADER,
        "MG-1,Magnesium Glycinate 200 mg,Acme,Gentle form.,19.95,USD,true,,,2 capsules,magnesium=200 mg glycinate,",
        'K-1,"Potassium Citrate, 99 mg",Acme,,9.50,usd,no,https://example.com/k,,1 tablet,potassium=99 mg,',
        "CT-1,ConcenTrace Drops,Trace Minerals,,24.95,,yes,,,40 drops,"
        "magnesium=250 mg chloride; chloride=650 mg,concentrace=1; trace-minerals=0.5",
    ]
)


@pytest.fixture
def taxonomy(db: None) -> None:
    taxonomy_load(data=shipped())


def write(tmp_path: Path, text: str, name: str = "products.csv") -> str:
    path = tmp_path / name
    path.write_text(text + "\n", encoding="utf-8")
    return str(path)


def run(path: str, *args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("import_products", path, *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def run_failing(path: str, *args: str) -> str:
    err = io.StringIO()
    with pytest.raises(CommandError):
        call_command("import_products", path, *args, stdout=io.StringIO(), stderr=err)
    return err.getvalue()


def approved_tags(sku: str) -> dict[str, tuple[float, str]]:
    rows = ProductTag.objects.filter(product__sku=sku, status=ProductTag.Status.APPROVED)
    return {
        slug: (relevance, source) for slug, relevance, source in rows.values_list("tag__slug", "relevance", "source")
    }


def test_good_file_creates_products_facts_and_tags(taxonomy: None, tmp_path: Path) -> None:
    out, err = run(write(tmp_path, GOOD))
    assert "3 new" in out
    assert err == ""
    assert Product.objects.count() == 3
    assert set(Brand.objects.values_list("name", flat=True)) == {"Acme", "Trace Minerals"}

    mg = Product.objects.get(sku="MG-1")
    assert (mg.name, mg.price, mg.currency, mg.in_stock, mg.serving_size) == (
        "Magnesium Glycinate 200 mg", Decimal("19.95"), "USD", True, "2 capsules",
    )  # fmt: skip
    assert mg.brand is not None and mg.brand.name == "Acme"
    assert list(mg.nutrients.values_list("code", "amount", "unit", "form")) == [
        ("magnesium", Decimal("200"), "mg", "glycinate")
    ]
    facts = ProductTag.Source.FACTS
    assert approved_tags("MG-1") == {"magnesium": (1.0, facts), "magnesium-glycinate": (1.0, facts)}

    k = Product.objects.get(sku="K-1")
    assert (k.name, k.currency, k.in_stock, k.url) == (
        "Potassium Citrate, 99 mg",
        "USD",
        False,
        "https://example.com/k",
    )
    # A potassium-only product is all about potassium, however small the dose.
    assert approved_tags("K-1") == {"potassium": (1.0, facts)}

    ct = approved_tags("CT-1")
    assert ct["concentrace"] == (1.0, ProductTag.Source.IMPORT)
    assert ct["trace-minerals"] == (0.5, ProductTag.Source.IMPORT)
    assert ct["magnesium"][1] == facts and ct["magnesium-chloride"][1] == facts
    assert "chloride" in ct


def test_import_with_stringio(taxonomy: None) -> None:
    result = import_products(io.StringIO(GOOD))
    assert (result.created, result.updated, result.errors) == (3, 0, [])
    assert result.valid == 3
    assert Product.objects.count() == 3


def test_reimport_updates_by_sku(taxonomy: None, tmp_path: Path) -> None:
    run(write(tmp_path, GOOD))
    changed = GOOD.replace("19.95", "17.50").replace("magnesium=200 mg glycinate", "magnesium=100 mg citrate")
    out, _ = run(write(tmp_path, changed, "changed.csv"))
    assert "0 new, 3 updated" in out
    assert Product.objects.count() == 3
    mg = Product.objects.get(sku="MG-1")
    assert mg.price == Decimal("17.50")
    assert list(mg.nutrients.values_list("code", "form")) == [("magnesium", "citrate")]
    assert set(approved_tags("MG-1")) == {"magnesium", "magnesium-citrate"}
    assert NutrientAmount.objects.filter(product=mg).count() == 1
    slug = Product.objects.get(sku="K-1").slug
    result = import_products(io.StringIO(GOOD.replace("Potassium Citrate, 99 mg", "Potassium 99")))
    assert (result.created, result.updated) == (0, 3)
    k = Product.objects.get(sku="K-1")
    assert (k.name, k.slug) == ("Potassium 99", slug)


BAD_ROWS = {
    "price": "B-1,Bad Price,,,abc,,,,,,,",
    "tag": "B-2,Unknown Tag,,,,,,,,,,no-such-tag",
    "unit": "B-3,Bad Unit,,,,,,,,,magnesium=200 kg,",
    "duplicate": "MG-1,Duplicate Sku,,,,,,,,,,",
    "name": "B-5,,,,1.00,,,,,,,",
}


def test_one_bad_row_writes_nothing(taxonomy: None, tmp_path: Path) -> None:
    for kind, row in BAD_ROWS.items():
        err = run_failing(write(tmp_path, f"{GOOD}\n{row}"))
        assert "line 5" in err, kind
        assert not any(f"line {n}:" in err for n in (2, 3, 4)), kind
        assert Product.objects.count() == 0, kind
        assert NutrientAmount.objects.count() == 0, kind
        assert ProductTag.objects.count() == 0, kind


def test_every_bad_row_is_listed_by_line_number(taxonomy: None, tmp_path: Path) -> None:
    lines = [GOOD, BAD_ROWS["price"], "OK-1,Fine,,,,,,,,,,", BAD_ROWS["tag"], BAD_ROWS["unit"]]
    lines += [BAD_ROWS["duplicate"], BAD_ROWS["name"]]
    err = run_failing(write(tmp_path, "\n".join(lines)))
    # header = 1, GOOD rows = 2..4, then 5 (price), 6 (fine), 7 (tag), 8 (unit), 9 (duplicate), 10 (name)
    error_lines = [line for line in err.splitlines() if line.startswith("error")]
    assert len(error_lines) == 5
    for number, words in [(5, "price"), (7, "no-such-tag"), (8, "nutrient"), (9, "MG-1"), (10, "name")]:
        assert any(f"line {number}:" in line and words in line for line in error_lines), (number, err)
    assert "line 6:" not in err
    assert Product.objects.count() == 0
    with pytest.raises(CommandError, match="5 bad row"):
        call_command("import_products", write(tmp_path, "\n".join(lines)), stderr=io.StringIO())
    result = import_products(io.StringIO("\n".join(lines)))
    assert [line for line, _ in result.errors] == [5, 7, 8, 9, 10]
    assert Product.objects.count() == 0


def test_line_numbers_count_physical_lines_after_a_multiline_field(taxonomy: None) -> None:
    text = f'{HEADER}\nM-1,"Multi\nline name",,,,,,,,,,\n{BAD_ROWS["price"]}'
    result = import_products(io.StringIO(text))
    assert [line for line, _ in result.errors] == [4]


def test_dry_run_writes_nothing(taxonomy: None, tmp_path: Path) -> None:
    out, _ = run(write(tmp_path, GOOD), "--dry-run")
    assert "3 row(s) are valid" in out
    assert Product.objects.count() == 0
    assert ProductTag.objects.count() == 0
    result = import_products(io.StringIO(GOOD), dry_run=True)
    assert (result.valid, result.created) == (3, 0)
    assert Product.objects.count() == 0


def test_dry_run_still_reports_bad_rows(taxonomy: None, tmp_path: Path) -> None:
    err = run_failing(write(tmp_path, f"{GOOD}\n{BAD_ROWS['tag']}"), "--dry-run")
    assert "line 5" in err


def test_in_stock_values(taxonomy: None) -> None:
    values = {"yes": True, "no": False, "1": True, "0": False, "true": True, "FALSE": False, "": True, "No": False}
    rows = [f"S-{i},Stock {i},,,,,{value},,,,," for i, value in enumerate(values)]
    result = import_products(io.StringIO("\n".join([HEADER, *rows])))
    assert result.errors == []
    got = dict(Product.objects.values_list("sku", "in_stock"))
    assert got == {f"S-{i}": expected for i, expected in enumerate(values.values())}
    bad = import_products(io.StringIO(f"{HEADER}\nS-9,Stock,,,,,maybe,,,,,\n"))
    assert [line for line, _ in bad.errors] == [2]


def test_two_word_unit_with_a_form(taxonomy: None) -> None:
    result = import_products(io.StringIO(f"{HEADER}\nF-1,Folate,,,,,,,,,folate=400 mcg DFE L-methylfolate,\n"))
    assert result.errors == []
    facts = list(NutrientAmount.objects.filter(product__sku="F-1").values_list("code", "amount", "unit", "form"))
    assert facts == [("folate", Decimal("400"), "mcg DFE", "L-methylfolate")]
    assert {"folate", "l-methylfolate"} <= set(approved_tags("F-1"))


def test_other_units_parse(taxonomy: None) -> None:
    units = ["mcg", "\u00b5g", "\u03bcg", "ug", "IU", "g", "mg", "mcg RAE", "iu"]
    rows = [f"U-{i},Units {i},,,,,,,,,vitamin-d=50 {unit}," for i, unit in enumerate(units)]
    result = import_products(io.StringIO("\n".join([HEADER, *rows])))
    assert result.errors == []
    assert NutrientAmount.objects.count() == len(units)


def test_only_sku_and_name_are_required(taxonomy: None) -> None:
    result = import_products(io.StringIO("sku,name\nMIN-1,Minimal\n"))
    assert (result.errors, result.created) == ([], 1)
    product = Product.objects.get(sku="MIN-1")
    assert (product.price, product.currency, product.in_stock) == (None, "USD", True)


def test_unknown_nutrient_is_kept_as_a_fact_and_counted(taxonomy: None, tmp_path: Path) -> None:
    text = f"{HEADER}\nW-1,Mystery,,,,,,,,,unobtainium=5 mg; magnesium=100 mg,"
    out, err = run(write(tmp_path, text))
    assert "1 new" in out and "1 label line(s) kept without a tag" in out
    assert err == ""
    assert set(NutrientAmount.objects.values_list("code", flat=True)) == {"unobtainium", "magnesium"}
    assert set(approved_tags("W-1")) == {"magnesium"}


def test_synonym_nutrient_code_is_not_reported_unknown(taxonomy: None) -> None:
    result = import_products(io.StringIO(f"{HEADER}\nB-12,B12 Drops,,,,,,,,,b12=500 mcg,\n"))
    assert "vitamin-b12" in approved_tags("B-12")
    assert result.warnings == []


def test_nan_price_is_a_row_error(db: None) -> None:
    result = import_products(io.StringIO(f"{HEADER}\nN-1,NaN Price,,,NaN,,,,,,,\n"))
    assert [line for line, _ in result.errors] == [2]


def test_too_large_price_is_a_row_error(db: None) -> None:
    result = import_products(io.StringIO(f"{HEADER}\nL-1,Large Price,,,123456789012,,,,,,,\n"))
    assert [line for line, _ in result.errors] == [2]
    assert Product.objects.count() == 0


def test_missing_required_column_is_an_error(db: None, tmp_path: Path) -> None:
    err = run_failing(write(tmp_path, "sku,price\nX-1,1.00"))
    assert "line 1" in err and "name" in err


def test_unreadable_file_is_a_command_error(db: None, tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="cannot read"):
        call_command("import_products", str(tmp_path / "missing.csv"), stderr=io.StringIO())


# Regressions for issue 15 ------------------------------------------------------------------------------


def test_a_brand_differing_only_in_case_reuses_the_existing_brand(taxonomy: None, tmp_path: Path) -> None:
    run(write(tmp_path, GOOD))
    text = f"{HEADER}\nTM-2,Ionic Zinc,TRACE MINERALS,,,,,,,,,\nTM-3,Ionic Iron,trace minerals,,,,,,,,,"
    run(write(tmp_path, text, "second.csv"))
    assert list(Brand.objects.values_list("name", flat=True)) == ["Acme", "Trace Minerals"]
    assert {p.brand.name for p in Product.objects.filter(sku__in=["TM-2", "TM-3"])} == {"Trace Minerals"}


def test_case_variants_of_a_new_brand_in_one_file_make_one_brand(taxonomy: None, tmp_path: Path) -> None:
    run(write(tmp_path, f"{HEADER}\nN-1,One,Nova Labs,,,,,,,,,\nN-2,Two,NOVA LABS,,,,,,,,,"))
    assert list(Brand.objects.values_list("name", flat=True)) == ["Nova Labs"]


@pytest.mark.parametrize(
    ("row", "words"),
    [
        (f"L-1,{'N' * 201},,,,,,,,,,", "name is 201 characters long; the limit is 200"),
        (f"{'S' * 65},Fine,,,,,,,,,,", "sku is 65 characters long; the limit is 64"),
        (f"L-2,Fine,{'B' * 121},,,,,,,,,", "brand is 121 characters long; the limit is 120"),
        (f"L-3,Fine,,,,,,,,{'s' * 101},,", "serving_size is 101 characters long"),
    ],
)
def test_too_long_values_are_bad_rows_and_nothing_is_written(
    taxonomy: None, tmp_path: Path, row: str, words: str
) -> None:
    """Regression (issue 15): lengths were never checked, so PostgreSQL would raise at write time."""
    err = run_failing(write(tmp_path, f"{HEADER}\nOK-1,Good,,,,,,,,,,\n{row}"))
    assert "line 3" in err and words in err
    assert not Product.objects.exists()


def test_batches_are_cut_by_rows_and_by_text(taxonomy: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """A batch ends at BATCH_SIZE rows or at BATCH_CHARS characters of text, whichever comes first; and products
    named alike in different batches still get distinct slugs (earlier batches are seen in the table)."""
    monkeypatch.setattr(importing, "BATCH_SIZE", 4)
    monkeypatch.setattr(importing, "BATCH_CHARS", 1000)
    rows = [f"S-{i},Same Name,,,,,,,,,," for i in range(5)] + [f"W-{i},Wide,,{'x' * 700},,,,,,,," for i in range(3)]
    sizes: list[int] = []
    result = import_products(io.StringIO("\n".join([HEADER, *rows])), progress=sizes.append)
    assert (result.created, result.errors) == (8, [])
    assert sizes == [4, 3, 1]  # four short rows; then a short one and two wide ones reach 1,000 characters
    slugs = list(Product.objects.filter(sku__startswith="S-").values_list("slug", flat=True))
    assert len(set(slugs)) == 5 and "same-name" in slugs
