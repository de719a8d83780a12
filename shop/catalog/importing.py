"""CSV import of products (DESIGN.md section 7): validate every row first, then write all or nothing, in bulk.

The file is read twice, streaming: once to validate every row (keeping only skus and counts), then again to
write in batches of at most `BATCH_SIZE` rows and about `BATCH_CHARS` characters of text, one batch held at a
time, so memory stays bounded by a batch however large the file and however long its rows (plus an int per
product, the ids of the one refresh announced). Bytes are decoded as UTF-8 (a BOM is allowed) line by line, so a
file in another encoding is refused naming its first bad line.

The `nutrients` column holds supplement facts as labels print them (`recommender.labels`). Writing happens in
batches inside one transaction: products, facts and tags with bulk queries, facts tags derived once per batch
with the taxonomy read once, and one refresh announced for the whole import.
"""

from __future__ import annotations

import csv
import io
import re
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import IO, Any

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.db.models import Field, Model
from django.utils import timezone
from django.utils.text import slugify

from recommender import dirty
from recommender.adapters import NutrientFact
from recommender.labels import LabelError, LabelFact, LabelIndex, parse_facts
from recommender.models import ProductTag, Tag
from recommender.services.bulk import rows_insert
from recommender.services.tagging import (
    FactsTaxonomy,
    facts_taxonomy,
    products_facts_tags_sync,
    products_name_tags_sync,
    products_tags_replace,
)
from recommender.services.taxonomy import lexicon_build
from recommender.text.lexicon import Lexicon
from shop.catalog.models import Brand, NutrientAmount, Product

COLUMNS = [
    "sku", "name", "brand", "description", "price", "currency", "in_stock",
    "url", "image_url", "serving_size", "nutrients", "tags",
]  # fmt: skip
PRODUCT_FIELDS = [
    "name", "brand", "description", "price", "currency", "in_stock", "url", "image_url", "serving_size", "updated_at",
]  # fmt: skip
BOOLEANS = {"true": True, "yes": True, "1": True, "false": False, "no": False, "0": False}
MAX_PRICE = Decimal(10) ** 8  # Product.price: 10 digits, 2 after the point
CENT = Decimal("0.01")
TAG = re.compile(r"^(?P<slug>[a-z0-9][a-z0-9-]*)\s*(?:=\s*(?P<relevance>\d*\.?\d+))?$")
BATCH_SIZE = 1000
BATCH_CHARS = 2_000_000  # a batch of long descriptions is cut short: 1,000 rows of 2 KB, or 20 rows of 100 KB
CURRENCY_SYMBOLS = set("$€£¥₹₩₽¢")


@dataclass
class ProductRow:
    line: int
    sku: str
    name: str
    brand: str
    description: str
    price: Decimal | None
    currency: str
    in_stock: bool
    url: str
    image_url: str
    serving_size: str
    nutrients: list[LabelFact]
    tags: list[tuple[str, float]]
    untagged: int = 0  # label lines kept without a tag


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    valid: int = 0  # rows that passed validation
    untagged: int = 0  # label lines kept as facts without a taxonomy tag (botanicals, calories, blends)
    errors: list[tuple[int, str]] = field(default_factory=list)
    warnings: list[tuple[int, str]] = field(default_factory=list)


class RowError(ValueError):
    """One bad value in a row."""


class NotUtf8Error(ValueError):
    """A line of the file is not UTF-8."""

    def __init__(self, line: int, exc: UnicodeDecodeError) -> None:
        super().__init__(
            f"the file is not UTF-8 (byte {exc.object[exc.start : exc.start + 1]!r} on this line); save it as UTF-8"
        )
        self.line = line


def utf8_lines(stream: IO[bytes]) -> Iterator[str]:
    """Lines decoded as UTF-8, a BOM on the first allowed; NotUtf8Error names the first line that is not."""
    for number, raw in enumerate(stream, 1):
        try:
            yield raw.decode("utf-8-sig" if number == 1 else "utf-8")
        except UnicodeDecodeError as exc:
            raise NotUtf8Error(number, exc) from None


def text_lines(stream: IO[Any]) -> Iterator[str]:
    """A text stream's lines as they are; a byte stream's decoded by `utf8_lines`."""
    return iter(stream) if isinstance(stream, io.TextIOBase) else utf8_lines(stream)


def parse_tags(value: str, known: set[str]) -> list[tuple[str, float]]:
    tags = []
    for part in filter(None, (p.strip() for p in value.split(";"))):
        m = TAG.match(part)
        if not m:
            raise RowError(f"tag {part!r} is not 'slug' or 'slug=relevance'")
        if m["slug"] not in known:
            raise RowError(f"unknown tag {m['slug']!r}")
        relevance = float(m["relevance"]) if m["relevance"] else 1.0
        if not 0 <= relevance <= 1:
            raise RowError(f"tag {m['slug']!r} relevance {relevance} is outside 0..1")
        tags.append((m["slug"], relevance))
    return tags


def _price(value: str) -> Decimal | None:
    if value[:1] in CURRENCY_SYMBOLS or value[-1:] in CURRENCY_SYMBOLS:
        raise RowError(f"price {value!r} has a currency symbol; give the number and the code in the currency column")
    try:
        price = Decimal(value) if value else None
    except InvalidOperation:
        raise RowError(f"price {value!r} is not a number") from None
    if price is not None and price.is_finite() and 0 <= price < MAX_PRICE:
        # In cents, as the column keeps it, rounded here so that every database agrees (19.995 is 20.00) and a
        # price that rounds up to 10^8 is refused here rather than by the database (or when it is read back).
        price = price.quantize(CENT, rounding=ROUND_HALF_UP)
    if price is not None and (not price.is_finite() or price < 0 or price >= MAX_PRICE):
        raise RowError(f"price {value!r} must be a number from 0 to {MAX_PRICE - CENT}")
    return price


def _max_length(model: type[Model], name: str) -> int:
    field = model._meta.get_field(name)
    assert isinstance(field, Field)
    return int(field.max_length or 0)


def _check_lengths(get: dict[str, str]) -> None:
    """A value longer than its column is a bad row here, not a database error at write time.

    Supplement facts need no check: `recommender.labels` keeps labels, forms and codes within their columns.
    """
    columns = {name: (Product, name) for name in ("sku", "name", "url", "image_url", "serving_size")}
    for column, (model, name) in {**columns, "brand": (Brand, "name")}.items():
        limit = _max_length(model, name)
        if len(get[column]) > limit:
            raise RowError(f"{column} is {len(get[column])} characters long; the limit is {limit}")


# C0 controls other than tab and line breaks: PostgreSQL cannot store NUL, and a spreadsheet cell (the tag
# export's XLSX) can hold none of them.
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
CONTROL_WHY = "which the database or a spreadsheet cannot hold"


def parse_row(line: int, raw: dict[str, str], known_tags: set[str], index: LabelIndex) -> ProductRow:
    """A validated row, or RowError saying what is wrong."""
    get = {k: (raw.get(k) or "").strip() for k in COLUMNS}
    for column, value in get.items():
        if found := CONTROL.search(value):
            raise RowError(f"{column} contains the control character {found.group()!r}, {CONTROL_WHY}")
    if not get["sku"]:
        raise RowError("sku is required")
    if not get["name"]:
        raise RowError("name is required")
    price = _price(get["price"])
    in_stock = BOOLEANS.get(get["in_stock"].lower()) if get["in_stock"] else True
    if in_stock is None:
        raise RowError(f"in_stock {get['in_stock']!r} is not true/false/yes/no/1/0")
    currency = (get["currency"] or "USD").upper()
    if not re.fullmatch(r"[A-Z]{3}", currency):
        raise RowError(f"currency {get['currency']!r} is not a 3-letter code")
    if get["url"]:
        try:
            URLValidator(schemes=["http", "https"])(get["url"])
        except ValidationError:
            raise RowError(f"url {get['url']!r} is not an http(s) URL") from None
    try:
        facts = parse_facts(get["nutrients"], index)
    except LabelError as exc:
        raise RowError(f"nutrient {exc}") from None
    _check_lengths(get)
    return ProductRow(
        line, get["sku"], get["name"], get["brand"], get["description"], price, currency, in_stock,
        get["url"], get["image_url"], get["serving_size"], facts.facts, parse_tags(get["tags"], known_tags),
        facts.untagged,
    )  # fmt: skip


def csv_records(lines: Iterable[str]) -> Iterator[tuple[int, list[str] | None]]:
    """(first line number, fields) per record; fields None for a broken quote, then reading resumes after it.

    Only the current record's lines are held (the csv module caps a field at 128 KB), so a broken quote
    is replayed from the line after it without reading the file into memory.
    """
    source, replay, done = iter(lines), deque[str](), 0  # done: lines consumed by finished records
    taken: list[str] = []

    def feed() -> Iterator[str]:
        while (line := replay.popleft() if replay else next(source, None)) is not None:
            taken.append(line)
            yield line

    while True:
        reader = csv.reader(feed(), strict=True)
        try:
            for record in reader:
                first, done = done + 1, done + len(taken)
                taken.clear()
                if record:
                    yield first, record
            return
        except csv.Error:
            yield done + 1, None
            done += 1  # the broken line is reported; the next line starts afresh
            replay.extendleft(reversed(taken[1:]))
            taken.clear()


def _header_problem(header: list[str]) -> str | None:
    """Why this header cannot be read, or None."""
    if not header:
        return "the file is empty; the first line must be the header (sku,name,...)"
    if len(header) == 1 and ";" in header[0]:
        return "columns are separated by ';'; save the file comma-separated (tags use ';' inside a field)"
    missing = {"sku", "name"} - set(header)
    if missing:
        return f"header lacks required column(s): {', '.join(sorted(missing))}"
    doubled = sorted({h for h in header if header.count(h) > 1})
    if doubled:
        return f"header names column(s) more than once: {', '.join(doubled)}"
    return None


def valid_rows(lines: Iterable[str], result: ImportResult) -> Iterator[ProductRow]:
    """Parse and validate rows as they are read, adding errors and warnings to `result`; nothing is written."""
    records = csv_records(lines)
    try:
        header_line, header_fields = next(records, (1, []))
        header = [h.strip().lstrip("\ufeff") for h in header_fields or []]
        problem = _header_problem(header)
        if problem:
            result.errors.append((header_line, problem))
            return
        unknown_columns = set(header) - set(COLUMNS)
        if unknown_columns:
            result.warnings.append((header_line, f"ignored unknown column(s): {', '.join(sorted(unknown_columns))}"))
        known_tags = set(Tag.objects.values_list("slug", flat=True))
        index = facts_taxonomy().index
        for line, record in records:
            if record is None:
                result.errors.append((line, "broken quote: a quoted field is not closed properly"))
            elif len(record) > len(header):
                result.errors.append((line, "row has more fields than the header"))
            else:
                try:
                    yield parse_row(line, dict(zip(header, record, strict=False)), known_tags, index)
                except RowError as exc:
                    result.errors.append((line, str(exc)))
    except NotUtf8Error as exc:
        result.errors.append((exc.line, str(exc)))


def read_rows(lines: Iterable[str]) -> ImportResult:
    """Validate every row, keeping only counts and each sku's first line; nothing is written."""
    result = ImportResult()
    seen: dict[str, int] = {}
    for row in valid_rows(lines, result):
        if row.sku in seen:
            result.errors.append((row.line, f"sku {row.sku!r} already appears on line {seen[row.sku]}"))
            continue
        seen[row.sku] = row.line
        result.valid += 1
        result.untagged += row.untagged
    if not result.errors and not result.valid:
        result.errors.append((1, "no product rows after the header"))
    return result


def row_chars(row: ProductRow) -> int:
    """About how much text a row holds (its free-text columns), for cutting batches by size."""
    return len(row.name) + len(row.description) + len(row.url) + len(row.image_url) + len(row.serving_size)


def batches(rows: Iterable[ProductRow]) -> Iterator[list[ProductRow]]:
    """Rows in lists of at most BATCH_SIZE rows; a list also ends at the row that brings it to BATCH_CHARS."""
    batch: list[ProductRow] = []
    chars = 0
    for row in rows:
        batch.append(row)
        chars += row_chars(row)
        if len(batch) == BATCH_SIZE or chars >= BATCH_CHARS:
            yield batch
            batch, chars = [], 0
    if batch:
        yield batch


def _brands(rows: Sequence[ProductRow]) -> dict[str, Brand]:
    """Brands by the names rows give, creating the missing ones in one query.

    Names match without regard to case ("TRACE MINERALS" is the existing "Trace Minerals"); a new brand takes
    the first spelling the file uses.
    """
    names = {row.brand for row in rows if row.brand}
    known = {b.name.casefold(): b for b in Brand.objects.all()}  # a store has hundreds of brands, not millions
    taken = set(Brand.objects.values_list("slug", flat=True))
    new: dict[str, Brand] = {}
    for name in [row.brand for row in rows if row.brand]:
        key = name.casefold()
        if key in known or key in new:
            continue
        slug = base = slugify(name)[:130] or "brand"
        n = 2
        while slug in taken:
            slug, n = f"{base}-{n}", n + 1
        taken.add(slug)
        new[key] = Brand(name=name, slug=slug)
    known.update({b.name.casefold(): b for b in Brand.objects.bulk_create(new.values())})
    return {name: known[name.casefold()] for name in names}


def _slugs(rows: Sequence[ProductRow]) -> dict[str, str]:
    """A unique slug per new product: its name, else name and sku, else a counter.

    A name and sku with no letter or digit slugify can keep ("!!!", "维生素") start from "product": an empty slug
    would be a product page no url reaches. Earlier batches of the same import are already in the table (same
    transaction), so one query per batch sees them: no set of every slug written so far is kept.
    """
    bases = {row.sku: slugify(row.name)[:180] or slugify(row.sku) or "product" for row in rows}
    fallbacks = {sku: "-".join(filter(None, [base, slugify(sku)]))[:200] for sku, base in bases.items()}
    taken = set(Product.objects.filter(slug__in={*bases.values(), *fallbacks.values()}).values_list("slug", flat=True))
    slugs = {}
    for sku, base in bases.items():
        slug, n = (base if base not in taken else fallbacks[sku]), 2
        while slug in taken:  # rare: name and sku both taken; count up, asking the database each time
            slug, n = f"{fallbacks[sku][:195]}-{n}", n + 1
            if Product.objects.filter(slug=slug).exists():
                taken.add(slug)
        taken.add(slug)
        slugs[sku] = slug
    return slugs


def _fill(product: Product, row: ProductRow, brands: dict[str, Brand]) -> Product:
    product.name, product.brand, product.description = row.name, brands.get(row.brand), row.description
    product.price, product.currency, product.in_stock = row.price, row.currency, row.in_stock
    product.url, product.image_url, product.serving_size = row.url, row.image_url, row.serving_size
    product.updated_at = timezone.now()
    return product


def _write_products(rows: Sequence[ProductRow], brands: dict[str, Brand]) -> tuple[dict, int]:
    """Create and update the batch's products; returns products by sku and how many were new."""
    existing = Product.objects.in_bulk([row.sku for row in rows], field_name="sku")
    new_rows = [row for row in rows if row.sku not in existing]
    slugs = _slugs(new_rows)
    created = Product.objects.bulk_create(
        [_fill(Product(sku=row.sku, slug=slugs[row.sku]), row, brands) for row in new_rows]
    )
    updated = [_fill(existing[row.sku], row, brands) for row in rows if row.sku in existing]
    Product.objects.bulk_update(updated, PRODUCT_FIELDS)
    return {p.sku: p for p in [*created, *updated]}, len(created)


def _write_facts(rows: Sequence[ProductRow], products: dict[str, Product]) -> dict[int, list[NutrientFact]]:
    """Replace the batch's supplement facts; returns the scored facts per product id."""
    NutrientAmount.objects.filter(product_id__in=[p.pk for p in products.values()]).delete()
    # Plain tuples by COPY (PostgreSQL), not a model instance per label line.
    rows_insert(
        NutrientAmount,
        ["product_id", "code", "label", "amount", "unit", "form", "daily_value"],
        [
            (products[row.sku].pk, f.code, f.label, f.amount, f.unit, f.form, f.daily_value)
            for row in rows
            for f in row.nutrients
        ],
    )
    return {
        products[row.sku].pk: [
            NutrientFact(f.code, float(f.amount), f.unit, f.form) for f in row.nutrients if f.amount is not None
        ]
        for row in rows
    }


def _write_batch(
    batch: Sequence[ProductRow], *, tags: dict[str, Tag], taxonomy: FactsTaxonomy, lexicon: Lexicon
) -> int:
    """Write one batch: products, facts, derived and imported tags; returns how many products were new."""
    products, new = _write_products(batch, _brands(batch))
    products_facts_tags_sync(facts=_write_facts(batch, products), taxonomy=taxonomy)
    products_name_tags_sync(products=list(products.values()), lexicon=lexicon)
    products_tags_replace(
        tags={products[row.sku].pk: [(tags[s], r) for s, r in row.tags] for row in batch},
        source=ProductTag.Source.IMPORT,
    )
    dirty.products_changed(p.pk for p in products.values())  # collected by refresh_batch, announced once
    return new


def write_rows(rows: Iterable[ProductRow], *, progress: Callable[[int], object] | None = None) -> tuple[int, int]:
    """Write validated rows in bulk batches inside one transaction; returns (created, updated).

    Nothing outlives its batch but the counts and the product ids collected for the one refresh announced
    when the block ends (an int per product).
    """
    created = total = 0
    with transaction.atomic(), dirty.refresh_batch():
        tags = {t.slug: t for t in Tag.objects.all()}
        taxonomy = facts_taxonomy()
        lexicon = lexicon_build()
        for batch in batches(rows):
            created += _write_batch(batch, tags=tags, taxonomy=taxonomy, lexicon=lexicon)
            total += len(batch)
            if progress is not None:
                progress(len(batch))
            del batch  # before the next batch is read, so that one batch is held at a time, not two
    return created, total - created


def import_products(
    stream: IO[Any], *, dry_run: bool = False, progress: Callable[[int], object] | None = None
) -> ImportResult:
    """Validate the whole file; when every row is good and not a dry run, write it in one transaction.

    `stream` is text, or bytes decoded as UTF-8; it is read twice (validate, then write), so it must be
    seekable. `progress(n)` is called as each batch of n rows is written.
    """
    result = read_rows(text_lines(stream))
    if result.errors or dry_run:
        return result
    stream.seek(0)
    result.created, result.updated = write_rows(valid_rows(text_lines(stream), ImportResult()), progress=progress)
    return result
