"""Hypothesis over `import_products`: any file is imported, or refused with every bad line named and nothing written.

Files are built from the real header and good rows, then mutated: hostile text in any field (quotes, commas,
semicolons, line breaks, NUL, a BOM, huge, negative and non-finite numbers, currency symbols, unknown units and
tags, relevance outside 0..1, overlong values), duplicate skus (also of a product already in the store), missing,
extra and doubled columns, fields past the header, unquoted fields, non-UTF-8 bytes, empty and header-only files.

The command is the documented interface: it ends with a CommandError ("N bad row(s); nothing was imported.")
after an `error: line N: ...` per problem, or imports. `import_products` itself returns the errors and raises
nothing. A refused file leaves products, facts, tags and brands exactly as they were; an imported one holds every
row as given (stripped; the currency upper-cased, USD when empty; the price in cents).
"""

from __future__ import annotations

import csv
import io
import re
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from recommender.labels import parse_facts
from recommender.models import ProductTag
from recommender.services.tagging import facts_taxonomy
from recommender.services.taxonomy import taxonomy_load
from recommender.taxonomy import shipped
from shop.catalog.importing import BOOLEANS, COLUMNS, import_products
from shop.catalog.models import Brand, NutrientAmount, Product

GOOD = {
    "sku": "FZ-1", "name": "Magnesium Glycinate", "brand": "Acme", "description": "Gentle.", "price": "19.95",
    "currency": "USD", "in_stock": "true", "url": "", "image_url": "", "serving_size": "2 capsules",
    "nutrients": "magnesium=200 mg glycinate", "tags": "magnesium=0.8",
}  # fmt: skip
# Skus that collide: with each other once stripped or not, and with the product already in the store.
SKUS = ["FZ-1", "fz-1", " FZ-1 ", "OLD-1", "维生素", "!!!", "\x08", ""]
# Values a spreadsheet may well hold that the importer should take as they are (after stripping).
ODD_BUT_GOOD = {
    "name": ['Zinc "Plus", 15 mg', "Magnésium; bisglycinate", " padded ", "two\nlines", "维生素 C", "!!!", "x" * 200],
    "brand": ["", "ACME", "acme", "Trace Minerals", "TRACE MINERALS", "Straße", "STRASSE", "x" * 120, "!!!"],
    "description": ["", 'He said "take two", then: stop.', "a,b;c\nd\r\ne", "<b>bold</b>", "x" * 5000],
    "price": ["", "0", "0.00", "1e2", " 5 ", "99999999.99", "99999999.994", "0.005", "19.995", "19.999", "-0"],
    "currency": ["", "eur", "Gbp", " usd "],
    "in_stock": ["", "YES", "No", "0", "1", "False"],
    "url": ["", "https://example.com/p?a=1,2;b", "http://shop.example/x#y"],
    "image_url": ["", "/static/x.png", "https://cdn.example/a b.png"],
    "serving_size": ["", "1 scoop (5 g)", "x" * 100],
    "nutrients": [
        "", "zinc=15 mg", "zinc=15 mg; magnesium=100 mg citrate", "Vitamin D3 (as cholecalciferol)=25 mcg (1000 IU)",
        "Ashwagandha root=500 mg", "Proprietary blend=NP",
    ],
    "tags": ["", "magnesium", "magnesium=1", "magnesium=0; zinc=.5", " zinc = 0.25 ;", "magnesium;magnesium=0.5"],
}  # fmt: skip
HOSTILE = [
    "", " ", '"', '""', '"quoted"', 'a"b', ",", ";", "a;b", "\n", "\r\n", "\r", "a\rb", "\x00", "a\x00b", "\ufeff",
    "\t", "-1", "-0", "0", "NaN", "nan", "inf", "-inf", "Infinity", "1e400", "1e-400", "-1e39", "1" * 40,
    "99999999.99", "99999999.999", "99999999.995", "0.001", "0.005", "12,50", "$19.95", "19.95€", "£5", "¥", "1 000",
    "true", "TRUE", "no", "maybe", "usd", "US", "EURO", "€€€", "ß" * 3, "https://example.com/p", "javascript:alert(1)",
    "http://[::1", "magnesium=1.5", "magnesium=-0.2", "magnesium=2", "magnesium=1e400", "magnesium;magnesium=0.5",
    "no-such-tag", "magnesium=200 furlongs", "zinc=15 parsecs", "magnesium=1e400 mg", "magnesium=-5 mg",
    "magnesium=200 mg; magnesium=100 mg", "zinc=NaN mg", "=", "=1", "Acme", "ACME", "x" * 65, "x" * 101, "x" * 121,
    "x" * 201, "x" * 501, "维生素", "!!!", "é" * 70, "<script>alert(1)</script>", "=HYPERLINK(\"x\")",
]  # fmt: skip
random_text = st.one_of(
    st.text(max_size=30),
    st.text(alphabet=st.characters(codec="utf-8", categories=["Cc", "Zs", "Po", "Sc", "Nd"]), max_size=12),
)


def field_values(column: str) -> st.SearchStrategy[str]:
    return st.one_of(st.sampled_from(ODD_BUT_GOOD.get(column, [""])), st.sampled_from(HOSTILE), random_text)


@st.composite
def headers(draw: st.DrawFn) -> list[str]:
    """The real header, or one shuffled, cut, doubled, widened or semicolon-joined."""
    header = list(COLUMNS)
    mutation = draw(st.sampled_from(["none"] * 6 + ["shuffle", "drop", "double", "extra", "semicolons", "random"]))
    if mutation == "shuffle":
        header = draw(st.permutations(header))
    elif mutation == "drop":
        dropped = draw(st.sets(st.sampled_from(COLUMNS[1:] + COLUMNS[2:] * 3), min_size=1, max_size=4))
        header = [h for h in header if h not in dropped]
    elif mutation == "double":
        header.insert(draw(st.integers(0, len(header))), draw(st.sampled_from(COLUMNS)))
    elif mutation == "extra":
        extra = draw(st.sampled_from(["colour", "", " sku ", "Price", "\x00"]))
        header.insert(draw(st.integers(0, len(header))), extra)
    elif mutation == "semicolons":
        header = [";".join(header)]
    elif mutation == "random":
        header = draw(st.lists(st.one_of(st.sampled_from(COLUMNS), st.text(max_size=8)), max_size=14))
    return header


@st.composite
def rows(draw: st.DrawFn, header: list[str]) -> list[list[str]]:
    """Good rows with some fields swapped for odd or hostile text, some rows cut short or run past the header."""
    out = []
    for number in range(draw(st.integers(1, 4))):
        sku = draw(st.sampled_from(SKUS)) if draw(st.integers(0, 3)) == 0 else f"FZ-{number + 2}"
        row = {**GOOD, "sku": sku}
        for column in draw(st.lists(st.sampled_from(COLUMNS), max_size=draw(st.sampled_from([0, 0, 1, 2, 3])))):
            row[column] = draw(field_values(column))
        record = [row.get(h.strip(), "") for h in header]
        shape = draw(st.sampled_from(["whole"] * 8 + ["short", "long"]))
        if shape == "short":
            record = record[: draw(st.integers(0, len(record)))]
        elif shape == "long":
            record += draw(st.lists(random_text, min_size=1, max_size=2))
        out.append(record)
    return out


@st.composite
def csv_files(draw: st.DrawFn) -> bytes:
    header = draw(headers())
    records = [header, *draw(rows(header))]
    if draw(st.integers(0, 5)) == 0:  # unquoted: a quote, comma or line break in a field breaks the row
        text = "".join(",".join(r) + "\n" for r in records)
    else:
        out = io.StringIO()
        csv.writer(out, lineterminator=draw(st.sampled_from(["\n", "\r\n"]))).writerows(records)
        text = out.getvalue()
    data = text.encode()
    ending = draw(st.sampled_from(["as is"] * 8 + ["BOM", "latin-1", "bad byte", "empty", "header only"]))
    if ending == "BOM":
        data = b"\xef\xbb\xbf" + data
    elif ending == "latin-1":
        data = text.encode("latin-1", errors="replace")
    elif ending == "bad byte":
        at = draw(st.integers(0, len(data)))
        data = data[:at] + draw(st.sampled_from([b"\xff", b"\xe9", b"\xc3", b"\x80\x80", b"\xed\xa0\x80"])) + data[at:]
    elif ending == "empty":
        data = draw(st.sampled_from([b"", b"\xef\xbb\xbf", b"\n", b"\r\n", b" \n"]))
    elif ending == "header only":
        data = (",".join(header) + "\n").encode()
    return data


@pytest.fixture
def store(db: None) -> None:
    """The shipped taxonomy and one product already in the store (with facts and imported tags) to update."""
    taxonomy_load(data=shipped())
    old = "OLD-1,Old Zinc,Acme,,9.50,USD,true,,,1 tablet,zinc=15 mg,zinc=0.7"
    assert import_products(io.StringIO(f"{','.join(COLUMNS)}\n{old}\n")).errors == []


def snapshot() -> tuple[list[Any], ...]:
    """Everything an import may write, in a stable order."""
    products = Product.objects.order_by("sku").values_list(
        "sku", "slug", "name", "brand__name", "description", "price", "currency", "in_stock", "active", "url",
        "image_url", "serving_size", "updated_at",
    )  # fmt: skip
    facts = NutrientAmount.objects.order_by("product__sku", "code").values_list(
        "product__sku", "code", "label", "amount", "unit", "form", "daily_value"
    )
    tags = ProductTag.objects.order_by("product__sku", "tag__slug", "source").values_list(
        "product__sku", "tag__slug", "source", "relevance", "status"
    )
    brands = Brand.objects.order_by("name").values_list("name", "slug")
    return list(products), list(facts), list(tags), list(brands)


def records(data: bytes) -> list[dict[str, str]]:
    """The rows of a file the importer accepted, read by the csv module on its own, by header name."""
    lines = [line.decode("utf-8-sig" if n == 0 else "utf-8") for n, line in enumerate(io.BytesIO(data))]
    parsed = [r for r in csv.reader(lines, strict=True) if r]
    header = [h.strip() for h in parsed[0]]
    return [dict(zip(header, r, strict=False)) for r in parsed[1:]]


def cents(price: str) -> Decimal | None:
    return Decimal(price).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP) if price else None


def assert_imported_as_given(data: bytes) -> None:
    index = facts_taxonomy().index
    for row in records(data):
        get = {c: (row.get(c) or "").strip() for c in COLUMNS}
        assert not any("\x00" in value for value in get.values()), f"PostgreSQL cannot store NUL: {get}"
        product = Product.objects.select_related("brand").get(sku=get["sku"])
        assert product.name == get["name"] and product.description == get["description"]
        assert product.price == cents(get["price"])
        assert product.currency == (get["currency"] or "USD").upper()
        assert product.in_stock == (BOOLEANS[get["in_stock"].lower()] if get["in_stock"] else True)
        for column in ("url", "image_url", "serving_size"):
            assert getattr(product, column) == get[column], column
        assert (product.brand.name.casefold() if product.brand else "") == get["brand"].casefold()
        assert product.slug and re.fullmatch(r"[-a-zA-Z0-9_]+", product.slug), product.slug
        assert product.get_absolute_url() == f"/products/{product.slug}/"
        expected_facts = {f.code: f.amount for f in parse_facts(get["nutrients"], index).facts}
        assert dict(product.nutrients.values_list("code", "amount")) == expected_facts
        imported = ProductTag.objects.filter(product=product, source=ProductTag.Source.IMPORT)
        pairs = [part.partition("=") for part in get["tags"].split(";") if part.strip()]
        expected_tags = {slug.strip(): float(relevance or 1) for slug, _, relevance in pairs}
        assert dict(imported.values_list("tag__slug", "relevance")) == pytest.approx(expected_tags)


def run_command(path: Path, data: bytes) -> tuple[str, str, str | None]:
    """(stdout, stderr, CommandError message or None) of import_products on a file of these bytes."""
    path.write_bytes(data)
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("import_products", str(path), stdout=out, stderr=err)
    except CommandError as exc:
        return out.getvalue(), err.getvalue(), str(exc)
    return out.getvalue(), err.getvalue(), None


def file_of(**values: str) -> bytes:
    """A file of the real header and one good row with these values."""
    return f"{','.join(COLUMNS)}\n{','.join({**GOOD, **values}[c] for c in COLUMNS)}\n".encode()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=csv_files())
# Found by this test: a price that rounds up to 10^8 in cents failed at the database (PostgreSQL) or on every
# later read (SQLite); NUL in any field failed at PostgreSQL; a name and sku slugify empties got an empty slug.
@example(data=file_of(price="99999999.995"))
@example(data=file_of(price="19.995"))
@example(data=file_of(name="Magnesium\x00"))
@example(data=file_of(description="a\x00b"))
@example(data=file_of(name="!!!", sku="维生素"))
def test_any_file_is_imported_or_refused_with_nothing_written(store: None, tmp_path: Path, data: bytes) -> None:
    with transaction.atomic():  # each example starts from the same store
        before = snapshot()
        out, err, refused = run_command(tmp_path / "products.csv", data)
        if refused is not None:
            assert refused.endswith("bad row(s); nothing was imported."), refused
            errors = [line for line in err.splitlines() if line.startswith("error: line ")]
            assert errors and len(errors) == int(refused.split()[0]), err
            last_line = data.count(b"\n") + 1
            for line in errors:
                named = re.fullmatch(r"error: line (\d+): \S.*", line)
                assert named and 1 <= int(named[1]) <= last_line, line
            assert snapshot() == before
            event(f"refused: {re.sub(r'[^a-z ]', '', errors[0].split(': ', 2)[2])[:30]}")
        else:
            event("imported")
            assert "imported" in out, (out, err)
            assert_imported_as_given(data)
        transaction.set_rollback(True)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=csv_files())
def test_a_text_stream_gets_the_same_answer(store: None, data: bytes) -> None:
    """`import_products` on a text stream (`load_demo` passes one) gives the byte stream's answer; it raises nothing."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return
    with transaction.atomic():
        before = snapshot()
        from_bytes = import_products(io.BytesIO(data), dry_run=True)
        result = import_products(io.StringIO(text, newline="\n"))
        assert result.errors == from_bytes.errors
        if result.errors:
            assert all(line >= 1 and message for line, message in result.errors)
            assert snapshot() == before
        else:
            assert result.created + result.updated == result.valid == from_bytes.valid
        transaction.set_rollback(True)
