"""The soak's figures and checks (bench/soak.py): one row per minute from wrk's result, the sampler's samples
and the feed's changes, and the conditions the run passes on. Pure functions, no process or connection.
"""

from __future__ import annotations

import math
import re
import statistics
from typing import Any

P99_GROWTH = 1.5
MEMORY_GROWTH = 0.2
RATE_HELD = 0.9  # each minute's rate at least this share of the target
Call = tuple[float, int, float]  # a feed change: (monotonic time sent, HTTP status or 0, seconds to answer)


def minute_row(
    n: int, result: dict[str, float], samples: list[dict[str, float]], feed: list[Call], target: float
) -> dict[str, Any]:
    """One minute's figures: load, latency, errors, memory and backlog."""
    feed_errors = sum(1 for _, status, _ in feed if not 200 <= status < 400)
    queue = [int(s["queued"] + s["unacked"]) for s in samples]
    return {
        "minute": n,
        "target_rps": round(target, 1),
        "rps": round(result["rate"], 1),
        "requests": result["requests"],
        "errors": result["socket_errors"] + result["status_errors"] + result["timeouts"] + feed_errors,
        "p50_ms": round(result["p50_ms"], 2),
        "p99_ms": round(result["p99_ms"], 2),
        "max_ms": round(result["max_ms"], 1),
        "late_sends": result["late"],
        "feed_changes": len(feed),
        "feed_p99_ms": round(percentile([s for _, _, s in feed], 99) * 1000, 1) if feed else None,
        "worker_mb_max": round(max((s["worker_mb"] for s in samples), default=0), 1),
        "worker_mb_end": round(samples[-1]["worker_mb"], 1) if samples else None,
        "web_mb_max": round(max((s["web_mb"] for s in samples), default=0), 1),
        "queue_mean": round(statistics.fmean(queue), 2) if queue else 0,
        "queue_min": min(queue, default=0),
        "queue_max": max(queue, default=0),
        "queue_end": queue[-1] if queue else 0,
        "dirty_max": max((s["dirty"] for s in samples), default=0),
        "outbox_max": max((s["outbox"] for s in samples), default=0),
        "loadavg_max": round(max((s["load"] for s in samples), default=0), 2),
    }


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(q / 100 * len(ordered)) - 1)] if ordered else 0.0


def checks(minutes: list[dict[str, Any]], worker_log: str, refreshes: int, under_load: int) -> dict[str, bool]:
    """The pass conditions; the warm-up (minute 0) counts for errors and rate, not as the first minute.

    A worker that keeps up brings its queue back down to the same floor every minute, whatever the peaks (a full
    refresh queues its chunks, drains come and go), while a queue that grows lifts its floor with it: so the last
    minute's lowest queue may be at most two tasks above the first minute's (a drain just scheduled, and beat's
    periodic one). The outbox must not grow, and each minute's full refresh must finish within the soak (the last
    may still run when the load stops).
    """
    counted = [m for m in minutes if m["minute"] > 0]
    first, last = counted[0], counted[-1]
    return {
        "no errors": all(m["errors"] == 0 for m in minutes) and not worker_errors(worker_log),
        f"rate held (each minute >= {RATE_HELD:.0%} of target)": all(
            m["rps"] >= RATE_HELD * m["target_rps"] for m in minutes
        ),
        f"p99 last <= {P99_GROWTH}x first": last["p99_ms"] <= P99_GROWTH * first["p99_ms"],
        f"worker memory growth < {MEMORY_GROWTH:.0%}": last["worker_mb_max"]
        <= (1 + MEMORY_GROWTH) * first["worker_mb_max"],
        "backlog not growing (queue floor, outbox)": last["queue_min"] <= first["queue_min"] + 2
        and last["outbox_max"] <= first["outbox_max"],
        "every full refresh finished, all but the last under load": finished_refreshes(worker_log) == refreshes
        and under_load >= refreshes - 1,
    }


def finished_refreshes(log: str) -> int:
    """Full refreshes whose chord ended (`recommender.tasks.refresh_finished` logs each)."""
    return log.count("full refresh finished")


def refresh_runs(log: str) -> dict[str, Any]:
    """How many refreshes the worker ran and how long they took (from the refresh service's log line)."""
    seconds = sorted(float(s) for s in re.findall(r"refreshed \d+ pages .* in ([\d.]+) s", log))
    if not seconds:
        return {"count": 0}
    return {"count": len(seconds), "median_s": round(statistics.median(seconds), 1), "max_s": max(seconds)}


def worker_errors(log: str) -> list[str]:
    return [line for line in log.splitlines() if re.search(r"\bERROR\b|Traceback|CRITICAL", line)]


def print_row(row: dict[str, Any]) -> None:
    print(
        f"{row['minute']:>6} {row['rps']:>8.1f} {row['requests']:>8} {row['errors']:>6} {row['p50_ms']:>7.2f} "
        f"{row['p99_ms']:>7.2f} {row['late_sends']:>5} {row['worker_mb_max']:>9.1f} {row['web_mb_max']:>7.1f} "
        f"{row['queue_mean']:>6.1f} {row['queue_min']:>5} {row['queue_max']:>5} {row['outbox_max']:>6} "
        f"{row['feed_changes']:>5} {row['loadavg_max']:>5.1f}",
        flush=True,
    )
