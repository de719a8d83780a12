"""CSV import of products (DESIGN.md section 7): validate every row first, then write all or nothing."""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import IO

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.utils.text import slugify

from recommender.dirty import refresh_batch
from recommender.models import ProductTag, Tag
from recommender.services.tagging import nutrient_code_index, product_facts_tags_sync, product_tags_set
from shop.catalog.models import Brand, NutrientAmount, Product

COLUMNS = [
    "sku", "name", "brand", "description", "price", "currency", "in_stock",
    "url", "image_url", "serving_size", "nutrients", "tags",
]  # fmt: skip
BOOLEANS = {"true": True, "yes": True, "1": True, "false": False, "no": False, "0": False}
NUTRIENT = re.compile(
    r"^(?P<code>[a-z0-9][a-z0-9-]*)\s*=\s*(?P<amount>\d+(?:\.\d+)?)\s*"
    r"(?P<unit>mcg\s+DFE|mcg\s+RAE|mg|mcg|µg|μg|ug|g|IU)(?=\s|$)\s*(?P<form>.*)$",
    re.IGNORECASE,
)
MAX_PRICE = Decimal(10) ** 8  # Product.price: 10 digits, 2 after the point
MAX_AMOUNT = Decimal(10) ** 8  # NutrientAmount.amount: 12 digits, 4 after the point
TAG = re.compile(r"^(?P<slug>[a-z0-9][a-z0-9-]*)\s*(?:=\s*(?P<relevance>\d*\.?\d+))?$")


@dataclass
class NutrientRow:
    code: str
    amount: Decimal
    unit: str
    form: str


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
    nutrients: list[NutrientRow]
    tags: list[tuple[str, float]]


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    rows: list[ProductRow] = field(default_factory=list)
    errors: list[tuple[int, str]] = field(default_factory=list)
    warnings: list[tuple[int, str]] = field(default_factory=list)


class RowError(ValueError):
    """One bad value in a row."""


def _unit(raw: str) -> str:
    unit = " ".join(raw.split())
    lowered = unit.lower()
    if lowered in {"mcg dfe", "mcg rae"}:
        return "mcg " + unit.split()[1].upper()
    return "IU" if lowered == "iu" else lowered


def parse_nutrients(value: str) -> list[NutrientRow]:
    rows, seen = [], set()
    for part in filter(None, (p.strip() for p in value.split(";"))):
        m = NUTRIENT.match(part)
        if not m:
            raise RowError(f"nutrient {part!r} is not 'code=amount unit [form]' (units: mg, mcg, g, IU, mcg DFE)")
        code = m["code"].lower()
        if code in seen:
            raise RowError(f"nutrient {code!r} is listed twice")
        seen.add(code)
        amount = Decimal(m["amount"])
        if amount >= MAX_AMOUNT:
            raise RowError(f"nutrient {code!r} amount {m['amount']} is too large")
        rows.append(NutrientRow(code, amount, _unit(m["unit"]), m["form"].strip()))
    return rows


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


def parse_row(line: int, raw: dict[str, str], known_tags: set[str]) -> ProductRow:
    """A validated row, or RowError saying what is wrong."""
    get = {k: (raw.get(k) or "").strip() for k in COLUMNS}
    if not get["sku"]:
        raise RowError("sku is required")
    if not get["name"]:
        raise RowError("name is required")
    try:
        price = Decimal(get["price"]) if get["price"] else None
    except InvalidOperation:
        raise RowError(f"price {get['price']!r} is not a number") from None
    if price is not None and (not price.is_finite() or price < 0 or price >= MAX_PRICE):
        raise RowError(f"price {get['price']!r} must be a number from 0 to {MAX_PRICE - 1}")
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
    return ProductRow(
        line, get["sku"], get["name"], get["brand"], get["description"], price, currency, in_stock,
        get["url"], get["image_url"], get["serving_size"], parse_nutrients(get["nutrients"]),
        parse_tags(get["tags"], known_tags),
    )  # fmt: skip


def read_rows(stream: IO[str]) -> ImportResult:
    """Parse and validate every row; nothing is written."""
    result = ImportResult()
    reader = csv.DictReader(stream)
    missing = {"sku", "name"} - set(reader.fieldnames or [])
    if missing:
        result.errors.append((1, f"header lacks required column(s): {', '.join(sorted(missing))}"))
        return result
    unknown_columns = set(reader.fieldnames or []) - set(COLUMNS)
    if unknown_columns:
        result.warnings.append((1, f"ignored unknown column(s): {', '.join(sorted(unknown_columns))}"))
    known_tags = set(Tag.objects.values_list("slug", flat=True))
    known_codes = set(nutrient_code_index())
    seen: dict[str, int] = {}
    for raw in reader:
        line = reader.line_num
        if None in raw:
            result.errors.append((line, "row has more fields than the header"))
            continue
        try:
            row = parse_row(line, raw, known_tags)
        except RowError as exc:
            result.errors.append((line, str(exc)))
            continue
        if row.sku in seen:
            result.errors.append((line, f"sku {row.sku!r} already appears on line {seen[row.sku]}"))
            continue
        seen[row.sku] = line
        for n in row.nutrients:
            if n.code not in known_codes:
                result.warnings.append((line, f"nutrient code {n.code!r} is not in the taxonomy; kept, not scored"))
        result.rows.append(row)
    return result


def _unique_slug(name: str, sku: str, product: Product | None) -> str:
    base = slugify(name)[:180] or slugify(sku)
    taken = Product.objects.filter(slug=base)
    if product is not None and product.pk:
        taken = taken.exclude(pk=product.pk)
    return base if not taken.exists() else f"{base}-{slugify(sku)}"[:200]


def write_row(row: ProductRow, tags: dict[str, Tag]) -> bool:
    """Create or update one product with its facts and tags; True if created."""
    brand = None
    if row.brand:
        brand, _ = Brand.objects.get_or_create(name=row.brand, defaults={"slug": slugify(row.brand)})
    product = Product.objects.filter(sku=row.sku).first()
    created = product is None
    product = product or Product(sku=row.sku)
    product.slug = product.slug or _unique_slug(row.name, row.sku, product)
    product.name, product.brand, product.description = row.name, brand, row.description
    product.price, product.currency, product.in_stock = row.price, row.currency, row.in_stock
    product.url, product.image_url, product.serving_size = row.url, row.image_url, row.serving_size
    product.save()
    product.nutrients.all().delete()
    NutrientAmount.objects.bulk_create(
        NutrientAmount(product=product, code=n.code, amount=n.amount, unit=n.unit, form=n.form) for n in row.nutrients
    )
    product_facts_tags_sync(product=product)
    product_tags_set(product=product, tags=[(tags[s], r) for s, r in row.tags], source=ProductTag.Source.IMPORT)
    return created


def import_products(stream: IO[str], *, dry_run: bool = False) -> ImportResult:
    """Validate the whole file; when every row is good and not a dry run, write it in one transaction."""
    result = read_rows(stream)
    if result.errors or dry_run:
        return result
    tags = {t.slug: t for t in Tag.objects.all()}
    with transaction.atomic(), refresh_batch():
        for row in result.rows:
            if write_row(row, tags):
                result.created += 1
            else:
                result.updated += 1
    return result
