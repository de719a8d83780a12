"""Where the benchmarks run: PostgreSQL and Redis on 127.0.0.1 when they answer, the databases' names, a process's
peak memory, and the machine described in bench/results/latest.json.

Every benchmark database is named `<BENCH_DATABASE_PREFIX>_<part>` (default prefix `mineral_bench`), so two people
benchmarking on one server give different prefixes and never drop each other's data.
"""

from __future__ import annotations

import os
import platform
import resource
import socket
import subprocess
from pathlib import Path
from typing import Any

# Measured as deployed: Django's DEBUG off (with it on, Django keeps every query's SQL and times each cursor call).
# A run may still set DJANGO_DEBUG itself; every part imports this module or runs under bench/run.py.
os.environ.setdefault("DJANGO_DEBUG", "false")

PG_SERVER = os.environ.get("BENCH_PG_SERVER", "postgres://postgres@127.0.0.1:5432")
DATABASE_PREFIX = os.environ.get("BENCH_DATABASE_PREFIX", "mineral_bench")
REDIS_HOST, REDIS_PORT = "127.0.0.1", 6379


def answers(port: int, host: str = "127.0.0.1") -> bool:
    """Whether something accepts a TCP connection on this port."""
    try:
        socket.create_connection((host, port), timeout=1).close()
        return True
    except OSError:
        return False


def postgres_answers() -> bool:
    return answers(5432)


def redis_answers() -> bool:
    return answers(REDIS_PORT, REDIS_HOST)


def database_url(part: str) -> str:
    """The PostgreSQL URL of this benchmark part's own database."""
    return f"{PG_SERVER}/{DATABASE_PREFIX}_{part}"


def _server_connection() -> Any:
    import psycopg

    return psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True, connect_timeout=3)


def fresh_database(part: str) -> str:
    """Drop and create this part's PostgreSQL database; its URL."""
    name = f"{DATABASE_PREFIX}_{part}"
    with _server_connection() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return database_url(part)


def ensure_database(part: str) -> str:
    """Create this part's PostgreSQL database if missing; its URL."""
    name = f"{DATABASE_PREFIX}_{part}"
    with _server_connection() as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
    return database_url(part)


def drop_database(part: str) -> None:
    with _server_connection() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DATABASE_PREFIX}_{part}" WITH (FORCE)')


def peak_rss_mb() -> int:
    """This process's peak resident memory in MB (VmHWM, reset by exec, unlike ru_maxrss, which a child started
    with vfork inherits from its parent)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) // 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024


def postgres_version() -> str | None:
    if not postgres_answers():
        return None
    try:
        with _server_connection() as conn:
            return str(conn.execute("SHOW server_version").fetchone()[0])
    except Exception:  # a server that answers but refuses us: no version to report
        return None


def redis_version() -> str | None:
    if not redis_answers():
        return None
    import redis

    try:
        info: dict[str, Any] = redis.Redis(host=REDIS_HOST, port=REDIS_PORT, socket_timeout=2).info("server")  # type: ignore[assignment]
    except redis.RedisError:
        return None
    return str(info["redis_version"])


def cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines() if Path("/proc/cpuinfo").exists() else []:
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor()


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    return {
        "cores": os.cpu_count(),
        "cpu": cpu_model(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "postgresql": postgres_version(),
        "redis": redis_version(),
        "load_average_at_start": [round(x, 2) for x in load] if load else None,
        "commit": _git_commit(),
    }


def _git_commit() -> str | None:
    try:
        done = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
            cwd=Path(__file__).parent,
        )
    except OSError:
        return None
    return done.stdout.strip() or None
