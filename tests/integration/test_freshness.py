"""Freshness with real parts: PostgreSQL, Redis and `celery -A shop worker` processes (issue 4)."""

from __future__ import annotations

import csv
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.db import transaction
from rest_framework.test import APIClient

from recommender.dirty import SCHEDULED_KEY, dirty_key, redis_client, refresh_batch
from recommender.models import ContentPage, DirtyMark, PageState, Tag
from recommender.services.pages import page_upsert
from recommender.services.tagging import product_tags_set
from recommender.tasks import drain_dirty, refresh_all_pages
from shop.catalog.models import Product
from shop.celery import app as celery_app
from tests.integration.conftest import (
    RedisServer,
    Worker,
    broker,
    checks,
    clean_full_refresh,
    eager,
    load_demo,
    merchandiser_client,
    page_skus,
    settle,
    stored_lists,
    wait_for,
)

pytestmark = pytest.mark.integration

RLS = "how-to-treat-restless-leg-syndrome"
DROPS = "TM-CTD-8OZ"


def rls_skus() -> list[str]:
    return page_skus(RLS)


def generations() -> dict[int, int]:
    return dict(PageState.objects.values_list("page_id", "generation"))


def test_stock_feed_reaches_the_page_within_seconds(celery_worker_process: Any) -> None:
    load_demo()
    assert DROPS in rls_skus()
    api = merchandiser_client()
    assert api.patch(f"/api/v1/products/{DROPS}/", {"in_stock": False}, format="json").status_code == 200
    wait_for(lambda: DROPS not in rls_skus(), timeout=5)
    assert api.patch(f"/api/v1/products/{DROPS}/", {"in_stock": True}, format="json").status_code == 200
    wait_for(lambda: DROPS in rls_skus(), timeout=5)


def test_import_of_500_rows_refreshes_each_page_at_most_once(celery_worker_process: Any, tmp_path: Path) -> None:
    load_demo()
    before = generations()
    path = tmp_path / "bulk.csv"
    with path.open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["sku", "name", "brand", "nutrients", "tags"])
        for i in range(500):
            writer.writerow([f"BULK-{i:03d}", f"Bulk Magnesium {i}", "Bulk Co", "magnesium=100 mg citrate", ""])
    call_command("import_products", str(path), verbosity=0)
    rls = ContentPage.objects.get(slug=RLS).pk
    wait_for(lambda: generations().get(rls, 0) > before[rls], timeout=30)
    settle(generations)
    after = generations()
    deltas = {page: after[page] - before.get(page, 0) for page in after}
    assert max(deltas.values()) == 1, deltas
    assert deltas[rls] == 1


def test_rolled_back_transaction_announces_nothing(celery_worker_process: Any) -> None:
    load_demo()
    client = redis_client()
    assert client is not None
    client.delete(SCHEDULED_KEY, dirty_key("products"), dirty_key("pages"))
    whey = Product.objects.get(name__startswith="Whey")
    with pytest.raises(RuntimeError), transaction.atomic():
        product_tags_set(product=whey, tags=[(Tag.objects.get(slug="magnesium"), 1.0)])
        raise RuntimeError("rolled back")
    time.sleep(0.5)
    assert not client.exists(SCHEDULED_KEY)
    assert client.scard(dirty_key("products")) == 0
    assert DirtyMark.objects.count() == 0


def test_killed_worker_mid_refresh_is_repaired_after_restart(worker_factory: Callable[..., Worker]) -> None:
    load_demo()
    with eager(), transaction.atomic(), refresh_batch():
        for i in range(300):
            page_upsert(
                url=f"https://blog.example.org/notes-{i}",
                title=f"Notes {i} on magnesium and iron",
                text="Magnesium, iron, potassium and vitamin D are discussed, with supplements and diet. "
                * (1 + i % 5),
            )
    worker = worker_factory(name="doomed", CELERY_VISIBILITY_TIMEOUT="5")
    celery_app.conf.task_always_eager = False
    before = checks()
    refresh_all_pages.delay()
    # Delivered and not yet acknowledged: the refresh is running (a chunk commits all its pages at once).
    broker_client = celery_app.connection_for_write().channel().client
    wait_for(lambda: broker_client.hlen("unacked") > 0, timeout=60, interval=0.02)
    worker.kill()  # kill -9, in the middle of the refresh
    done = sum(t > before.get(p, 0) for p, t in checks().items())
    assert done < len(before), "the refresh finished before the kill; make it longer"
    # A fresh worker: the unacknowledged task comes back after the visibility timeout and runs again.
    worker_factory(name="phoenix", CELERY_VISIBILITY_TIMEOUT="5")
    wait_for(lambda: all(t > before.get(p, 0) for p, t in checks().items()), timeout=120, interval=0.5)
    settle(checks)
    with eager():
        assert stored_lists() == clean_full_refresh()


def test_redis_outage_serves_from_database_and_applies_edits_later(
    worker_factory: Callable[..., Worker], private_redis: RedisServer
) -> None:
    load_demo()
    with broker(private_redis.url):
        worker_factory(private_redis.url, name="outage")
        celery_app.conf.task_always_eager = False
        private_redis.stop()

        anonymous = APIClient()
        assert anonymous.get(f"/learn/{RLS}/").status_code == 200
        response = anonymous.get(f"/api/v1/pages/{RLS}/recommendations/")
        assert response.status_code == 200
        assert response.json()["items"]

        whey = Product.objects.get(name__startswith="Whey")
        tags = [(Tag.objects.get(slug="concentrace"), 1.0), (Tag.objects.get(slug="trace-minerals"), 1.0)]
        product_tags_set(product=whey, tags=tags)  # saved although the broker is away
        assert DirtyMark.objects.exists()
        assert whey.sku not in rls_skus()

        private_redis.start()  # back, empty
        drain_dirty.delay()  # what beat does every 30 s
        wait_for(lambda: whey.sku in rls_skus(), timeout=60, interval=0.5)
        assert not DirtyMark.objects.exists()
