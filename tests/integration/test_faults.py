"""Faults injected into real parts (issue 15): a failing database, a terminated worker, a flushed Redis, a
restarted PostgreSQL. Every test runs `celery -A shop worker` processes on real Redis and PostgreSQL."""

from __future__ import annotations

import signal
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import psycopg
import pytest
from django.conf import settings
from django.db import connection

from recommender.dirty import KINDS, dirty_key, redis_client
from recommender.models import ContentPage, DirtyMark, Tag
from recommender.services.tagging import product_tags_set
from recommender.tasks import refresh_all_pages
from shop.catalog.models import Product
from shop.celery import app as celery_app
from tests.integration.conftest import (
    Worker,
    checks,
    clean_full_refresh,
    eager,
    load_demo,
    page_skus,
    stored_lists,
    wait_for,
)
from tests.integration.conftest import test_database_url as database_url
from tests.integration.task_probe import MODULE as PROBE
from tests.integration.task_probe import probe_events

pytestmark = pytest.mark.integration

RLS = "how-to-treat-restless-leg-syndrome"
DROPS = "TM-CTD-8OZ"
DRAIN = "recommender.tasks.drain_dirty"
CHUNK = "recommender.tasks.refresh_chunk"
FINISHED = "recommender.tasks.refresh_finished"


def worker_name(name: str) -> str:
    """The node name a worker started as `--hostname={name}@%h` has."""
    return f"{name}@{socket.gethostname()}"


def nothing_pending() -> bool:
    """No change waits to be refreshed: the dirty sets are empty and the outbox table too."""
    client = redis_client()
    assert client is not None
    return not any(client.scard(dirty_key(kind)) for kind in KINDS) and not DirtyMark.objects.exists()


def tag_whey_for_rls() -> Product:
    """A merchandiser's change that puts the whey product on the restless-legs page (after a refresh)."""
    whey = Product.objects.get(name__startswith="Whey")
    tags = [(Tag.objects.get(slug="concentrace"), 1.0), (Tag.objects.get(slug="trace-minerals"), 1.0)]
    product_tags_set(product=whey, tags=tags)
    return whey


# ---------------------------------------------------------------- a task failing twice, then succeeding


@contextmanager
def failing_updates(table: str, times: int) -> Iterator[None]:
    """The first `times` UPDATE statements on `table` fail in PostgreSQL itself with a serialization failure
    (SQLSTATE 40001, the transient error a busy database gives); later ones go through."""
    with connection.cursor() as cursor:
        cursor.execute("CREATE SEQUENCE tests_fault_count")
        cursor.execute(
            "CREATE FUNCTION tests_fault() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
            f" IF nextval('tests_fault_count') <= {int(times)} THEN"
            "  RAISE EXCEPTION 'injected fault' USING ERRCODE = 'serialization_failure';"
            " END IF; RETURN NULL; END $$"
        )
        cursor.execute(f"CREATE TRIGGER tests_fault BEFORE UPDATE ON {table} EXECUTE FUNCTION tests_fault()")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TRIGGER IF EXISTS tests_fault ON {table}")
            cursor.execute("DROP FUNCTION IF EXISTS tests_fault()")
            cursor.execute("DROP SEQUENCE IF EXISTS tests_fault_count")


def test_task_failing_twice_then_succeeding_loses_nothing(worker_factory: Callable[..., Worker]) -> None:
    load_demo()
    with failing_updates("recommender_pagestate", times=2):
        worker_factory(name="flaky", include=PROBE)
        celery_app.conf.task_always_eager = False
        whey = tag_whey_for_rls()  # after commit: marked dirty, one drain scheduled
        wait_for(lambda: whey.sku in page_skus(RLS), timeout=30)
        wait_for(lambda: probe_events("success", DRAIN), timeout=10)
    # Three attempts of the one drain: two failed in the database and were retried, the third stored the list.
    assert len(probe_events("attempt", DRAIN)) == 3
    reasons = probe_events("retry", DRAIN)
    assert len(reasons) == 2 and all("OperationalError" in r and "injected fault" in r for r in reasons), reasons
    assert probe_events("success", DRAIN) == probe_events("attempt", DRAIN)[-1:]
    assert nothing_pending()
    with eager():
        assert stored_lists() == clean_full_refresh()


# ---------------------------------------------------------------- a worker's SIGTERM in the middle of a task


@contextmanager
def page_state_locked(page_id: int) -> Iterator[None]:
    """Hold a page's state row from another connection (as a long transaction elsewhere would) in the block."""
    with psycopg.connect(database_url()) as other:
        other.execute("SELECT 1 FROM recommender_pagestate WHERE page_id = %s FOR UPDATE", [page_id])
        try:
            yield
        finally:
            other.rollback()


def waiting_on_a_lock() -> int:
    """Sessions of the test database waiting for a lock now."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return int(cursor.fetchone()[0])


def queued_or_unacked() -> int:
    """Messages in the broker's queue plus those delivered and not yet acknowledged."""
    client = celery_app.connection_for_write().channel().client
    return int(client.llen(settings.CELERY_TASK_DEFAULT_QUEUE) + client.hlen("unacked"))


def test_worker_sigterm_mid_task_finishes_it_and_loses_nothing(worker_factory: Callable[..., Worker]) -> None:
    load_demo()
    rls = ContentPage.objects.get(slug=RLS).pk
    worker = worker_factory(name="terminated", include=PROBE)
    celery_app.conf.task_always_eager = False
    # Out of stock behind the signals' back (a bulk update): only the full refresh can take it off the list.
    Product.objects.filter(sku=DROPS).update(in_stock=False)
    before = checks()
    with page_state_locked(rls):
        refresh_all_pages.delay()
        # The chunk's refresh is in its transaction, waiting for the page's row: the task is mid-way.
        wait_for(waiting_on_a_lock, timeout=30)
        worker.proc.send_signal(signal.SIGTERM)
        time.sleep(2)
        assert worker.proc.poll() is None, "the worker left a running task behind"
    # The lock is gone: the task completes, then the worker exits by itself.
    assert worker.proc.wait(timeout=60) == 0
    assert probe_events("success", CHUNK) == probe_events("attempt", CHUNK) == [worker_name("terminated")]
    # What is left (the chord's last step, if the worker had not taken it) goes to the next worker.
    worker_factory(name="successor", include=PROBE)
    wait_for(lambda: probe_events("success", FINISHED), timeout=60)
    wait_for(lambda: queued_or_unacked() == 0, timeout=30)
    assert len(probe_events("success", FINISHED)) == 1
    assert all(t > before[p] for p, t in checks().items())
    assert DROPS not in page_skus(RLS)
    with eager():
        assert stored_lists() == clean_full_refresh()
