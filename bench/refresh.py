"""Refresh benchmark: the one refresh service on a synthetic store (bench/store.py).

    python bench/refresh.py                         # prints one JSON object (called by bench/run.py)
    BENCH_REFRESH_SCALE=1 python bench/refresh.py   # the issue's default size, 5,000 pages x 20,000 products

The size is bench/store.py's DEFAULT times BENCH_REFRESH_SCALE (`store.SCALE` when unset). Each size runs in its own
process on a fresh database: PostgreSQL (`<BENCH_DATABASE_PREFIX>_refresh`, bench/environment.py) when it answers on
127.0.0.1:5432, else a SQLite file (labelled). Measures a full refresh (compute, total, peak RSS), a pure-Python
per-page loop over the same vectors (sampled, extrapolated, same top-k), the growth exponent over 1/4, 1/2 and 1 of
the size, and an incremental refresh after one product's tags change (a rare tag and a common one) against the full
refresh. The process keeps its engine between refreshes as a Celery worker process does (Redis DB 10,
BENCH_REFRESH_REDIS_URL, holds the drain log that needs; without Redis it builds one each time, labelled), so the
incremental refresh is timed as a worker runs it after a product change; `incremental_*_cold_s` times the same in a
process that builds its engine first (an admin's "refresh" button). Like a worker, the process starts with
`snapshot.keep_and_warm` (its engine and what it knows of the pages built, `worker_start_s`, untimed), so the full
refresh reads the catalog and the pages again, as a worker's does, rather than building from nothing.
"""

from __future__ import annotations

import gc
import json
import math
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import environment  # noqa: E402
from bench.store import DEFAULT, bench_scale  # noqa: E402

SQLITE_PATH = ROOT / "bench" / "results" / "refresh.sqlite3.tmp"
REDIS_URL = os.environ.get("BENCH_REFRESH_REDIS_URL", "redis://127.0.0.1:6379/10")


def fresh_database() -> str:
    if environment.postgres_answers():
        return environment.fresh_database("refresh")
    SQLITE_PATH.unlink(missing_ok=True)
    return f"sqlite:///{SQLITE_PATH}"


def naive_top(page: dict[int, float], rows: list[dict[int, float]], k: int) -> list[int]:
    """Cosine per product with dicts and loops, as a per-page Python refresh would."""
    norm_page = math.sqrt(sum(v * v for v in page.values())) or 1.0
    scored = []
    for i, row in enumerate(rows):
        dot = sum(v * row.get(t, 0.0) for t, v in page.items())
        norm = math.sqrt(sum(v * v for v in row.values()))
        scored.append((-(dot / (norm_page * norm)) if norm else 0.0, i))
    return [i for _, i in sorted(scored)[:k]]


def seed_store(pages: int, products: int) -> None:
    """Migrate and seed the store (runs in a process of its own, so its memory never counts as the refresh's)."""
    import django

    django.setup()
    from django.core.management import call_command

    from bench.store import Size, seed

    call_command("migrate", verbosity=0)
    seed(Size(pages, products))


def measure_one(pages: int, products: int, *, detail: bool) -> dict[str, object]:
    """Seed a store of this size and measure it (runs inside the child process)."""
    os.environ.update(DATABASE_URL=fresh_database(), DJANGO_SETTINGS_MODULE="shop.settings")
    os.environ.pop("REDIS_URL", None)
    keeps = environment.redis_answers()
    if keeps:  # the cache and the drain log a worker keeps its engine by; this benchmark's own DB, emptied
        import redis

        redis.Redis.from_url(REDIS_URL).flushdb()
    seeding = [sys.executable, __file__, "--seed", str(pages), str(products)]
    subprocess.run(seeding, check=True, capture_output=True, timeout=3600, cwd=ROOT)
    import django

    if keeps:
        os.environ["REDIS_URL"] = REDIS_URL  # after seeding: the seed's own refresh runs without
    django.setup()
    import numpy as np
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=1, user_api="blas")  # as in a worker
    from recommender.models import ProductTag, Tag
    from recommender.services import snapshot
    from recommender.services.engine_build import engine_build
    from recommender.services.refresh import recommendations_refresh
    from recommender.services.related import page_matrix

    # As a worker process: it starts by building its engine and what it knows of the pages (untimed, like a worker's
    # start), then runs the full refresh, which reads everything again, and keeps its engine for the drains.
    began = time.perf_counter()
    if keeps:
        snapshot.keep_and_warm()
    worker_start = time.perf_counter() - began

    began = time.perf_counter()
    summary = recommendations_refresh()
    total = time.perf_counter() - began
    compute = summary.timings.get("pages_compute_s", 0.0) + summary.timings.get("related_compute_s", 0.0)
    out: dict[str, object] = {
        "pages": pages,
        "products": products,
        "database": "postgresql" if os.environ["DATABASE_URL"].startswith("postgres") else "sqlite",
        "full_compute_s": round(compute, 2),
        "full_total_s": round(total, 2),
        "timings": summary.timings,
        "worker_start_s": round(worker_start, 2) if keeps else None,
        # The refresh's own peak, before the naive loop and the incremental runs below add theirs.
        "peak_rss_mb": environment.peak_rss_mb(),
    }
    if not detail:
        return out
    # A pure-Python per-page loop over the same vectors, on a sample of pages, extrapolated.
    engine = engine_build()
    matrix = page_matrix(engine).matrix
    rows = [{int(t): float(v) for t in np.flatnonzero(r) for v in [r[t]]} for r in engine.plain]
    sample = list(range(0, len(matrix), max(1, len(matrix) // 10)))[:10]
    began = time.perf_counter()
    naive = [naive_top({int(t): float(matrix[i][t]) for t in np.flatnonzero(matrix[i])}, rows, 20) for i in sample]
    naive_per_page = (time.perf_counter() - began) / len(sample)
    ours = [list(np.lexsort((engine.ids, -(engine.plain @ matrix[i])))[:20]) for i in sample]
    out["naive_same_top_k"] = all(
        np.allclose(sorted(engine.plain[a] @ matrix[i]), sorted(engine.plain[b] @ matrix[i]), atol=1e-5)
        for i, a, b in zip(sample, naive, ours, strict=True)
    )
    ours_per_page = summary.timings.get("pages_compute_s", 0.0) / max(1, pages)
    out["speedup_vs_naive"] = round(naive_per_page / ours_per_page, 1) if ours_per_page else None
    # Incremental: one product gets a rare tag, then another a common one; as a worker runs it (its engine kept),
    # then, with other products, in a process that builds its engine first.
    out["incremental_engine"] = "kept, as in a worker process" if keeps else "built (no Redis)"
    ids = engine.ids
    middle = len(ids) // 2
    del engine, matrix, rows, naive, ours  # the naive loop's own objects: a worker holds none of them
    gc.collect()
    for cold, offset in ((False, 0), (True, 2)):
        snapshot.keep_engines(keeps and not cold)
        suffix = "_cold" if cold else ""
        for name, slug in (("rare", "boron"), ("common", "magnesium")):
            product_id = int(ids[middle + offset + (name == "common")])
            # Written without announcing it (bulk_create sends no signal): the refresh timed below is the only one.
            tag = ProductTag(product_id=product_id, tag=Tag.objects.get(slug=slug), source="manual", relevance=0.9)
            ProductTag.objects.bulk_create(
                [tag], update_conflicts=True, unique_fields=["product", "tag", "source"], update_fields=["relevance"]
            )
            began = time.perf_counter()
            done = recommendations_refresh(product_ids=[product_id])
            seconds = round(time.perf_counter() - began, 2)
            out[f"incremental_{name}{suffix}_s"] = seconds
            out[f"incremental_{name}{suffix}_lists"] = {
                "pages": done.pages, "pages_written": done.written,
                "products": done.products, "products_written": done.products_written,
            }  # fmt: skip
            out[f"incremental_speedup_{name}{suffix}"] = round(total / max(seconds, 1e-3), 1)
    out["peak_rss_mb_with_baseline"] = environment.peak_rss_mb()
    return out


def run_child(pages: int, products: int, detail: bool) -> dict[str, object]:
    args = [sys.executable, __file__, "--child", str(pages), str(products), "1" if detail else "0"]
    done = subprocess.run(args, capture_output=True, text=True, timeout=3600, cwd=ROOT)
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-3000:])
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def main() -> dict[str, object]:
    scale = bench_scale()
    pages, products = DEFAULT.scaled(scale).pages, DEFAULT.scaled(scale).products
    runs = [run_child(int(pages * f), int(products * f), detail=False) for f in (0.25, 0.5)]
    full = run_child(pages, products, detail=True)
    sizes = [r["pages"] * r["products"] for r in [*runs, full]]  # type: ignore[operator]
    times = [r["full_total_s"] for r in [*runs, full]]
    xs, ys = [math.log(s) for s in sizes], [math.log(max(t, 1e-3)) for t in times]  # type: ignore[arg-type]
    mean_x, mean_y = sum(xs) / 3, sum(ys) / 3
    slope = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / sum((x - mean_x) ** 2 for x in xs)
    SQLITE_PATH.unlink(missing_ok=True)
    if full["database"] == "postgresql":
        environment.drop_database("refresh")
    return {**full, "scale": scale, "growth_exponent": round(slope, 2), "growth_runs": [*runs, full]}


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--seed":
        seed_store(int(sys.argv[2]), int(sys.argv[3]))
    elif len(sys.argv) > 1 and sys.argv[1] == "--child":
        print(json.dumps(measure_one(int(sys.argv[2]), int(sys.argv[3]), detail=sys.argv[4] == "1")))
    else:
        print(json.dumps(main(), indent=2))
