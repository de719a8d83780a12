"""Scale-out benchmark: the same full refresh through Celery with one worker process, then with two.

    python bench/workers.py     # prints one JSON line (run by bench/run.py in its own process)
    python bench/workers.py --keep-database    # leaves the refreshed store for bench/freshness.py

The synthetic store of the refresh benchmark's size (bench/store.py, BENCH_REFRESH_SCALE) is seeded into its own
PostgreSQL database (`<BENCH_DATABASE_PREFIX>_workers`); Redis DB 9 (BENCH_WORKERS_REDIS_URL) is the broker, the
cache and the chord's result backend. REFRESH_CHUNK is scaled with the store, so the fan-out has the ten chunks it
has at the default size. Before each run the stored lists and their fingerprints are cleared, so every run writes
every list; then `celery -A shop worker --concurrency=N` starts, its pool processes build their start-up engines (not
part of the refresh: the run waits for their log records), `refresh_all_pages` is enqueued, and the clock runs
until the chord's end (`refresh_finished` logging "full refresh finished"). Each chunk's own timings come from its
`recommendations_refreshed` log record (bench/workers_settings.py writes the plugin's records as JSON lines).
Needs PostgreSQL and Redis; every worker started here is stopped, also on failure.
"""

from __future__ import annotations

import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import environment  # noqa: E402
from bench.store import DEFAULT, Size, bench_scale  # noqa: E402

REDIS_URL = os.environ.get("BENCH_WORKERS_REDIS_URL", "redis://127.0.0.1:6379/9")
# Runs in A-B-B-A order over rounds (one round: 1 then 2 processes), so drift in a shared machine's load falls on
# both sides alike; the speedup is the ratio of the summed times.
ROUNDS = int(os.environ.get("BENCH_WORKERS_ROUNDS", "2"))
RUN_TIMEOUT_S = float(os.environ.get("BENCH_WORKERS_TIMEOUT", "900"))
LISTS = ("recommender_pagestate", "recommender_relatedstate", "recommender_recommendation")


def setup(log: Path, scale: float) -> int:
    """This process as the enqueuing side, and the workers' environment (database, broker, settings); the pages per
    chunk, scaled with the store, so a smaller store fans out into as many chunks as the default size does with the
    default REFRESH_CHUNK (10 chunks of 500 pages and 2,000 products)."""
    os.environ.update(
        DATABASE_URL=environment.fresh_database("workers"),
        REDIS_URL=REDIS_URL,
        DJANGO_SETTINGS_MODULE="bench.workers_settings",
        BENCH_WORKERS_LOG=str(log),
    )
    import django

    django.setup()
    from recommender.conf import DEFAULTS

    chunk = max(1, round(DEFAULTS["REFRESH_CHUNK"] * scale))
    os.environ["BENCH_REFRESH_CHUNK"] = str(chunk)  # read by the workers' settings
    return chunk


def seed_store(size: Size) -> None:
    """Migrate and seed the synthetic store (writes with tasks in-process: no broker traffic while seeding)."""
    from django.core.management import call_command

    from bench.store import seed
    from shop.celery import app

    app.conf.task_always_eager = True
    try:
        call_command("migrate", verbosity=0)
        seed(size)
    finally:
        app.conf.task_always_eager = False


def clear_lists() -> None:
    """Every stored list and fingerprint gone, and the benchmark's Redis DB emptied: the same start for each run."""
    import redis
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {', '.join(LISTS)}")
    redis.Redis.from_url(REDIS_URL).flushdb()  # this benchmark's own DB only


def stored_counts() -> dict[str, int]:
    from django.db import connection

    with connection.cursor() as cursor:
        counts = {}
        for table in LISTS:
            cursor.execute(f"SELECT count(*) FROM {table}")  # table names are constants
            counts[table.removeprefix("recommender_")] = int(cursor.fetchone()[0])
    return counts


def start_worker(concurrency: int, stderr: Path) -> subprocess.Popen[bytes]:
    args = [sys.executable, "-m", "celery", "-A", "shop", "worker", f"--concurrency={concurrency}",
            "--pool=prefork", "--loglevel=WARNING", "--without-gossip", "--without-mingle", "--without-heartbeat",
            f"--hostname=benchw{concurrency}@%h"]  # fmt: skip
    with stderr.open("ab") as err:
        return subprocess.Popen(args, cwd=ROOT, env=os.environ.copy(), stdout=err, stderr=err)


def wait_ready(worker: subprocess.Popen[bytes]) -> None:
    from shop.celery import app

    deadline = time.monotonic() + 90
    while not app.control.ping(timeout=0.5):
        if worker.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"the worker did not start (exit status {worker.poll()})")


def wait_warmed(log: Path, since: int, processes: int) -> None:
    """Until each pool process has built its start-up engine (`snapshot.keep_and_warm`) or given up: that is
    the worker starting, not the refresh being measured."""
    deadline = time.monotonic() + 120
    warmed = {"engine_warmed", "engine_warm_failed"}
    while sum(r.get("event") in warmed for r in records(log)[since:]) < processes:
        if time.monotonic() > deadline:
            raise RuntimeError("the worker's pool processes did not build their engines within 120 s")
        time.sleep(0.05)


def stop(worker: subprocess.Popen[bytes]) -> None:
    """Warm shutdown, then a kill if a task keeps it past 30 s (with its pool processes: a worker killed with -9
    leaves them behind)."""
    if worker.poll() is None:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            pool = pool_pids(worker)
            worker.kill()
            worker.wait()
            for pid in pool:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    continue


def pool_pids(worker: subprocess.Popen[bytes]) -> list[int]:
    path = Path(f"/proc/{worker.pid}/task/{worker.pid}/children")
    return [int(pid) for pid in path.read_text().split()] if path.exists() else []


def backend_pids() -> list[int]:
    """The PostgreSQL server processes serving this database, other than this process's own."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return [int(row[0]) for row in cursor.fetchall()]


def cpu_seconds(pids: list[int]) -> dict[int, float]:
    """User + system CPU seconds each process has used so far (a process already gone is left out)."""
    tick = os.sysconf("SC_CLK_TCK")
    used = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        used[pid] = (int(fields[11]) + int(fields[12])) / tick  # utime and stime, fields 14 and 15 of stat
    return used


def cpu_used(before: dict[int, float], after: dict[int, float]) -> float:
    return round(sum(cpu - before.get(pid, 0.0) for pid, cpu in after.items()), 1)


def children_peak_rss_mb(worker: subprocess.Popen[bytes]) -> list[int]:
    """Peak resident memory (VmHWM) of the worker's pool processes now."""
    peaks = []
    for pid in pool_pids(worker):
        status = Path(f"/proc/{pid}/status")
        try:
            peaks += [int(line.split()[1]) // 1024 for line in status.read_text().splitlines() if "VmHWM" in line]
        except OSError:
            continue
    return peaks


def records(log: Path) -> list[dict[str, Any]]:
    lines = log.read_text().splitlines() if log.exists() else []
    return [json.loads(line) for line in lines if line.startswith("{")]


def wait_for_chord_end(log: Path, since: int, every_second: Callable[[], None]) -> dict[str, Any] | None:
    """The "full refresh finished" record written after line `since` of the log (polled every 50 ms); None when
    it has not come within RUN_TIMEOUT_S."""
    deadline = time.monotonic() + RUN_TIMEOUT_S
    next_second = time.monotonic()
    while time.monotonic() < deadline:
        if time.monotonic() >= next_second:
            every_second()
            next_second += 1.0
        for record in records(log)[since:]:
            if record["message"].startswith("full refresh finished"):
                return record
            if record["level"] in {"ERROR", "CRITICAL"}:
                raise RuntimeError(f"a task failed: {record['message']}")
        time.sleep(0.05)
    return None


def seconds_of(record: dict[str, Any]) -> float:
    return datetime.fromisoformat(record["time"]).timestamp()


def chunk_timings(chunk_records: list[dict[str, Any]], started: float) -> list[dict[str, Any]]:
    """Each chunk as its log record tells it: when it ended (seconds after enqueue), what it did, and how long."""
    keys = ("pages", "products", "engine_s", "pages_compute_s", "related_compute_s", "total_s")
    return [
        {"pid": r.get("pid"), "ended_s": round(seconds_of(r) - started, 2), **{k: r.get(k) for k in keys}}
        for r in chunk_records
    ]


def run_once(concurrency: int, log: Path, stderr: Path) -> dict[str, Any]:
    """One full refresh through a worker with this many processes, from enqueue to the chord's end."""
    from recommender.tasks import refresh_all_pages

    clear_lists()
    stderr_from = stderr.stat().st_size if stderr.exists() else 0
    before = len(records(log))
    worker = start_worker(concurrency, stderr)
    try:
        wait_ready(worker)
        wait_warmed(log, before, concurrency)
        since, load = len(records(log)), os.getloadavg()[0]
        pool_before, db_before = cpu_seconds(pool_pids(worker)), cpu_seconds(backend_pids())
        pool_now, db_now = dict(pool_before), dict(db_before)

        def sample() -> None:  # backends come and go with connections: their last reading before they go counts
            pool_now.update(cpu_seconds(pool_pids(worker)))
            db_now.update(cpu_seconds(backend_pids()))

        started = time.time()
        refresh_all_pages.delay()
        end = wait_for_chord_end(log, since, sample)
        seconds = (seconds_of(end) if end else time.time()) - started
        sample()
        pool_cpu, db_cpu = cpu_used(pool_before, pool_now), cpu_used(db_before, db_now)
        peaks = children_peak_rss_mb(worker)
    finally:
        stop(worker)
    chunks = [r for r in records(log)[since:] if r.get("event") == "recommendations_refreshed" and not r.get("full")]
    busy = sum(float(c["total_s"]) for c in chunks)
    with stderr.open(errors="replace") as err:
        err.seek(stderr_from)
        worker_log = err.read()
    return {
        "concurrency": concurrency,
        "finished": end is not None,  # else `seconds` is how long it was given
        "seconds": round(seconds, 2),
        "chunks": len(chunks),
        "chunk_busy_s": round(busy, 2),
        "chunk_engine_s": round(sum(float(c.get("engine_s", 0)) for c in chunks), 2),
        "chunk_median_s": round(statistics.median(float(c["total_s"]) for c in chunks), 2) if chunks else None,
        # CPU the run got: the worker's pool processes and the PostgreSQL backends serving them, and the cores
        # that adds up to over the run's wall time (2 is all of this machine); the load average as it began.
        "worker_cpu_s": pool_cpu,
        "postgres_cpu_s": db_cpu,
        "cores_used": round((pool_cpu + db_cpu) / seconds, 2),
        "load_average_at_start": round(load, 2),
        # Chunks that ran into CELERY_TASK_SOFT_TIME_LIMIT / TIME_LIMIT (the worker warns of each).
        "soft_time_limits_hit": worker_log.count("Soft time limit"),
        "hard_time_limits_hit": worker_log.count("Hard time limit"),
        "worker_peak_rss_mb": peaks,
        "stored": stored_counts(),
        "chunk_timings": chunk_timings(chunks, started),
    }


def main(*, keep_database: bool = False) -> dict[str, Any]:
    """Both runs; with `keep_database` the store is left, fully refreshed, for the freshness benchmark."""
    if not (environment.postgres_answers() and environment.redis_answers()):
        return {"skipped": "the scale-out benchmark needs PostgreSQL and Redis on 127.0.0.1"}
    scale = bench_scale()
    size = DEFAULT.scaled(scale)
    workdir = Path(tempfile.mkdtemp(prefix="bench-workers-"))
    log, stderr = workdir / "refresh.jsonl", workdir / "worker.log"
    try:
        chunk = setup(log, scale)
        seed_store(size)
        order = [n for i in range(ROUNDS) for n in ((1, 2) if i % 2 == 0 else (2, 1))]
        runs = [run_once(n, log, stderr) for n in order]
        one = sum(r["seconds"] for r in runs if r["concurrency"] == 1)
        two = sum(r["seconds"] for r in runs if r["concurrency"] == 2)
        finished = all(r["finished"] for r in runs)
        return {
            "pages": size.pages,
            "products": size.products,
            "database": "postgresql",
            "refresh_chunk": chunk,
            "workers_speedup": round(one / two, 2) if finished else None,
            "seconds_1": round(one / ROUNDS, 2),
            "seconds_2": round(two / ROUNDS, 2),
            "same_writes": all(r["stored"] == runs[0]["stored"] for r in runs),
            "runs": runs,
        }
    except Exception as error:
        tail = stderr.read_text()[-2000:] if stderr.exists() else ""
        raise RuntimeError(f"{error}\nworker stderr:\n{tail}") from error
    finally:
        if not keep_database:
            environment.drop_database("workers")
        for path in (log, stderr):
            path.unlink(missing_ok=True)
        workdir.rmdir()


if __name__ == "__main__":
    print(json.dumps(main(keep_database="--keep-database" in sys.argv[1:])))
