"""Integration fixtures: real `celery -A shop worker` processes on Redis and the test database."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import connection

from shop.celery import app as celery_app
from tests.conftest import require_services

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


class Worker:
    """One worker process; `kill()` is kill -9, `stop()` a warm shutdown."""

    def __init__(self, redis_url: str, name: str, extra_env: dict[str, str] | None = None) -> None:
        ARTIFACTS.mkdir(exist_ok=True)
        env = {**os.environ, "DATABASE_URL": test_database_url(), "REDIS_URL": redis_url, **(extra_env or {})}
        self.log = open(ARTIFACTS / f"celery-{name}.log", "ab")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "shop", "worker", "--pool=solo", "--loglevel=INFO",
             "--without-gossip", "--without-mingle", f"--hostname={name}@%h"],
            cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT,
        )  # fmt: skip

    def wait_ready(self) -> None:
        wait_for(lambda: celery_app.control.ping(timeout=0.5), timeout=60)

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


@pytest.fixture
def worker_factory(transactional_db: None) -> Iterator[Callable[..., Worker]]:
    """Start workers on demand against the test database; every one is stopped afterwards."""
    require_services()
    celery_app.control.purge()
    started: list[Worker] = []

    def start(redis_url: str | None = None, name: str = "test-worker", **env: str) -> Worker:
        worker = Worker(redis_url or settings.REDIS_URL, name, env)
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
