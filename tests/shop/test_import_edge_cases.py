"""import_products on files a spreadsheet can produce: each a clear error naming its line, nothing written.

Also a 50 MB file, read streaming: validation keeps skus and counts, not rows, and the write holds one batch
at a time, so memory stays bounded in both passes.
"""

from __future__ import annotations

import io
import time
import tracemalloc
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from recommender.services.taxonomy import taxonomy_load
from recommender.taxonomy import shipped
from shop.catalog import importing
from shop.catalog.importing import import_products
from shop.catalog.models import Product

HEADER = "sku,name,brand,description,price,currency,in_stock,url,image_url,serving_size,nutrients,tags"
ROW = "MG-1,Magnésium Glycinate,Acme,Gentle.,19.95,USD,true,,,2 capsules,magnesium=200 mg glycinate,magnesium=0.8"
ROW2 = "ZN-1,Zinc,Acme,,9.50,USD,true,,,1 tablet,zinc=15 mg,"


@pytest.fixture
def taxonomy(db: None) -> None:
    taxonomy_load(data=shipped())


def run(tmp_path: Path, data: bytes) -> tuple[str, str]:
    """(stdout, stderr) of the command on a file holding exactly these bytes; stderr ends with the CommandError."""
    path = tmp_path / "products.csv"
    path.write_bytes(data)
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("import_products", str(path), stdout=out, stderr=err)
    except CommandError as exc:
        err.write(f"CommandError: {exc}")
    return out.getvalue(), err.getvalue()


def refused(tmp_path: Path, text: str | bytes, message: str) -> None:
    data = text if isinstance(text, bytes) else text.encode()
    _, err = run(tmp_path, data)
    assert message in err, err
    assert "nothing was imported" in err
    assert not Product.objects.exists()


def test_utf8_with_and_without_bom(taxonomy: None, tmp_path: Path) -> None:
    for data in (f"{HEADER}\n{ROW}\n".encode(), f"{HEADER}\n{ROW}\n".encode("utf-8-sig")):
        Product.objects.all().delete()
        out, err = run(tmp_path, data)
        assert "imported 1 new" in out, err
        assert Product.objects.get(sku="MG-1").name == "Magnésium Glycinate"
    assert import_products(io.StringIO(f"\ufeff{HEADER}\n{ROW}\n")).errors == []


def test_another_encoding_is_named_with_its_line(taxonomy: None, tmp_path: Path) -> None:
    refused(tmp_path, f"{HEADER}\n{ROW2}\n{ROW}\n".encode("latin-1"), "error: line 3: the file is not UTF-8")


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("sku,brand,price", "line 1: header lacks required column(s): name"),
        ("name,price", "line 1: header lacks required column(s): sku"),
        ("sku,name,price,price", "line 1: header names column(s) more than once: price"),
        ("sku,name,sku", "line 1: header names column(s) more than once: sku"),
    ],
)
def test_missing_or_duplicated_headers(taxonomy: None, tmp_path: Path, header: str, message: str) -> None:
    refused(tmp_path, f"{header}\nMG-1,Magnesium,1.00\n", message)


def test_extra_columns_are_ignored_with_a_warning(taxonomy: None, tmp_path: Path) -> None:
    out, err = run(tmp_path, f"{HEADER},colour\n{ROW},blue\n".encode())
    assert "warning: line 1: ignored unknown column(s): colour" in err
    assert "imported 1 new" in out


def test_more_fields_than_the_header(taxonomy: None, tmp_path: Path) -> None:
    refused(tmp_path, f"{HEADER}\n{ROW2}\n{ROW},extra\n", "error: line 3: row has more fields than the header")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "line 1: the file is empty"),
        (b"\xef\xbb\xbf", "line 1: the file is empty"),
        (f"{HEADER}\n".encode(), "line 1: no product rows after the header"),
        (f"{HEADER}\n\n\n".encode(), "line 1: no product rows after the header"),
    ],
)
def test_empty_and_header_only(taxonomy: None, tmp_path: Path, data: bytes, message: str) -> None:
    refused(tmp_path, data, message)


def test_semicolon_delimited_is_refused_clearly(taxonomy: None, tmp_path: Path) -> None:
    text = f"{HEADER.replace(',', ';')}\n{ROW.replace(',', ';')}\n"
    refused(tmp_path, text, "line 1: columns are separated by ';'")


@pytest.mark.parametrize(
    ("price", "message"),
    [
        ("-1.00", "price '-1.00' must be a number from 0"),
        ("abc", "price 'abc' is not a number"),
        ("12,50", "row has more fields than the header"),
        ("$19.95", "price '$19.95' has a currency symbol"),
        ("19.95€", "price '19.95€' has a currency symbol"),
        ("£5", "price '£5' has a currency symbol"),
        ("1e400", "price '1e400' must be a number from 0"),
        ("NaN", "price 'NaN' must be a number from 0"),
    ],
)
def test_bad_prices_name_the_line(taxonomy: None, tmp_path: Path, price: str, message: str) -> None:
    row = ROW.replace("19.95", price)
    refused(tmp_path, f"{HEADER}\n{ROW2}\n{row}\n", f"error: line 3: {message}")


@pytest.mark.parametrize(
    ("tags", "message"),
    [
        ("magnesium=1.5", "tag 'magnesium' relevance 1.5 is outside 0..1"),
        ("magnesium=-0.2", "tag 'magnesium=-0.2' is not 'slug' or 'slug=relevance'"),
        ("magnesium=2", "tag 'magnesium' relevance 2.0 is outside 0..1"),
    ],
)
def test_relevance_outside_unit_range(taxonomy: None, tmp_path: Path, tags: str, message: str) -> None:
    row = ROW.replace("magnesium=0.8", tags)
    refused(tmp_path, f"{HEADER}\n{ROW2}\n{row}\n", f"error: line 3: {message}")


def test_duplicate_skus_name_both_lines(taxonomy: None, tmp_path: Path) -> None:
    refused(tmp_path, f"{HEADER}\n{ROW}\n{ROW2}\n{ROW}\n", "error: line 4: sku 'MG-1' already appears on line 2")


def test_broken_quote_then_later_rows_still_checked(taxonomy: None, tmp_path: Path) -> None:
    text = f'{HEADER}\nBAD-7,"unterminated,3\n{ROW2}\n{ROW.replace("19.95", "-5")}\n'
    _, err = run(tmp_path, text.encode())
    assert "error: line 2: broken quote" in err
    assert "error: line 4: price '-5'" in err
    assert not Product.objects.exists()


def write_big_file(path: Path, megabytes: int, description_kb: int = 2) -> int:
    """A valid catalog of about `megabytes` MB: rows with descriptions of about `description_kb` KB; the row count."""
    description = "Magnesium supports muscle and nerve function. " * (22 * description_kb)
    rows = 0
    with path.open("w", encoding="utf-8") as out:
        out.write(HEADER + "\n")
        while out.tell() < megabytes * 1024 * 1024:
            out.write(f'BIG-{rows},Magnesium {rows},Acme,"{description}",9.95,USD,true,,,1 tablet,,\n')
            rows += 1
    return rows


def test_a_50_mb_file_is_validated_streaming(taxonomy: None, tmp_path: Path) -> None:
    """Peak memory while validating 50 MB stays far below the file's size (it grows with skus, not bytes)."""
    path = tmp_path / "big.csv"
    rows = write_big_file(path, 50)
    tracemalloc.start()
    try:
        with path.open("rb") as stream:
            result = import_products(stream, dry_run=True)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert result.errors == [] and result.valid == rows
    print(f"peak {peak / 1e6:.1f} MB, {rows} rows")
    assert peak < 8 * 1024 * 1024, f"peak {peak / 1e6:.1f} MB for a 50 MB file of {rows} rows"


def test_a_50_mb_file_is_written_one_batch_at_a_time(
    taxonomy: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Peak memory while writing 50 MB to the database stays far below the file's size, and every row lands.

    The write is real (`import_products`, SQLite, one transaction) and only its pass is traced. Its rows carry
    8 KB descriptions, so 50 MB is about 6,300 rows: the ORM's cost is per row (about 1 ms each on SQLite, three
    times that under tracemalloc), and the validation file's 25,000 rows would take well over a minute. The
    bytes are the same: holding the file, every row or every product would be tens of MB. Batches are cut at
    BATCH_CHARS (2 M characters, about 250 such rows), so wide rows do not widen the bound.

    The bound, 8 MB: one batch of about 2 MB of text, the rows, model objects and SQL parameters built from it
    (about 2.5 times the text), and an int per product written (about 100 bytes each, for the one refresh
    announced), with room for the machine's noise.
    """
    path = tmp_path / "big.csv"
    rows = write_big_file(path, 50, description_kb=8)
    measured: dict[str, float] = {}
    write_rows = importing.write_rows

    def traced_write_rows(*args: Any, **kwargs: Any) -> tuple[int, int]:
        started = time.perf_counter()
        tracemalloc.start()
        try:
            return write_rows(*args, **kwargs)
        finally:
            measured["peak"] = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
            measured["seconds"] = time.perf_counter() - started

    monkeypatch.setattr(importing, "write_rows", traced_write_rows)
    with path.open("rb") as stream:
        result = import_products(stream)
    assert result.errors == [] and (result.created, result.updated) == (rows, 0)
    assert Product.objects.count() == rows
    last = Product.objects.get(sku=f"BIG-{rows - 1}")
    assert last.name == f"Magnesium {rows - 1}" and len(last.description) > 8000
    peak = measured["peak"]
    print(f"write peak {peak / 1e6:.1f} MB, {rows} rows, {measured['seconds']:.1f} s traced")
    assert peak < 8 * 1024 * 1024, f"write peak {peak / 1e6:.1f} MB for a 50 MB file of {rows} rows"


CONTROLS = [
    ("sku", "MG-1", "MG-\x081"),
    ("name", "Magnésium Glycinate", "Magnesium\x1b[31m"),
    ("brand", "Acme", "A\x00"),
]


@pytest.mark.parametrize(("field", "printed", "value"), CONTROLS)
def test_control_characters_are_refused_naming_the_column(
    taxonomy: None, tmp_path: Path, field: str, printed: str, value: str
) -> None:
    # A sku with \x08 used to import, and the tag export's XLSX then failed on it (no spreadsheet cell holds it).
    row = ROW.replace(printed, value, 1)
    refused(tmp_path, f"{HEADER}\n{ROW2}\n{row}\n", f"error: line 3: {field} contains the control character")
