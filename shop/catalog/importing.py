"""CSV import of products (DESIGN.md section 7): validate every row first, then write all or nothing, in bulk.

The `nutrients` column holds supplement facts as labels print them (`recommender.labels`). Writing happens in
batches inside one transaction: products, facts and tags with bulk queries, facts tags derived once per batch
with the taxonomy read once, and one refresh announced for the whole import.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import IO

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
from recommender.services.tagging import (
    facts_taxonomy,
    products_facts_tags_sync,
    products_name_tags_sync,
    products_tags_replace,
)
from recommender.services.taxonomy import lexicon_build
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
TAG = re.compile(r"^(?P<slug>[a-z0-9][a-z0-9-]*)\s*(?:=\s*(?P<relevance>\d*\.?\d+))?$")
BATCH_SIZE = 1000


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
    rows: list[ProductRow] = field(default_factory=list)
    errors: list[tuple[int, str]] = field(default_factory=list)
    warnings: list[tuple[int, str]] = field(default_factory=list)

    @property
    def untagged(self) -> int:
        """Label lines kept as facts without a taxonomy tag (botanicals, calories, blends, NP members)."""
        return sum(row.untagged for row in self.rows)


class RowError(ValueError):
    """One bad value in a row."""


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
    try:
        price = Decimal(value) if value else None
    except InvalidOperation:
        raise RowError(f"price {value!r} is not a number") from None
    if price is not None and (not price.is_finite() or price < 0 or price >= MAX_PRICE):
        raise RowError(f"price {value!r} must be a number from 0 to {MAX_PRICE - 1}")
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


def parse_row(line: int, raw: dict[str, str], known_tags: set[str], index: LabelIndex) -> ProductRow:
    """A validated row, or RowError saying what is wrong."""
    get = {k: (raw.get(k) or "").strip() for k in COLUMNS}
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


def csv_records(lines: Sequence[str]) -> Iterator[tuple[int, list[str] | None]]:
    """(first line number, fields) per record; fields None for a broken quote, then reading resumes after it."""
    start = 0
    while start < len(lines):
        reader = csv.reader(lines[start:], strict=True)
        consumed = 0
        try:
            for record in reader:
                first, consumed = start + consumed + 1, reader.line_num
                if record:
                    yield first, record
            return
        except csv.Error:
            first = start + consumed + 1
            yield first, None
            start = first  # the broken line is reported; the next line starts afresh


def read_rows(stream: IO[str]) -> ImportResult:
    """Parse and validate every row; nothing is written."""
    result = ImportResult()
    records = csv_records(stream.read().splitlines(keepends=True))
    header_line, header = next(records, (1, []))
    header = [h.strip() for h in header or []]
    missing = {"sku", "name"} - set(header)
    if missing:
        result.errors.append((header_line, f"header lacks required column(s): {', '.join(sorted(missing))}"))
        return result
    unknown_columns = set(header) - set(COLUMNS)
    if unknown_columns:
        result.warnings.append((1, f"ignored unknown column(s): {', '.join(sorted(unknown_columns))}"))
    known_tags = set(Tag.objects.values_list("slug", flat=True))
    index = facts_taxonomy().index
    seen: dict[str, int] = {}
    for line, record in records:
        if record is None:
            result.errors.append((line, "broken quote: a quoted field is not closed properly"))
        elif len(record) > len(header):
            result.errors.append((line, "row has more fields than the header"))
        else:
            try:
                row = parse_row(line, dict(zip(header, record, strict=False)), known_tags, index)
            except RowError as exc:
                result.errors.append((line, str(exc)))
                continue
            if row.sku in seen:
                result.errors.append((line, f"sku {row.sku!r} already appears on line {seen[row.sku]}"))
                continue
            seen[row.sku] = line
            result.rows.append(row)
    return result


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


def _slugs(rows: Sequence[ProductRow], taken_in_import: set[str]) -> dict[str, str]:
    """A unique slug per new product: its name, else name and sku, else a counter."""
    bases = {row.sku: slugify(row.name)[:180] or slugify(row.sku) for row in rows}
    fallbacks = {sku: f"{base}-{slugify(sku)}"[:200] for sku, base in bases.items()}
    taken = taken_in_import | set(
        Product.objects.filter(slug__in={*bases.values(), *fallbacks.values()}).values_list("slug", flat=True)
    )
    slugs = {}
    for sku, base in bases.items():
        slug, n = (base if base not in taken else fallbacks[sku]), 2
        while slug in taken:  # rare: name and sku both taken; count up, asking the database each time
            slug, n = f"{fallbacks[sku][:195]}-{n}", n + 1
            if Product.objects.filter(slug=slug).exists():
                taken.add(slug)
        taken.add(slug)
        slugs[sku] = slug
    taken_in_import.update(slugs.values())
    return slugs


def _fill(product: Product, row: ProductRow, brands: dict[str, Brand]) -> Product:
    product.name, product.brand, product.description = row.name, brands.get(row.brand), row.description
    product.price, product.currency, product.in_stock = row.price, row.currency, row.in_stock
    product.url, product.image_url, product.serving_size = row.url, row.image_url, row.serving_size
    product.updated_at = timezone.now()
    return product


def _write_products(rows: Sequence[ProductRow], brands: dict[str, Brand], taken: set[str]) -> tuple[dict, int]:
    """Create and update the batch's products; returns products by sku and how many were new."""
    existing = Product.objects.in_bulk([row.sku for row in rows], field_name="sku")
    new_rows = [row for row in rows if row.sku not in existing]
    slugs = _slugs(new_rows, taken)
    created = Product.objects.bulk_create(
        [_fill(Product(sku=row.sku, slug=slugs[row.sku]), row, brands) for row in new_rows]
    )
    updated = [_fill(existing[row.sku], row, brands) for row in rows if row.sku in existing]
    Product.objects.bulk_update(updated, PRODUCT_FIELDS)
    return {p.sku: p for p in [*created, *updated]}, len(created)


def _write_facts(rows: Sequence[ProductRow], products: dict[str, Product]) -> dict[int, list[NutrientFact]]:
    """Replace the batch's supplement facts; returns the scored facts per product id."""
    NutrientAmount.objects.filter(product_id__in=[p.pk for p in products.values()]).delete()
    amounts = [
        NutrientAmount(
            product=products[row.sku], code=f.code, label=f.label, amount=f.amount, unit=f.unit, form=f.form,
            daily_value=f.daily_value,
        )
        for row in rows
        for f in row.nutrients
    ]  # fmt: skip
    NutrientAmount.objects.bulk_create(amounts, batch_size=BATCH_SIZE)
    return {
        products[row.sku].pk: [
            NutrientFact(f.code, float(f.amount), f.unit, f.form) for f in row.nutrients if f.amount is not None
        ]
        for row in rows
    }


def write_rows(rows: Sequence[ProductRow], *, progress: Callable[[int], object] | None = None) -> tuple[int, int]:
    """Write validated rows in bulk batches inside one transaction; returns (created, updated)."""
    created = 0
    taken: set[str] = set()
    with transaction.atomic(), dirty.refresh_batch():
        tags = {t.slug: t for t in Tag.objects.all()}
        taxonomy = facts_taxonomy()
        lexicon = lexicon_build()
        brands = _brands(rows)
        product_ids: list[int] = []
        for start in range(0, len(rows), BATCH_SIZE):
            batch = rows[start : start + BATCH_SIZE]
            products, new = _write_products(batch, brands, taken)
            created += new
            products_facts_tags_sync(facts=_write_facts(batch, products), taxonomy=taxonomy)
            products_name_tags_sync(products=list(products.values()), lexicon=lexicon)
            products_tags_replace(
                tags={products[row.sku].pk: [(tags[s], r) for s, r in row.tags] for row in batch},
                source=ProductTag.Source.IMPORT,
            )
            product_ids += [p.pk for p in products.values()]
            if progress is not None:
                progress(len(batch))
        dirty.products_changed(product_ids)
    return created, len(rows) - created


def import_products(
    stream: IO[str], *, dry_run: bool = False, progress: Callable[[int], object] | None = None
) -> ImportResult:
    """Validate the whole file; when every row is good and not a dry run, write it in one transaction.

    `progress(n)` is called as each batch of n rows is written.
    """
    result = read_rows(stream)
    if result.errors or dry_run:
        return result
    result.created, result.updated = write_rows(result.rows, progress=progress)
    return result
