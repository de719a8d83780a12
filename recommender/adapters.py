"""How the plugin reads a host's products, without importing the host.

A host sets `RECOMMENDER["PRODUCT_ADAPTER"]` to a subclass of `ProductAdapter` when its product
model does not use the attribute names below. Everything the recommender needs to know about a
product goes through one of these methods.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.apps import apps
from django.db import models
from django.db.models import Q

from recommender.conf import adapter_class, product_model_label


@dataclass(frozen=True)
class NutrientFact:
    """One line of a product's supplement facts, per serving."""

    code: str
    amount: float
    unit: str
    form: str = ""


@dataclass(frozen=True)
class ProductRecord:
    """What scoring reads about one product: a snapshot of plain values, not a model instance."""

    id: int
    sku: str
    brand: str
    available: bool
    nutrients: tuple[NutrientFact, ...] = ()


RECORD_BATCH = 2_000  # ids per query: SQLite limits the parameters of one statement


def batched_ids(ids: Iterable[int]) -> Iterator[list[int]]:
    """Ids in sorted batches of `RECORD_BATCH`, for `pk__in` lookups every database accepts."""
    ordered = sorted(set(ids))
    for start in range(0, len(ordered), RECORD_BATCH):
        yield ordered[start : start + RECORD_BATCH]


def ids_filter(field: str, ids: Iterable[int]) -> Q:
    """A filter on `field` that holds for exactly these ids: the range from the least to the greatest, less
    the few ids missing from it, or (where many are missing) the ids themselves.

    Django prepares every value of an `IN` list one by one and psycopg parses the query again per placeholder:
    a list of 2,000 ids costs about 15 ms a query where a range costs nothing, and a refresh reads its chunks
    (ids that mostly follow one another) that way hundreds of times.
    """
    wanted = sorted(set(ids))
    if not wanted:
        return Q(**{f"{field}__in": []})
    low, high = wanted[0], wanted[-1]
    if high - low + 1 - len(wanted) > len(wanted) // 10:
        return Q(**{f"{field}__in": wanted})
    within = Q(**{f"{field}__gte": low, f"{field}__lte": high})
    missing = sorted(set(range(low, high + 1)).difference(wanted))
    return within & ~Q(**{f"{field}__in": missing}) if missing else within


def rows_of_ids(queryset: models.QuerySet[Any], field: str, ids: Iterable[int], *values: str) -> list[tuple[Any, ...]]:
    """`values_list(field, *values)` of the queryset's rows whose `field` is one of these ids.

    Where the ids are many and scattered (a product's neighbours across the catalog), the rows from the least to
    the greatest are read and those wanted kept here: an `IN` list costs several times more per id to prepare
    (`ids_filter`) than reading a row costs, so this holds while the span is at most `SPAN_PER_ID` times as wide
    as the ids are many. Otherwise `ids_filter` picks them. (For a table of one row per id: `RelatedState`.)
    """
    wanted = set(ids)
    if len(wanted) < 100 or max(wanted) - min(wanted) + 1 > SPAN_PER_ID * len(wanted):
        return list(queryset.filter(ids_filter(field, wanted)).values_list(field, *values))
    span = queryset.filter(**{f"{field}__gte": min(wanted), f"{field}__lte": max(wanted)})
    return [row for row in span.values_list(field, *values).iterator(chunk_size=5000) if row[0] in wanted]


SPAN_PER_ID = 4  # rows read per wanted id at most in `rows_of_ids`


class ProductAdapter:
    """Reads products by attribute name; override any method for another host model.

    The product identifier the API, placements, events and spreadsheets use ("sku" in their shapes) is the
    field named by `sku_field`: a host whose products identify by `upc` or `code` sets that, or overrides
    `sku()` and `get_by_sku()` together (an annotated queryset works too, see the Oscar adapter).
    """

    #: The unique field (or queryset annotation) that identifies a product to the outside world.
    sku_field = "sku"

    def model(self) -> type[models.Model]:
        """The host's product model class."""
        return apps.get_model(product_model_label())

    def queryset(self) -> models.QuerySet[Any]:
        """All products the recommender may consider, with what the methods below need loaded."""
        return self.model()._default_manager.all()

    def sku(self, product: Any) -> str:
        """The product's identifier as the API shows it."""
        return str(getattr(product, self.sku_field))

    def get_by_sku(self, sku: str) -> Any | None:
        """The product with this identifier, or None; every lookup by sku goes through here."""
        return self.queryset().filter(**{self.sku_field: sku}).first()

    def name(self, product: Any) -> str:
        return str(product.name)

    def brand(self, product: Any) -> str:
        return str(getattr(product, "brand", "") or "")

    def url(self, product: Any) -> str:
        get_url = getattr(product, "get_absolute_url", None)
        return str(get_url()) if get_url else ""

    def image_url(self, product: Any) -> str:
        return str(getattr(product, "image_url", "") or "")

    def price(self, product: Any) -> Decimal | None:
        value = getattr(product, "price", None)
        return None if value is None else Decimal(value)

    def currency(self, product: Any) -> str:
        return str(getattr(product, "currency", "USD") or "USD")

    def in_stock(self, product: Any) -> bool:
        return bool(getattr(product, "in_stock", True))

    def is_available(self, product: Any) -> bool:
        """Active and in stock: only these are ever recommended."""
        return bool(getattr(product, "active", True)) and self.in_stock(product)

    def text(self, product: Any) -> str:
        """Text used to suggest tags (name and description)."""
        return " ".join(filter(None, [self.name(product), str(getattr(product, "description", "") or "")]))

    def nutrients(self, product: Any) -> list[NutrientFact]:
        """Supplement facts per serving; none by default."""
        return []

    def for_ids(self, ids: Iterable[int]) -> dict[int, Any]:
        """Products by primary key, loaded in one query."""
        return {p.pk: p for p in self.queryset().filter(pk__in=list(ids))}

    def record(self, product: Any) -> ProductRecord:
        """One product's record, read through the methods above."""
        return ProductRecord(
            id=product.pk,
            sku=self.sku(product),
            brand=self.brand(product),
            available=self.is_available(product),
            nutrients=tuple(self.nutrients(product)),
        )

    def records(self, ids: Iterable[int]) -> dict[int, ProductRecord]:
        """Records of these products (missing ids are left out), for building the scoring snapshot.

        This default loads each product and asks the methods above, so it is right for any adapter. A
        refresh reads every tagged product, so a host with a large catalog overrides it with a few plain
        queries that return the same records (the demo store's adapter shows how).
        """
        found: dict[int, ProductRecord] = {}
        for batch in batched_ids(ids):
            found.update((pk, self.record(p)) for pk, p in self.for_ids(batch).items())
        return found


def get_adapter() -> ProductAdapter:
    """An instance of the configured adapter."""
    adapter: ProductAdapter = adapter_class()()
    return adapter
