"""Lists written with PostgreSQL's COPY read back exactly as `bulk_create` would have stored them."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.utils import timezone

from recommender.models import ContentPage, Recommendation, RelatedState
from recommender.services.bulk import rows_insert, rows_upsert
from shop.catalog.models import Product
from tests.conftest import require_services

pytestmark = pytest.mark.integration

AWKWARD = {"label": 'Tab\tnew\nline, "quotes", back\\slash, ñ, 日本, \u2028 and a NUL-free end', "n": [1.5, None]}


@pytest.mark.django_db
def test_copy_round_trip_matches_bulk_create() -> None:
    require_services()
    assert connection.vendor == "postgresql"
    call_command("load_demo", verbosity=0)
    page = ContentPage.objects.first()
    first, second = Product.objects.order_by("pk")[:2]
    now = timezone.now()

    def row(product: Product, rank: int) -> Recommendation:
        return Recommendation(
            page=page, product=product, rank=rank, score=0.5, reasons=[AWKWARD], cautions=[],
            link_params={"utm_campaign": "x&y=z"}, generation=3, computed_at=now,
        )  # fmt: skip

    Recommendation.objects.filter(page=page).delete()
    copied_row = row(first, 1)
    fields = [f.attname for f in Recommendation._meta.concrete_fields if f.attname != "id"]
    assert rows_insert(Recommendation, fields, [[getattr(copied_row, name) for name in fields]]) == 1
    Recommendation.objects.bulk_create([row(second, 2)])
    copied, created = Recommendation.objects.filter(page=page).order_by("rank")
    for field in ("score", "reasons", "cautions", "link_params", "generation", "computed_at"):
        assert getattr(copied, field) == getattr(created, field), field
    assert copied.pk and copied.reasons == [AWKWARD]
    assert rows_insert(Recommendation, fields, []) == 0


@pytest.mark.django_db
def test_upsert_inserts_new_rows_and_updates_stored_ones_in_one_pass() -> None:
    require_services()
    call_command("load_demo", verbosity=0)
    first, second, third = Product.objects.order_by("pk")[:3]
    RelatedState.objects.filter(product__in=[first, second, third]).delete()
    RelatedState.objects.create(product=first, list_hash="old", products=[{"id": 1}], related_ids=[1])
    now = timezone.now()
    fields = ["list_hash", "computed_at", "related_ids", "products", "last_score"]
    item = {"id": second.pk, "score": 0.25, "reasons": [AWKWARD], "cautions": []}
    rows = [(first.pk, "new", now, [second.pk], [item], None), (third.pk, "made", now, [], [], 0.5)]
    assert rows_upsert(RelatedState, "product_id", fields, rows) == 2
    assert rows_upsert(RelatedState, "product_id", fields, []) == 0
    updated, made = RelatedState.objects.get(product=first), RelatedState.objects.get(product=third)
    assert (updated.list_hash, updated.computed_at, updated.related_ids) == ("new", now, [second.pk])
    assert updated.products == [item] and updated.articles == []
    assert (made.list_hash, made.last_score, made.products) == ("made", 0.5, [])
    # Twice in one transaction (the staging table is dropped after each).
    with transaction.atomic():
        rows_upsert(RelatedState, "product_id", ["list_hash"], [(first.pk, "a")])
        rows_upsert(RelatedState, "product_id", ["list_hash"], [(first.pk, "b")])
    assert RelatedState.objects.get(product=first).list_hash == "b"
    # A new row given only some fields gets the model's defaults for the rest; a stored one keeps them.
    RelatedState.objects.filter(product=third).delete()
    rows_upsert(RelatedState, "product_id", ["list_hash"], [(first.pk, "c"), (third.pk, "d")])
    kept, new = RelatedState.objects.get(product=first), RelatedState.objects.get(product=third)
    assert (kept.list_hash, kept.products, new.list_hash, new.products, new.computed_at) == ("c", [item], "d", [], None)


@pytest.mark.django_db
def test_update_from_values_sets_each_row() -> None:
    require_services()
    from recommender.models import PageState
    from recommender.services.bulk import rows_update

    call_command("load_demo", verbosity=0)
    pages = list(ContentPage.objects.order_by("pk")[:3])
    PageState.objects.bulk_create([PageState(page=p) for p in pages], ignore_conflicts=True)
    now = timezone.now()
    rows = [(p.pk, n + 5, now, f"hash-{n}", now) for n, p in enumerate(pages)]
    assert rows_update(PageState, "page_id", ["generation", "computed_at", "list_hash", "checked_at"], rows) == 3
    stored = {s.page_id: s for s in PageState.objects.filter(page__in=pages)}
    for n, p in enumerate(pages):
        assert (stored[p.pk].generation, stored[p.pk].list_hash, stored[p.pk].computed_at) == (n + 5, f"hash-{n}", now)


@pytest.mark.django_db(transaction=True)
def test_list_writes_compress_with_lz4_where_the_server_can() -> None:
    require_services()
    from recommender.services.bulk import has_lz4, light_compression

    with connection.cursor() as cursor:
        cursor.execute("SELECT enumvals FROM pg_settings WHERE name = 'default_toast_compression'")
        methods = cursor.fetchone()[0]
        cursor.execute("SHOW default_toast_compression")
        before = cursor.fetchone()[0]
        with transaction.atomic():
            light_compression(RelatedState)
            cursor.execute("SHOW default_toast_compression")
            inside = cursor.fetchone()[0]
        cursor.execute("SHOW default_toast_compression")
        after = cursor.fetchone()[0]
    assert has_lz4(connection) == ("lz4" in methods)
    assert inside == ("lz4" if "lz4" in methods else before)
    assert after == before  # SET LOCAL: the session's own setting is back after the write


@pytest.mark.django_db
def test_related_lists_text_is_compressed_with_lz4() -> None:
    """Migration 0013: a product's lists (kilobytes of JSON text) are compressed with lz4, which costs the server a
    quarter of the CPU of its default, pglz, on a full refresh's writes."""
    require_services()
    with connection.cursor() as cursor:
        cursor.execute("SELECT enumvals FROM pg_settings WHERE name = 'default_toast_compression'")
        row = cursor.fetchone()
    if row is None or "lz4" not in row[0]:
        pytest.skip("this PostgreSQL cannot compress with lz4 (before 14, or built without it)")
    call_command("load_demo", verbosity=0)
    product = Product.objects.order_by("pk").first()
    assert product is not None
    items = [{"id": n, "score": 0.5, "reasons": [AWKWARD], "cautions": []} for n in range(40)]  # about 6 KB
    fields = ["list_hash", "computed_at", "related_ids", "products", "last_score"]
    rows_upsert(RelatedState, "product_id", fields, [(product.pk, "big", timezone.now(), [], items, 0.5)])
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_column_compression(products) FROM recommender_relatedstate WHERE product_id = %s", [product.pk]
        )
        assert cursor.fetchone() == ("lz4",)
    assert RelatedState.objects.get(product=product).products == items  # and reads back as it was written
