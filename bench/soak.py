"""Soak (`make soak`): the real stack on loopback, held at about 70% of its measured maximum request rate.

PostgreSQL (its own database, `mineral_soak`, created fresh), Redis (its own DB, 7, emptied at start and end),
gunicorn serving the shop, a `celery -A shop worker` and `celery -A shop beat`. Steps:

1. seed: migrate, load_demo, a synthetic store (bench/store.py, 500 pages x 2,000 products), a stock-feed user
   with a token, and a first full refresh;
2. measure the maximum rate of a request mix with wrk for MAX_SECONDS: 80% the cached page list API over every
   page, 10% article pages, 10% product pages, under the soak's background work (the feed running, a full
   refresh sent at the start), since the worker shares the machine's cores with the web workers;
3. soak for SOAK_SECONDS at SOAK_SHARE of that rate while a stock feed PATCHes one product's stock and price
   every second through the API (token auth, so the receivers and the debounced drain run as in production)
   and a full refresh (`recommender.tasks.refresh_all_pages`) is sent to the worker at the start of every minute;
   a warm-up minute of the same load comes first (minute 0), so that the first minute compared is not the
   stack's cold start (the slowest minute of every trial run without it).

The rate is held by wrk itself: a Lua `delay()` hands out send times on a fixed schedule read from the
monotonic clock (LuaJIT's FFI), so requests leave at the target rate however fast answers come, within the
connections' reserve. wrk runs once per minute, so every minute has its own requests, errors and
percentiles; a sampler records, each second, the worker's memory (VmRSS of it and its pool children), the
backlog (the task queue, unacknowledged tasks, dirty ids waiting in Redis and the DirtyMark outbox) and the
machine's load average, so that a minute disturbed by other work on a shared machine shows it.

Checks: no error (HTTP status, socket, feed, worker log; the warm-up included); the rate held in every minute;
the last minute's p99 within P99_GROWTH times the first minute's; the worker's peak memory in the last minute
within MEMORY_GROWTH of the first minute's; the backlog not growing (the lowest queue of the last minute at most
two tasks above the first minute's, the outbox not above it); every full refresh finished, all but the last
while the load ran. Prints a table, writes bench/results/soak.json, exits 1 if a check fails. Every process it
starts is stopped, also on failure; a second soak started meanwhile refuses to run (they would share a database
and a Redis DB).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.serve import RLS, free_port, wait_until_up  # noqa: E402
from bench.soak_report import (  # noqa: E402
    Call,
    checks,
    finished_refreshes,
    minute_row,
    print_row,
    refresh_runs,
    worker_errors,
)

DATABASE_URL = os.environ.get("SOAK_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/mineral_soak")
REDIS_URL = os.environ.get("SOAK_REDIS_URL", "redis://127.0.0.1:6379/7")
SOAK_SECONDS = int(os.environ.get("SOAK_SECONDS", "300"))
WARMUP_SECONDS = int(os.environ.get("SOAK_WARMUP_SECONDS", "60"))  # the same load first, not compared
# A whole minute, so the maximum holds the minute's background work (a full refresh and 60 feed changes) whatever
# the moment the refresh reaches the worker; 15 s measured 112 req/s in one run and 279 in the next.
MAX_SECONDS = int(os.environ.get("SOAK_MAX_SECONDS", "60"))
SOAK_SHARE = float(os.environ.get("SOAK_SHARE", "0.7"))
CONNECTIONS = int(os.environ.get("SOAK_CONNECTIONS", "16"))
WEB_WORKERS = int(os.environ.get("SOAK_WEB_WORKERS", "2"))
PAGES, PRODUCTS = 500, 2000
MINUTE = 60
IDLE_AFTER = 180  # seconds the worker is given to finish its queue after the load stops
RESULTS = ROOT / "bench" / "results" / "soak.json"
QUEUE = "recommender"
QUEUE_KEYS = [QUEUE, *(f"{QUEUE}\x06\x16{p}" for p in (3, 6, 9))]  # kombu's Redis lists, one per priority step
DIRTY_KEYS = [f"recommender:dirty:{kind}" for kind in ("products", "pages", "all")]  # recommender.dirty's sets
WORKER_CONCURRENCY = 2
FULL_REFRESH = "recommender.tasks.refresh_all_pages"

LUA = ROOT / "bench" / "soak.lua"


@dataclass
class Stack:
    """The processes of one soak and where they write; `stop()` ends every one of them."""

    workdir: Path
    env: dict[str, str]
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def start(self, name: str, args: list[str], env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
        log = (self.workdir / f"{name}.log").open("wb")
        process = subprocess.Popen(
            args, cwd=ROOT, env=env or self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        self.processes[name] = process
        return process

    def stop(self) -> None:
        """SIGTERM to each process group started here, then SIGKILL to what is left after 30 s."""
        for process in self.processes.values():
            signal_group(process, signal.SIGTERM)
        deadline = time.monotonic() + 30
        for process in self.processes.values():
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            signal_group(process, signal.SIGKILL)  # the group: also a pool child its parent left behind
            process.wait()


def signal_group(process: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, sig)  # its own session: the group id is its pid


def fresh_database() -> None:
    """Drop and create the soak's own database (never another)."""
    import psycopg

    name = DATABASE_URL.rsplit("/", 1)[1]
    with psycopg.connect(DATABASE_URL.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def redis_db() -> Any:
    import redis

    return redis.Redis.from_url(REDIS_URL, socket_timeout=5)


def seed(env: dict[str, str]) -> dict[str, Any]:
    """Migrate, load the demo, add the synthetic store and the feed user, refresh; the mix's paths and token."""
    for command in (["migrate", "--no-input"], ["load_demo"]):
        run([sys.executable, "manage.py", *command, "--verbosity", "0"], env)
    out = run([sys.executable, str(Path(__file__)), "--seed"], env)
    began = time.perf_counter()
    run([sys.executable, "manage.py", "refresh_recommendations", "--verbosity", "0"], env)
    return {**json.loads(out.splitlines()[-1]), "first_refresh_s": round(time.perf_counter() - began, 1)}


def run(args: list[str], env: dict[str, str]) -> str:
    done = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"{' '.join(args[1:])} failed:\n{done.stderr[-3000:]}")
    return done.stdout


def seed_store() -> None:
    """(In a child with the soak's settings.) The synthetic store and a feed user; prints the mix's paths."""
    import django

    django.setup()
    from django.contrib.auth.models import Group, User
    from rest_framework.authtoken.models import Token

    from bench.store import Size
    from bench.store import seed as seed_synthetic
    from recommender.models import ContentPage
    from shop.catalog.models import Product
    from shop.content.models import Article

    seed_synthetic(Size(pages=PAGES, products=PRODUCTS))
    user = User.objects.create_user("soak-feed", password=secrets.token_urlsafe())
    user.groups.add(Group.objects.get(name="merchandiser"))
    products = list(Product.objects.order_by("pk").values_list("slug", "sku"))
    data = {
        "token": Token.objects.create(user=user).key,
        "pages": list(ContentPage.objects.order_by("pk").values_list("slug", flat=True)),
        "articles": list(Article.objects.order_by("pk").values_list("slug", flat=True)),
        "products": [slug for slug, _ in products[:: max(1, len(products) // 300)]],
        "feed": ["TM-CTD-8OZ", *(sku for _, sku in products[:: max(1, len(products) // 9)][:9])],
    }
    print(json.dumps(data))


def mix(store: dict[str, Any]) -> list[tuple[str, str]]:
    """(path, Accept) of 1,000 requests: 80% page lists over every page, 10% articles, 10% product pages."""
    api = [(f"/api/v1/pages/{slug}/recommendations/", "application/json") for slug in store["pages"]]
    articles = [(f"/learn/{slug}/", "text/html") for slug in store["articles"]]
    products = [(f"/products/{slug}/", "text/html") for slug in store["products"]]
    return [api[i % len(api)] for i in range(800)] + [
        group[i % len(group)] for group in (articles, products) for i in range(100)
    ]


def wrk_script(workdir: Path, paths: list[tuple[str, str]], rate: float | None) -> Path:
    interval = 1000.0 / rate if rate else 0
    lua = LUA.read_text().replace("{PATHS}", "{" + ", ".join(f'{{"{p}", "{a}"}}' for p, a in paths) + "}")
    script = workdir / f"mix-{int(rate or 0)}.lua"
    script.write_text(lua.replace("{INTERVAL}", f"{interval:.6f}"))
    return script


def wrk(base: str, script: Path, seconds: int) -> subprocess.Popen[str]:
    """One wrk run (one thread, so the script's schedule is the whole rate); its result line is read later."""
    args = ["wrk", "-t1", f"-c{CONNECTIONS}", f"-d{seconds}s", "--timeout", "5s", "-s", str(script), base]
    return subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def wrk_result(process: subprocess.Popen[str]) -> dict[str, float]:
    out, _ = process.communicate()
    found = re.search(r"^SOAK (\{.*\})$", out, re.MULTILINE)
    if found is None:
        raise RuntimeError(f"wrk printed no result:\n{out}")
    result = json.loads(found.group(1))
    result["rate"] = result["requests"] / (result["duration_us"] / 1e6)
    return result


def rss_kb(pid: int) -> int:
    """VmRSS of a process and, recursively, its children (the worker's pool), in KiB; 0 when gone."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return 0
    own = re.search(r"^VmRSS:\s+(\d+) kB", status, re.MULTILINE)
    return (int(own.group(1)) if own else 0) + sum(rss_kb(int(child)) for child in children)


class Sampler(threading.Thread):
    """Every second: worker and web memory, and the backlog (queue, unacked, dirty ids, outbox)."""

    def __init__(self, stack: Stack) -> None:
        super().__init__(daemon=True)
        self.stack, self.samples, self.halt = stack, list[dict[str, float]](), threading.Event()
        self.errors = 0

    def sample(self, client: Any, conn: Any) -> dict[str, float]:
        queued = sum(client.llen(key) for key in QUEUE_KEYS)
        dirty = sum(client.scard(key) for key in DIRTY_KEYS)
        outbox = conn.execute("SELECT count(*) FROM recommender_dirtymark").fetchone()[0]
        return {
            "t": time.monotonic(),
            "worker_mb": rss_kb(self.stack.processes["worker"].pid) / 1024,
            "web_mb": rss_kb(self.stack.processes["web"].pid) / 1024,
            "queued": queued,
            "unacked": client.hlen("unacked"),
            "dirty": dirty,
            "outbox": outbox,
            "load": os.getloadavg()[0],  # the whole machine's, other engineers' work included
        }

    def run(self) -> None:
        """Sample until halted; a failed sample (database or Redis away) is counted and the connection made again."""
        import psycopg
        import redis

        client, conn = redis_db(), None
        while not self.halt.wait(1.0):
            try:
                conn = conn if conn is not None and not conn.closed else psycopg.connect(DATABASE_URL, autocommit=True)
                self.samples.append(self.sample(client, conn))
            except (psycopg.Error, redis.RedisError):
                self.errors += 1
                if conn is not None:
                    conn.close()
        if conn is not None:
            conn.close()

    def window(self, start: float, end: float) -> list[dict[str, float]]:
        return [s for s in self.samples if start <= s["t"] < end]


def queued_tasks() -> dict[str, int]:
    """Tasks waiting or delivered but unacknowledged, by name (the short name: `drain_dirty`)."""
    client = redis_db()
    messages = [m for key in QUEUE_KEYS for m in client.lrange(key, 0, -1)] + list(client.hvals("unacked"))
    names = [found.group(1) for m in messages if (found := re.search(rb'"task": "[\w.]*?(\w+)"', m))]
    return {name.decode(): names.count(name) for name in sorted(set(names))}


class Feed(threading.Thread):
    """A stock feed: every second, one product's stock and price through the API with a token.

    Each change is sent on its own thread at its second, so a slow answer does not delay the next change.
    """

    def __init__(self, base: str, token: str, skus: list[str]) -> None:
        super().__init__(daemon=True)
        self.base, self.token, self.skus = base, token, skus
        self.calls: list[Call] = []
        self.sending: list[threading.Thread] = []
        self.halt = threading.Event()

    def patch(self, n: int) -> None:
        body = json.dumps({"in_stock": n % 3 != 0, "price": f"{10 + n % 7}.{n % 100:02d}"}).encode()
        request = urllib.request.Request(
            f"{self.base}/api/v1/products/{self.skus[n % len(self.skus)]}/", data=body, method="PATCH",
            headers={"Authorization": f"Token {self.token}", "Content-Type": "application/json"},
        )  # fmt: skip
        sent = time.monotonic()
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                status = response.status
        except urllib.error.HTTPError as error:
            status = error.code
        except OSError:
            status = 0
        self.calls.append((sent, status, time.monotonic() - sent))

    def run(self) -> None:
        n, next_at = 0, time.monotonic()
        while not self.halt.wait(max(0.0, next_at - time.monotonic())):
            self.sending = [t for t in self.sending if t.is_alive()]
            self.sending.append(threading.Thread(target=self.patch, args=(n,), daemon=True))
            self.sending[-1].start()
            n, next_at = n + 1, next_at + 1.0
        for thread in self.sending:
            thread.join(timeout=15)

    def window(self, start: float, end: float) -> list[Call]:
        return [c for c in self.calls if start <= c[0] < end]


def start_stack(workdir: Path, env: dict[str, str]) -> tuple[Stack, str]:
    """gunicorn, the worker and beat on the soak's database and Redis DB; the server's base URL."""
    stack = Stack(workdir, env)
    port = free_port()
    web_env = {
        **env, "DJANGO_SETTINGS_MODULE": "bench.serve_settings", "DJANGO_DEBUG": "false",
        "DJANGO_SECURE_SSL_REDIRECT": "false", "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
    }  # fmt: skip
    web = stack.start(
        "web",
        [sys.executable, "-m", "gunicorn", "--workers", str(WEB_WORKERS), "--worker-class", "sync",
         "--bind", f"127.0.0.1:{port}", "--log-level", "warning", "shop.wsgi:application"],
        web_env,
    )  # fmt: skip
    stack.start(
        "worker",
        [sys.executable, "-m", "celery", "-A", "shop", "worker", "--loglevel=WARNING",
         f"--concurrency={WORKER_CONCURRENCY}", "--without-gossip", "--without-mingle", "--hostname=soak@%h"],
    )  # fmt: skip
    stack.start(
        "beat",
        [sys.executable, "-m", "celery", "-A", "shop", "beat", "--loglevel=WARNING",
         "--schedule", str(workdir / "beat-schedule")],
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    wait_until_up(base, web, path=f"/api/v1/pages/{RLS}/recommendations/")
    return stack, base


def sender() -> Any:
    """A bare Celery client on the soak's broker: sends the full refresh by name, as beat would."""
    from celery import Celery

    return Celery("soak", broker=REDIS_URL)


def wait_idle(sampler: Sampler, timeout: float) -> float | None:
    """Seconds until the queue and the unacked set are empty for two samples in a row; None after `timeout`."""
    began = time.monotonic()
    while time.monotonic() - began < timeout:
        time.sleep(1.0)
        last = sampler.samples[-2:]
        if len(last) == 2 and all(s["queued"] == 0 and s["unacked"] == 0 for s in last) and last[0]["t"] > began:
            return time.monotonic() - began
    return None


def maximum(base: str, workdir: Path, paths: list[tuple[str, str]], store: dict[str, Any]) -> dict[str, Any]:
    """The highest rate the stack serves while doing the soak's background work: wrk unpaced for MAX_SECONDS
    with the stock feed running and a full refresh sent at the start, as at every soak minute.

    Measured idle instead, the maximum includes the core the worker needs for the feed and the refreshes: on
    two cores, 70% of an idle maximum (298 req/s) could not be held while the worker refreshed (147-167 req/s).
    Measured over 15 s, it depended on whether the refresh fell inside them; over a minute it holds the same
    background as each soak minute.
    """
    feed = Feed(base, store["token"], store["feed"])
    feed.start()
    try:
        sender().send_task(FULL_REFRESH, queue=QUEUE)
        return wrk_result(wrk(base, wrk_script(workdir, paths, None), MAX_SECONDS))
    finally:
        feed.halt.set()
        feed.join(timeout=30)


def soak(
    base: str, workdir: Path, paths: list[tuple[str, str]], rate: float, store: dict[str, Any], sampler: Sampler
) -> list[dict[str, Any]]:
    """The soak proper: one wrk run per minute at `rate` (minute 0 the warm-up), the feed throughout, a full
    refresh each minute."""
    script, celery, feed = wrk_script(workdir, paths, rate), sender(), Feed(base, store["token"], store["feed"])
    feed.start()
    minutes: list[dict[str, Any]] = []
    spans = [WARMUP_SECONDS] if WARMUP_SECONDS else []
    spans += [min(MINUTE, SOAK_SECONDS - done) for done in range(0, SOAK_SECONDS, MINUTE)]
    try:
        for seconds in spans:
            start = time.monotonic()
            load = wrk(base, script, seconds)
            celery.send_task(FULL_REFRESH, queue=QUEUE)
            result = wrk_result(load)
            end = time.monotonic()
            number = len(minutes) + (0 if WARMUP_SECONDS else 1)
            row = minute_row(number, result, sampler.window(start, end), feed.window(start, end), rate)
            row["queued_at_end"] = queued_tasks()
            minutes.append(row)
            print_row(row)
    finally:
        feed.halt.set()
        feed.join(timeout=30)
    return minutes


def exclusive() -> Any | None:
    """A connection holding the soak's advisory lock on the PostgreSQL server, or None when another soak holds it.

    Two soaks would share (and drop, and flush) one database and one Redis DB, so only one runs at a time; the
    lock goes with the connection, also when a run is killed.
    """
    import psycopg

    conn = psycopg.connect(DATABASE_URL.rsplit("/", 1)[0] + "/postgres", autocommit=True)
    row = conn.execute("SELECT pg_try_advisory_lock(%s)", (zlib.crc32(DATABASE_URL.encode()),)).fetchone()
    if row and row[0]:
        return conn
    conn.close()
    return None


def main() -> int:
    if shutil.which("wrk") is None:
        print("wrk is not installed (apt-get install -y wrk)", file=sys.stderr)
        return 2
    lock = exclusive()
    if lock is None:
        print(f"another soak is running on {DATABASE_URL} and {REDIS_URL}; nothing was touched", file=sys.stderr)
        return 2
    workdir = Path(tempfile.mkdtemp(prefix="soak-"))
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env.update(DATABASE_URL=DATABASE_URL, DJANGO_SETTINGS_MODULE="shop.settings")
    client, stack, sampler = redis_db(), None, None
    try:
        fresh_database()
        client.flushdb()  # the soak's own DB number only
        print(f"seeding {PAGES} pages x {PRODUCTS} products on {DATABASE_URL} ...", flush=True)
        store = seed(env)
        stack, base = start_stack(workdir, {**env, "REDIS_URL": REDIS_URL})
        sampler = Sampler(stack)
        sampler.start()
        report = measure_and_soak(workdir, base, store, sampler)
        RESULTS.write_text(json.dumps(report, indent=2) + "\n")
        for name, ok in report["checks"].items():
            print(f"{'PASS' if ok else 'FAIL'}  {name}")
        print(f"wrote {RESULTS.relative_to(ROOT)}")
        return 0 if report["passed"] else 1
    finally:
        if sampler is not None:
            sampler.halt.set()
            sampler.join(timeout=10)
        if stack is not None:
            stack.stop()
        client.flushdb()
        shutil.rmtree(workdir, ignore_errors=True)
        lock.close()


def measure_and_soak(workdir: Path, base: str, store: dict[str, Any], sampler: Sampler) -> dict[str, Any]:
    """With the stack up: warm the worker, measure the maximum, soak, check; the report."""
    sender().send_task(FULL_REFRESH, queue=QUEUE)  # the worker's first, so the soak starts warm
    warm_refresh_s = wait_idle(sampler, timeout=300)
    if warm_refresh_s is None:
        raise RuntimeError("the worker's first full refresh did not finish within 300 s")
    paths = mix(store)
    wrk_result(wrk(base, wrk_script(workdir, paths, None), 3))  # warm-up, not counted
    peak = maximum(base, workdir, paths, store)
    rate = SOAK_SHARE * peak["rate"]
    print(f"maximum {peak['rate']:.0f} req/s (p99 {peak['p99_ms']:.1f} ms); soaking at {rate:.0f} req/s")
    print(
        f"{'minute':>6} {'req/s':>8} {'requests':>8} {'errors':>6} {'p50 ms':>7} {'p99 ms':>7} {'late':>5} "
        f"{'worker MB':>9} {'web MB':>7} {'queue':>6} {'q min':>5} {'q max':>5} {'outbox':>6} {'feed':>5} {'load':>5}"
    )
    minutes = soak(base, workdir, paths, rate, store, sampler)
    under_load = finished_refreshes((workdir / "worker.log").read_text(errors="replace"))
    idle_after_s = wait_idle(sampler, timeout=IDLE_AFTER)
    worker_log = (workdir / "worker.log").read_text(errors="replace")
    refreshes = 2 + len(minutes)  # the worker's first, the maximum's, then one a minute (the warm-up's included)
    result = checks(minutes, worker_log, refreshes, under_load)
    return {
        "setup": {
            "pages": len(store["pages"]), "products": PRODUCTS, "web_workers": WEB_WORKERS,
            "worker_concurrency": WORKER_CONCURRENCY, "connections": CONNECTIONS, "cpus": os.cpu_count(),
            "mix": "80% /api/v1/pages/<slug>/recommendations/ over every page, 10% /learn/<slug>/, "
            "10% /products/<slug>/",
            "rate_control": "wrk Lua delay() on a fixed schedule from the monotonic clock",
            "first_refresh_s": store["first_refresh_s"], "worker_warm_refresh_s": round(warm_refresh_s, 1),
        },
        "max": {"rps": round(peak["rate"], 1), "p99_ms": round(peak["p99_ms"], 2), "seconds": MAX_SECONDS,
                "errors": peak["socket_errors"] + peak["status_errors"] + peak["timeouts"]},
        "soak": {"rps_target": round(rate, 1), "share": SOAK_SHARE, "seconds": SOAK_SECONDS,
                 "warmup_seconds": WARMUP_SECONDS,
                 "full_refreshes_sent": refreshes, "full_refreshes_finished": finished_refreshes(worker_log),
                 "full_refreshes_finished_under_load": under_load,
                 "idle_after_s": None if idle_after_s is None else round(idle_after_s, 1),
                 "sampler_errors": sampler.errors},
        "minutes": minutes,
        "worker_refreshes": refresh_runs(worker_log),
        "worker_log_errors": worker_errors(worker_log)[:20],
        "checks": result,
        "passed": all(result.values()),
    }  # fmt: skip


if __name__ == "__main__":
    if sys.argv[1:] == ["--seed"]:
        seed_store()
    else:
        sys.exit(main())
