"""Faults injected into real parts (issue 15): a failing database, a terminated worker, a flushed Redis, a
restarted PostgreSQL. Every test runs `celery -A shop worker` processes on real Redis and PostgreSQL."""

from __future__ import annotations

import contextlib
import json
import secrets
import signal
import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import psycopg
import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import connection, connections
from django.test import Client
from django.utils.translation import get_supported_language_variant
from rest_framework.authtoken.models import Token

from recommender.cachekeys import response_key, version_key
from recommender.conf import recommender_settings
from recommender.dirty import KINDS, dirty_key, redis_client
from recommender.models import ContentPage, DirtyMark, Tag
from recommender.services.tagging import product_tags_set
from recommender.tasks import refresh_all_pages
from shop.catalog.models import Product
from shop.celery import app as celery_app
from tests.integration.conftest import (
    PostgresServer,
    RedisServer,
    WebServer,
    Worker,
    broker,
    checks,
    clean_full_refresh,
    eager,
    load_demo,
    merchandiser,
    merchandiser_client,
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


def waiting_on_a_lock(url: str | None = None) -> int:
    """Sessions of a database (by default the test database) waiting for a lock now."""
    query = "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
    with psycopg.connect(url or database_url(), autocommit=True) as other:
        row = other.execute(query).fetchone()
    return int(row[0]) if row else 0


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


# ---------------------------------------------------------------- shoppers reading while a fault happens


@dataclass(frozen=True)
class Answer:
    """One GET: when it started, how long it took, its status (0: it raised), and a list's skus."""

    path: str
    started: float
    seconds: float
    status: int
    skus: tuple[str, ...] = ()
    error: str = ""


def listed(body: bytes) -> tuple[str, ...]:
    """The skus of a recommendation list's JSON body; nothing for any other body."""
    try:
        data = json.loads(body)
    except ValueError:
        return ()
    return tuple(item["product"]["sku"] for item in data.get("items", [])) if isinstance(data, dict) else ()


class Serving:
    """Shoppers reading pages and lists, one GET after another in a thread, for the length of a `with` block.

    `get(path, n)` makes the n-th request and returns its status and body.
    """

    def __init__(self, get: Callable[[str, int], tuple[int, bytes]], paths: list[str], pause: float = 0.05) -> None:
        self.get, self.paths, self.pause = get, paths, pause
        self.answers: list[Answer] = []
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def __enter__(self) -> Serving:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopping.set()
        self.thread.join(timeout=60)

    def run(self) -> None:
        try:
            n = 0
            while not self.stopping.is_set():
                path = self.paths[n % len(self.paths)]
                started = time.monotonic()
                try:
                    status, body = self.get(path, n)
                    error = ""
                except Exception as exc:  # every failure is an answer the test judges
                    status, body, error = 0, b"", repr(exc)
                self.answers.append(Answer(path, started, time.monotonic() - started, status, listed(body), error))
                n += 1
                time.sleep(self.pause)
        finally:
            connections.close_all()

    def since(self, moment: float, path: str | None = None) -> list[Answer]:
        return [a for a in self.answers if a.started >= moment and path in (None, a.path)]


def client_get(path: str, n: int) -> tuple[int, bytes]:
    """A GET through Django's test client from the n-th of many addresses (the anonymous throttle is per address)."""
    response = Client(REMOTE_ADDR=f"10.15.{n // 250}.{n % 250 + 1}").get(path)
    return response.status_code, response.content


API = f"/api/v1/pages/{RLS}/recommendations/"
PAGE = f"/learn/{RLS}/"


def test_redis_flushed_while_serving_rebuilds_the_cache_and_loses_nothing(
    private_redis: RedisServer, worker_factory: Callable[..., Worker]
) -> None:
    load_demo()
    merchandiser = merchandiser_client()
    with broker(private_redis.url):
        worker_factory(private_redis.url, name="flushed", include=PROBE)
        celery_app.conf.task_always_eager = False
        redis = redis_client()
        with Serving(client_get, [API, PAGE]) as serving:
            wait_for(lambda: len(serving.answers) >= 10 and cache.get(version_key(RLS)), timeout=10)  # cached
            cached_keys = redis.dbsize()
            redis.flushdb()  # cache, broker queue and bindings, dirty sets: all gone
            flushed = time.monotonic()
            # A stock feed's change right after the flush still reaches the stored and the served list.
            response = merchandiser.patch(f"/api/v1/products/{DROPS}/", {"in_stock": False}, format="json")
            assert response.status_code == 200
            wait_for(lambda: DROPS not in page_skus(RLS), timeout=30)
            changed = time.monotonic()
            # A web process may serve a list it confirmed current for up to LOCAL_CACHE_SECONDS (its local tier).
            settled = changed + recommender_settings.LOCAL_CACHE_SECONDS
            wait_for(lambda: len(serving.since(settled)) >= 10, timeout=10)
        assert [a for a in serving.answers if a.status != 200] == []
        answers = serving.since(flushed)
        assert {a.path for a in answers} == {API, PAGE}
        assert all(a.skus for a in answers if a.path == API)  # served, from the database until cached again
        assert DROPS not in serving.since(settled, API)[-1].skus
        language = get_supported_language_variant(settings.LANGUAGE_CODE)  # what LocaleMiddleware leaves on a request
        entry = cache.get(response_key("http://testserver", RLS, recommender_settings.LIMIT, language))
        assert entry is not None and entry[0] == cache.get(version_key(RLS))  # rebuilt: the next read is a hit
        assert nothing_pending()
    with eager():
        assert stored_lists() == clean_full_refresh()
    print(
        f"{len(serving.answers)} answers, {len(answers)} after the flush of {cached_keys} keys;"
        f" the change stored {changed - flushed:.1f} s after the flush"
    )


# ---------------------------------------------------------------- PostgreSQL restarted while serving


def http_get(base: str) -> Callable[[str, int], tuple[int, bytes]]:
    def get(path: str, n: int) -> tuple[int, bytes]:
        try:
            with urllib.request.urlopen(base + path, timeout=10) as response:
                return int(response.status), bytes(response.read())
        except urllib.error.HTTPError as error:
            return int(error.code), bytes(error.read())

    return get


def http_patch(url: str, body: dict[str, object], token: str) -> int:
    headers = {"Authorization": f"Token {token}", "Content-Type": "application/json"}
    request = urllib.request.Request(url, data=json.dumps(body).encode(), headers=headers, method="PATCH")
    with urllib.request.urlopen(request, timeout=10) as response:
        return int(response.status)


def merchandiser_token() -> str:
    return str(Token.objects.create(user=merchandiser("stock-feed")).key)


def test_postgres_restarted_while_serving_recovers_connections(
    private_redis: RedisServer, private_postgres: PostgresServer, worker_factory: Callable[..., Worker]
) -> None:
    load_demo()
    token = merchandiser_token()
    private_postgres.copy_from(database_url())  # the demo, in a PostgreSQL this test may stop
    env = {
        "DATABASE_URL": private_postgres.url, "REDIS_URL": private_redis.url, "DJANGO_DEBUG": "false",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1", "DJANGO_SECURE_SSL_REDIRECT": "false",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
    }  # fmt: skip
    # Two servers: one serving all along, and one whose only process is idle through the restart, its
    # persistent database connection left broken.
    web, idle = WebServer("pg-restart", env), WebServer("pg-restart-idle", env, workers=1)
    try:
        with broker(private_redis.url):
            web.wait_ready()
            idle.wait_ready()
            worker_factory(private_redis.url, name="pg-restart", include=PROBE, DATABASE_URL=env["DATABASE_URL"])
            assert http_get(idle.url)(PAGE, 0)[0] == 200
            with Serving(http_get(web.url), [API, PAGE], pause=0.1) as serving:
                wait_for(lambda: len(serving.answers) >= 10, timeout=30)
                with contextlib.suppress(psycopg.OperationalError), psycopg.connect(private_postgres.url) as other:
                    # The outbox is locked elsewhere, so the drain of the next change stops in the middle: it has
                    # taken the change from Redis and waits for the database when the restart comes.
                    other.execute("LOCK TABLE recommender_dirtymark IN ACCESS EXCLUSIVE MODE")
                    assert http_patch(f"{web.url}/api/v1/products/{DROPS}/", {"in_stock": False}, token) == 200
                    wait_for(lambda: waiting_on_a_lock(private_postgres.url), timeout=30)
                    down = time.monotonic()
                    private_postgres.stop()  # a fast shutdown: every session is terminated
                time.sleep(2)
                private_postgres.start()
                up = time.monotonic()
                idle_after = [http_get(idle.url)(PAGE, n)[0] for n in range(3)]
                # The drain retries and applies the change; the served list shows it.
                wait_for(lambda: any(DROPS not in a.skus for a in serving.since(up, API) if a.skus), timeout=60)
                wait_for(lambda: len(serving.since(up)) >= 20, timeout=30)
            retries, successes = probe_events("retry", DRAIN), probe_events("success", DRAIN)
    finally:
        web.stop()
        idle.stop()
    before = [a for a in serving.answers if a.started < down]
    during = [a for a in serving.answers if down <= a.started < up]
    after = serving.since(up)
    assert before and all(a.status == 200 for a in before)
    assert all(a.status in (200, 500) and a.seconds < 5 for a in during), during  # failed cleanly, never hung
    assert all(a.status == 200 for a in after), [a for a in after if a.status != 200]
    assert idle_after == [200, 200, 200]  # its broken connection was noticed and replaced, not used
    # The drain was cut off by the restart and retried until the database was back; nothing was lost.
    assert retries and all("OperationalError" in r for r in retries), retries
    assert len(successes) == 1
    print(
        f"before {len(before)} ok; during {len(during)}: {sum(a.status == 200 for a in during)} ok,"
        f" {sum(a.status == 500 for a in during)} 500, slowest {max(a.seconds for a in during):.2f} s;"
        f" after {len(after)} ok; idle server {idle_after}; drain retries {len(retries)}"
    )
