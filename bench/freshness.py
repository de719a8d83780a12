"""Freshness benchmark: seconds from a committed stock change to the changed list in the database,
with a real `celery -A shop worker` on Redis and PostgreSQL. Run by bench/run.py when both answer.

Uses its own database (BENCH_DATABASE_URL, else `<BENCH_DATABASE_PREFIX>_freshness`, bench/environment.py) and
Redis DB (BENCH_REDIS_URL), and stops its worker.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import environment  # noqa: E402

DATABASE_URL = os.environ.get("BENCH_DATABASE_URL", "")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/12")
ROUNDS = int(os.environ.get("BENCH_FRESHNESS_ROUNDS", "20"))


def main() -> None:
    url = DATABASE_URL or environment.ensure_database("freshness")
    os.environ.update({"DATABASE_URL": url, "REDIS_URL": REDIS_URL, "DJANGO_SETTINGS_MODULE": "shop.settings"})
    import django

    django.setup()
    from django.core.management import call_command

    from recommender.models import Recommendation
    from recommender.services.products import product_update
    from shop.catalog.models import Product
    from shop.celery import app

    app.conf.task_always_eager = True
    call_command("migrate", verbosity=0)
    call_command("load_demo", verbosity=0, stdout=open(os.devnull, "w"))  # noqa: SIM115
    call_command("refresh_recommendations", verbosity=0, stdout=open(os.devnull, "w"))  # noqa: SIM115
    app.control.purge()
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "shop", "worker", "--pool=solo", "--loglevel=WARNING",
         "--without-gossip", "--without-mingle", "--hostname=bench@%h"],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while not app.control.ping(timeout=0.5):
            if time.monotonic() > deadline:
                raise SystemExit("worker did not start")
        app.conf.task_always_eager = False
        drops = Product.objects.get(sku="TM-CTD-8OZ")
        listed = Recommendation.objects.filter(page__slug="how-to-treat-restless-leg-syndrome", product=drops)
        seconds = []
        for i in range(ROUNDS):
            in_stock = i % 2 == 1
            product_update(product=drops, data={"in_stock": in_stock})
            start = time.perf_counter()
            while listed.exists() != in_stock:
                if time.perf_counter() - start > 30:
                    raise SystemExit("change not visible within 30 s")
                time.sleep(0.01)
            seconds.append(time.perf_counter() - start)
        seconds.sort()
        p95 = seconds[max(0, round(0.95 * len(seconds)) - 1)]
        print(
            json.dumps({"rounds": len(seconds), "p50_s": round(statistics.median(seconds), 3), "p95_s": round(p95, 3)})
        )
    finally:
        app.conf.task_always_eager = True
        product_update(product=Product.objects.get(sku="TM-CTD-8OZ"), data={"in_stock": True})
        worker.terminate()
        worker.wait(timeout=15)


if __name__ == "__main__":
    main()
