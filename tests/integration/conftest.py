"""Integration fixtures: real `celery -A shop worker` processes on Redis and the test database; private Redis,
PostgreSQL and gunicorn servers a fault test may stop; the helpers the tests share."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from importlib import import_module
from pathlib import Path
from typing import Any

import pytest
from django.apps import apps as django_apps
from django.conf import settings
from django.contrib.auth.models import Group, User
from django.core.management import call_command
from django.db import connection
from django.test import override_settings
from rest_framework.test import APIClient

from recommender.models import ContentPage, PageState, Recommendation
from recommender.services.engine_build import engine_build
from recommender.services.refresh import page_compute
from shop.catalog.models import Product
from shop.celery import app as celery_app
from tests.conftest import IN_CI, require_services

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"


def test_database_url() -> str:
    """The URL of the database pytest-django created, for the worker process."""
    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def wait_for(check: Callable[[], Any], *, timeout: float = 30.0, interval: float = 0.1) -> Any:
    """Poll until `check()` is truthy; fail with a clear message after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(interval)
    pytest.fail(f"condition not met within {timeout} s")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def eager() -> Iterator[None]:
    """Run tasks in this process for set-up steps, then hand them back to the worker."""
    celery_app.conf.task_always_eager = True
    try:
        yield
    finally:
        celery_app.conf.task_always_eager = False


def load_demo() -> None:
    with eager():
        call_command("load_demo", verbosity=0)
        call_command("refresh_recommendations", verbosity=0)


def checks() -> dict[int, float]:
    """When each page's list was last refreshed, changed or not (an unchanged list is not rewritten)."""
    return {pk: at.timestamp() if at else 0.0 for pk, at in PageState.objects.values_list("page_id", "checked_at")}


def merchandiser(username: str) -> User:
    """A user in the merchandiser group. The groups come from data migrations and a transactional test's flush
    empties them, so they are made again first."""
    import_module("recommender.migrations.0006_role_permissions").assign_roles(django_apps)
    import_module("shop.catalog.migrations.0003_merchandiser_facts").assign_grants(django_apps)
    user = User.objects.create_user(username, password="feed-pass-123")
    user.groups.add(Group.objects.get(name="merchandiser"))
    return user


def merchandiser_client(username: str = "feed") -> APIClient:
    client = APIClient()
    client.force_authenticate(merchandiser(username))
    return client


def page_skus(slug: str) -> list[str]:
    """The skus of a page's stored list, in rank order."""
    ids = list(Recommendation.objects.filter(page__slug=slug).order_by("rank").values_list("product_id", flat=True))
    skus = dict(Product.objects.filter(pk__in=ids).values_list("pk", "sku"))
    return [skus[i] for i in ids]


def stored_lists() -> dict[int, list[tuple[int, int]]]:
    lists: dict[int, list[tuple[int, int]]] = {}
    for page_id, product_id, rank in Recommendation.objects.order_by("page_id", "rank").values_list(
        "page_id", "product_id", "rank"
    ):
        lists.setdefault(page_id, []).append((product_id, rank))
    return lists


def clean_full_refresh() -> dict[int, list[tuple[int, int]]]:
    """What every page's list should be now, computed in this process without storing anything."""
    engine = engine_build()
    lists = {}
    for page in ContentPage.objects.all():
        items = page_compute(page=page, engine=engine)
        if items:
            lists[page.pk] = [(i.product_id, i.rank) for i in items]
    return lists


def settle(check: Callable[[], Any], quiet: float = 3.0, timeout: float = 60.0) -> None:
    """Wait until `check()` returns the same value for `quiet` seconds (the worker has gone idle)."""
    deadline = time.monotonic() + timeout
    last, since = check(), time.monotonic()
    while time.monotonic() < deadline:
        time.sleep(0.25)
        now = check()
        if now != last:
            last, since = now, time.monotonic()
        elif time.monotonic() - since >= quiet:
            return
    pytest.fail("the worker did not go idle")


@contextmanager
def broker(url: str) -> Iterator[None]:
    """Point this process's cache and Celery producer at another Redis for the length of a test.

    The key prefix stays the workers', so a list a worker refreshes is invalidated in what this process cached.
    """
    caches = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": url,
            "KEY_PREFIX": settings.CACHES["default"].get("KEY_PREFIX", ""),
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 1, "SOCKET_TIMEOUT": 1, "IGNORE_EXCEPTIONS": True},
        }
    }
    old = celery_app.conf.broker_url
    with override_settings(CACHES=caches, REDIS_URL=url):
        celery_app.conf.broker_url = url
        celery_app._pool = None
        celery_app.amqp._producer_pool = None
        try:
            yield
        finally:
            celery_app.conf.broker_url = old
            celery_app._pool = None
            celery_app.amqp._producer_pool = None


def terminate(proc: subprocess.Popen[bytes]) -> None:
    """Stop a process the tests started: SIGTERM, then SIGKILL if it has not exited within 15 s."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


class Worker:
    """One worker process; `kill()` is kill -9, `stop()` a warm shutdown.

    `include` names extra modules the worker imports at start (`celery worker --include`), such as a test's probe.
    `pool="prefork"` runs tasks in one child process instead of the worker's own (`--pool=solo`), as production
    does: only a prefork child is bounded by `CELERY_MAX_TASKS_PER_CHILD` and `CELERY_MAX_MEMORY_PER_CHILD_KB`.
    """

    def __init__(
        self, redis_url: str, name: str, extra_env: dict[str, str] | None = None, include: str = "", pool: str = "solo"
    ) -> None:
        ARTIFACTS.mkdir(exist_ok=True)
        env = {**os.environ, "DATABASE_URL": test_database_url(), "REDIS_URL": redis_url, **(extra_env or {})}
        self.log = open(ARTIFACTS / f"celery-{name}.log", "ab")  # noqa: SIM115 - closed in stop()
        command = [sys.executable, "-m", "celery", "-A", "shop", "worker", f"--pool={pool}", "--loglevel=INFO",
                   "--without-gossip", "--without-mingle", f"--hostname={name}@%h"]  # fmt: skip
        if pool == "prefork":
            command.append("--concurrency=1")
        if include:
            command.append(f"--include={include}")
        self.proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT)

    def wait_ready(self) -> None:
        wait_for(lambda: celery_app.control.ping(timeout=0.5), timeout=60)

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait()

    def stop(self) -> None:
        terminate(self.proc)
        self.log.close()


@pytest.fixture
def worker_factory(transactional_db: None) -> Iterator[Callable[..., Worker]]:
    """Start workers on demand against the test database; every one is stopped afterwards."""
    require_services()
    celery_app.control.purge()
    started: list[Worker] = []

    def start(
        redis_url: str | None = None, name: str = "test-worker", include: str = "", pool: str = "solo", **env: str
    ) -> Worker:
        worker = Worker(redis_url or settings.REDIS_URL, name, env, include, pool)
        started.append(worker)
        worker.wait_ready()
        return worker

    try:
        yield start
    finally:
        celery_app.conf.task_always_eager = True
        for worker in started:
            worker.stop()


@pytest.fixture
def celery_worker_process(worker_factory: Callable[..., Worker]) -> Iterator[subprocess.Popen[bytes]]:
    """One real worker; tasks from this process go to it (not eager) during the test."""
    worker = worker_factory()
    celery_app.conf.task_always_eager = False
    yield worker.proc


class RedisServer:
    """A private redis-server on a free port, so a test can stop and restart it."""

    def __init__(self) -> None:
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.fail("redis-server is not installed")
        self.proc = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        wait_for(self.answers, timeout=10)

    def answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as s:
                s.sendall(b"PING\r\n")
                return s.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)


@pytest.fixture
def private_redis() -> Iterator[RedisServer]:
    require_services()
    server = RedisServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()


class PostgresServer:
    """A private PostgreSQL cluster in a temporary directory on a free port, so a test can stop and restart it.

    initdb and pg_ctl refuse to run as root; as root they run as the `postgres` user.
    """

    def __init__(self) -> None:
        self.port = free_port()
        self.bin = postgres_bin()
        self.dir = Path(tempfile.mkdtemp(prefix="faults-pg-"))
        self.data = self.dir / "data"

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/postgres"

    def run(self, program: str, *args: str) -> None:
        command = [str(self.bin / program), *args]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=60)

    def init(self) -> None:
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres", "postgres")
        self.run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync")

    def start(self) -> None:
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off"
        self.run("pg_ctl", "-D", str(self.data), "-l", str(self.dir / "log"), "-o", options, "-w", "start")

    def stop(self) -> None:
        """A fast shutdown, as a restart does: every backend is terminated, open transactions roll back."""
        self.run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def copy_from(self, source_url: str) -> None:
        """Load a dump of another database (schema and rows) into this cluster's `postgres` database."""
        dump = subprocess.run(
            [str(self.bin / "pg_dump"), "--no-owner", "--no-privileges", f"--dbname={source_url}"],
            check=True, capture_output=True, timeout=60,
        )  # fmt: skip
        subprocess.run(
            [str(self.bin / "psql"), "-q", "-v", "ON_ERROR_STOP=1", f"--dbname={self.url}"],
            input=dump.stdout, check=True, capture_output=True, timeout=60,
        )  # fmt: skip

    def remove(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


def postgres_bin() -> Path:
    """The newest installed PostgreSQL's programs (Debian keeps them under /usr/lib/postgresql/<version>/bin)."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parent.parent.name))
    return found[-1].parent if found else Path("/nonexistent")


@pytest.fixture
def private_postgres() -> Iterator[PostgresServer]:
    """A PostgreSQL of this test's own; skipped locally (failed under CI=true) when one cannot be started."""
    require_services()
    problem = ""
    if not (postgres_bin() / "pg_ctl").exists():
        problem = "no PostgreSQL server programs under /usr/lib/postgresql"
    elif os.geteuid() == 0 and shutil.which("runuser") is None:
        problem = "running as root without runuser"
    if problem:
        if IN_CI:
            pytest.fail(f"cannot start a private PostgreSQL: {problem}")
        pytest.skip(f"cannot start a private PostgreSQL: {problem}")
    server = PostgresServer()
    try:
        server.init()
        server.start()
        yield server
    finally:
        server.remove()


class WebServer:
    """The shop under gunicorn (one process, sync workers), as production serves it, on a free port."""

    def __init__(self, name: str, env: dict[str, str], workers: int = 2) -> None:
        ARTIFACTS.mkdir(exist_ok=True)
        self.port = free_port()
        self.log = open(ARTIFACTS / f"gunicorn-{name}.log", "ab")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "shop.wsgi:application", f"--bind=127.0.0.1:{self.port}",
             f"--workers={workers}", "--timeout=30", "--access-logfile=-"],
            cwd=ROOT, env={**os.environ, **env}, stdout=self.log, stderr=subprocess.STDOUT,
        )  # fmt: skip

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def wait_ready(self) -> None:
        def answers() -> bool:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return True
            except OSError:
                return False

        wait_for(answers, timeout=30)

    def stop(self) -> None:
        terminate(self.proc)
        self.log.close()
