"""Freshness benchmark: seconds from a committed stock change to the changed list in the database, with a real
`celery -A shop worker` on Redis and PostgreSQL, while a stock feed changes one product a second.

    BENCH_DATABASE_URL=postgres://... python bench/freshness.py   # a refreshed store; prints one JSON line
    python bench/freshness.py    # seeds the synthetic store (bench/store.py, its scale) and refreshes it first

bench/run.py passes the scale-out benchmark's store, which that benchmark leaves fully refreshed, so the store is
the benchmark's size without seeding and refreshing it twice. The feed takes products that lead some page's list and
marks one out of stock every FEED_INTERVAL_S; a change is visible when its product has left that page's list. The
worker is `make worker`'s (prefork, a process per core); its Redis DB (BENCH_REDIS_URL) is emptied first, and the
worker is stopped, also on failure. Backlog: the latencies of the last third of the changes against the first third
(a drain that cannot keep up makes them grow) and the seconds from the last change to the last visible one.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import environment  # noqa: E402
from bench.workers import stop  # noqa: E402

DATABASE_URL = os.environ.get("BENCH_DATABASE_URL", "")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/12")
ROUNDS = int(os.environ.get("BENCH_FRESHNESS_ROUNDS", "20"))
FEED_INTERVAL_S = 1.0
VISIBLE_WITHIN_S = float(os.environ.get("BENCH_FRESHNESS_TIMEOUT", "600"))


def setup() -> None:
    url = DATABASE_URL or environment.fresh_database("freshness")
    os.environ.update({"DATABASE_URL": url, "REDIS_URL": REDIS_URL, "DJANGO_SETTINGS_MODULE": "shop.settings"})
    import django

    django.setup()
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()  # the benchmark's own DB: no dirty marks or tasks left from before
    if not DATABASE_URL:
        seed_and_refresh()


def seed_and_refresh() -> None:
    """The synthetic store at the benchmark's scale, every list computed in this process."""
    from django.core.management import call_command

    from bench.store import DEFAULT, bench_scale, seed
    from recommender.services.refresh import recommendations_refresh
    from shop.celery import app

    app.conf.task_always_eager = True
    try:
        call_command("migrate", verbosity=0)
        seed(DEFAULT.scaled(bench_scale()))
        recommendations_refresh()
    finally:
        app.conf.task_always_eager = False


def feed_products(count: int) -> list[tuple[int, int]]:
    """(product, page) pairs: distinct in-stock products that lead a page's list, spread over the pages."""
    from recommender.models import Recommendation

    leads: dict[int, int] = {}  # product -> page
    taken: set[int] = set()
    rows = Recommendation.objects.filter(product__in_stock=True).order_by("page_id", "rank")
    for page_id, product_id in rows.values_list("page_id", "product_id"):
        if page_id not in taken and product_id not in leads:
            leads[product_id] = page_id
            taken.add(page_id)
    pairs = sorted(leads.items(), key=lambda pair: pair[1])
    step = max(1, len(pairs) // count)
    return pairs[::step][:count]


def start_worker() -> subprocess.Popen[bytes]:
    from shop.celery import app

    app.control.purge()
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "shop", "worker", "--loglevel=WARNING", "--without-gossip",
         "--without-mingle", "--hostname=benchfresh@%h"],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 90
    while not app.control.ping(timeout=0.5):
        if worker.poll() is not None or time.monotonic() > deadline:
            raise SystemExit("worker did not start")
    return worker


def still_listed(pending: dict[int, tuple[int, float]]) -> set[int]:
    from recommender.models import Recommendation

    pages = {page for page, _ in pending.values()}
    rows = Recommendation.objects.filter(product_id__in=list(pending), page_id__in=pages)
    return {product for page, product in rows.values_list("page_id", "product_id") if pending[product][0] == page}


def run_feed(feed: list[tuple[int, int]]) -> tuple[list[float], float]:
    """One change every FEED_INTERVAL_S; each change's seconds to visible, and the seconds from the last change to
    the last visible."""
    from recommender.services.products import product_update
    from shop.catalog.models import Product

    pending: dict[int, tuple[int, float]] = {}
    seconds: list[float] = []
    next_change, last_change, changed = time.monotonic(), 0.0, 0
    while changed < len(feed) or pending:
        now = time.monotonic()
        if changed < len(feed) and now >= next_change:
            product_id, page_id = feed[changed]
            product_update(product=Product.objects.get(pk=product_id), data={"in_stock": False})  # commits
            last_change = time.monotonic()
            pending[product_id] = (page_id, last_change)
            changed, next_change = changed + 1, next_change + FEED_INTERVAL_S
        if pending:
            listed, now = still_listed(pending), time.monotonic()
            for product_id in set(pending) - listed:
                seconds.append(now - pending.pop(product_id)[1])
            if any(now - started > VISIBLE_WITHIN_S for _, started in pending.values()):
                raise SystemExit(f"a change was not visible within {VISIBLE_WITHIN_S:.0f} s")
        time.sleep(0.02)
    return seconds, time.monotonic() - last_change


def main() -> dict[str, Any]:
    setup()
    feed = feed_products(ROUNDS)
    worker = start_worker()
    try:
        seconds, tail = run_feed(feed)
    finally:
        stop(worker)  # a drain still running is cut short: the figures are in
    third = max(1, len(seconds) // 3)
    ordered = sorted(seconds)
    from recommender.models import ContentPage
    from shop.catalog.models import Product

    pages, products = ContentPage.objects.count(), Product.objects.count()
    if not DATABASE_URL:
        from django.db import connections

        connections.close_all()
        environment.drop_database("freshness")
    return {
        "rounds": len(seconds),
        "pages": pages,
        "products": products,
        "feed_interval_s": FEED_INTERVAL_S,
        "p50_s": round(statistics.median(seconds), 3),
        "p95_s": round(ordered[max(0, round(0.95 * len(ordered)) - 1)], 3),
        "max_s": round(ordered[-1], 3),
        "first_third_p50_s": round(statistics.median(seconds[:third]), 3),
        "last_third_p50_s": round(statistics.median(seconds[-third:]), 3),
        "last_change_to_all_visible_s": round(tail, 3),
    }


if __name__ == "__main__":
    print(json.dumps(main()))
