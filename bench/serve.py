"""Serving benchmark: the cached list endpoint against a plain Django view and a per-request ranking.

One gunicorn sync worker serves the demo (a SQLite file made here with load_demo + refresh) through the
bench URLconf (bench/serve_urls.py); the cache is Redis DB 13 on 127.0.0.1:6379 when it answers (the
results say when it did not). wrk on loopback runs the endpoints in interleaved rounds, so drift on a
shared machine hits every side alike; figures are medians over the rounds. Every process started here
is stopped, also on failure. Run alone (`python -m bench.serve`) it prints the results as JSON and writes
them to bench/results/serve.json; `make bench` runs it through bench/run.py.
"""

from __future__ import annotations

import json
import os
import platform
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import closing
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "serve.json"
REDIS_URL = os.environ.get("BENCH_SERVE_REDIS_URL", "redis://127.0.0.1:6379/13")
ROUNDS = int(os.environ.get("BENCH_SERVE_ROUNDS", "8"))
SECONDS = int(os.environ.get("BENCH_SERVE_SECONDS", "3"))
CONNECTIONS = int(os.environ.get("BENCH_SERVE_CONNECTIONS", "4"))
SETTLE = float(os.environ.get("BENCH_SERVE_SETTLE", "0.5"))
RLS = "how-to-treat-restless-leg-syndrome"
DROPS = "TM-CTD-8OZ"
UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3}


def redis_answers() -> bool:
    """Whether the bench's Redis DB answers PING (and is emptied for the run)."""
    import redis

    try:
        client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1, socket_timeout=1)
        client.ping()
        client.flushdb()
        return True
    except redis.RedisError:
        return False


def free_port() -> int:
    with closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def prepare_database(env: dict[str, str]) -> None:
    """Migrate, load the demo and refresh its lists, in-process cache and eager tasks (no Redis yet)."""
    for command in (["migrate", "--no-input"], ["load_demo"], ["refresh_recommendations"]):
        subprocess.run(
            [sys.executable, "manage.py", *command, "--verbosity", "0"],
            cwd=ROOT, env=env, check=True, capture_output=True,
        )  # fmt: skip


def wait_until_up(
    base: str, server: subprocess.Popen[bytes], timeout: float = 30.0, path: str = "/bench/plain/"
) -> None:
    """Return once `path` answers 2xx; RuntimeError if the server exits or `timeout` passes first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {server.returncode}")
        try:
            urllib.request.urlopen(f"{base}{path}", timeout=1).close()
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("gunicorn did not answer in time")


def fetch(url: str, headers: dict[str, str] | None = None) -> tuple[int, bytes, dict[str, str]]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read(), dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, error.read(), dict(error.headers)


def wrk(url: str, headers: dict[str, str] | None = None, seconds: int = 1) -> dict[str, float]:
    """Requests per second and p99 latency (ms) of one wrk run; non-2xx/3xx answers fail the run."""
    args = ["wrk", "-t1", f"-c{CONNECTIONS}", f"-d{seconds}s", "--latency"]
    for name, value in (headers or {}).items():
        args += ["-H", f"{name}: {value}"]
    out = subprocess.run([*args, url], capture_output=True, text=True, timeout=seconds + 30, check=True).stdout
    if "Non-2xx or 3xx responses" in out:
        raise RuntimeError(f"wrk saw error responses from {url}:\n{out}")
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    value, unit = re.search(r"99%\s+([\d.]+)(us|ms|s)", out).groups()  # type: ignore[union-attr]
    return {"rps": rps, "p99_ms": float(value) * UNITS[unit]}


def measure(base: str, etag: str) -> dict[str, list[dict[str, float]]]:
    """Interleaved rounds over every endpoint, after a short warm-up of each.

    The list and the plain view run back to back in every round, first one then the other in turn (and the
    304 and the per-request ranking likewise), so each round's ratio is taken under the same load and a
    drifting load favours neither side. Each run waits SETTLE seconds first, so requests still queued in the
    worker from the run before (the per-request ranking takes a quarter of a second) do not count against it.
    """
    endpoints: dict[str, tuple[str, dict[str, str]]] = {
        "recs": (f"{base}/api/v1/pages/{RLS}/recommendations/", {}),
        "plain": (f"{base}/bench/plain/", {}),
        "recs_304": (f"{base}/api/v1/pages/{RLS}/recommendations/", {"If-None-Match": etag}),
        "taggit": (f"{base}/bench/similar/{DROPS}/", {}),
    }
    for url, headers in endpoints.values():
        wrk(url, headers)
    runs: dict[str, list[dict[str, float]]] = {name: [] for name in endpoints}
    pairs = [("recs", "plain"), ("recs_304", "taggit")]
    for round_no in range(ROUNDS):
        for pair in pairs:
            for name in pair if round_no % 2 == 0 else pair[::-1]:
                time.sleep(SETTLE)
                runs[name].append(wrk(*endpoints[name], seconds=SECONDS))
    return runs


def summarise(runs: dict[str, list[dict[str, float]]], cache: str) -> dict[str, Any]:
    """Medians over the rounds; `serve.ratio_vs_plain_paired` is the median of each round's own ratio."""
    med = {name: {k: statistics.median(r[k] for r in rs) for k in ("rps", "p99_ms")} for name, rs in runs.items()}
    ratio_plain = med["recs"]["rps"] / med["plain"]["rps"]
    ratio_taggit = med["recs"]["rps"] / med["taggit"]["rps"]
    paired = statistics.median(r["rps"] / p["rps"] for r, p in zip(runs["recs"], runs["plain"], strict=True))
    return {
        "name": "serving: cached list vs plain view, 1 gunicorn sync worker",
        "ours_s": round(1 / med["recs"]["rps"], 6),
        "baseline": "plain Django view, same bytes",
        "baseline_s": round(1 / med["plain"]["rps"], 6),
        "speedup": round(ratio_plain, 3),
        "target": "ratio_vs_plain >= 0.8, ratio_vs_taggit >= 10",
        "met": ratio_plain >= 0.8 and ratio_taggit >= 10,
        "serve.recs_rps": round(med["recs"]["rps"], 1),
        "serve.recs_304_rps": round(med["recs_304"]["rps"], 1),
        "serve.plain_rps": round(med["plain"]["rps"], 1),
        "serve.taggit_rps": round(med["taggit"]["rps"], 1),
        "serve.ratio_vs_plain": round(ratio_plain, 3),
        "serve.ratio_vs_plain_paired": round(paired, 3),
        "serve.ratio_vs_taggit": round(ratio_taggit, 1),
        "serve.recs_p99_ms": round(med["recs"]["p99_ms"], 2),
        "serve.recs_304_p99_ms": round(med["recs_304"]["p99_ms"], 2),
        "serve.plain_p99_ms": round(med["plain"]["p99_ms"], 2),
        "serve.taggit_p99_ms": round(med["taggit"]["p99_ms"], 2),
        "serve.cache": cache,
        "serve.setup": f"wrk -t1 -c{CONNECTIONS}, {ROUNDS} interleaved rounds of {SECONDS} s (list and plain view "
        f"back to back, each first in turn; {SETTLE:g} s between runs), medians",
        "serve.rounds": {name: [round(r["rps"], 1) for r in rs] for name, rs in runs.items()},
    }


def stop(process: subprocess.Popen[bytes] | None) -> None:
    if process is not None and process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def failed(error: str) -> dict[str, Any]:
    """A results entry that bench/run.py can print, saying why there are no figures."""
    print(f"serving benchmark failed: {error}", file=sys.stderr)
    return {"name": "serving", "ours_s": None, "baseline": "plain Django view", "baseline_s": None,
            "speedup": None, "target": "ratio_vs_plain >= 0.8", "met": False, "error": error}  # fmt: skip


def bench_serve() -> dict[str, Any]:
    """Run the serving benchmark; the results entry for bench/run.py (with `serve.*` figures)."""
    if shutil.which("wrk") is None:
        return failed("wrk is not installed (apt-get install -y wrk)")
    workdir = Path(tempfile.mkdtemp(prefix="bench-serve-"))
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env.update(DATABASE_URL=f"sqlite:///{workdir / 'bench.sqlite3'}", DJANGO_SETTINGS_MODULE="shop.settings")
    server: subprocess.Popen[bytes] | None = None
    try:
        prepare_database(env)
        with_redis = redis_answers()
        cache = REDIS_URL if with_redis else "locmem: Redis did not answer at " + REDIS_URL
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        body_file = workdir / "plain.json"
        server_env = {
            **env,
            "DJANGO_SETTINGS_MODULE": "bench.serve_settings",
            "DJANGO_DEBUG": "false",
            "DJANGO_SECURE_SSL_REDIRECT": "false",
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
            "BENCH_PLAIN_BODY": str(body_file),
            **({"REDIS_URL": REDIS_URL} if with_redis else {}),
        }
        body_file.write_bytes(b"{}")
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--workers", "1", "--worker-class", "sync",
             "--bind", f"127.0.0.1:{port}", "--log-level", "warning", "shop.wsgi:application"],
            cwd=ROOT, env=server_env,
        )  # fmt: skip
        wait_until_up(base, server)
        status, body, headers = fetch(f"{base}/api/v1/pages/{RLS}/recommendations/")
        if status != 200:
            raise RuntimeError(f"the list endpoint answered {status}: {body[:300]!r}")
        body_file.write_bytes(body)
        stop(server)  # the plain view reads its bytes once per process: restart it with the real ones
        server = subprocess.Popen(server.args, cwd=ROOT, env=server_env)  # type: ignore[call-overload]
        wait_until_up(base, server)
        assert fetch(f"{base}/bench/plain/")[1] == body == fetch(f"{base}/api/v1/pages/{RLS}/recommendations/")[1]
        assert fetch(f"{base}/api/v1/pages/{RLS}/recommendations/", {"If-None-Match": headers["ETag"]})[0] == 304
        assert fetch(f"{base}/bench/similar/{DROPS}/")[0] == 200
        return summarise(measure(base, headers["ETag"]), cache)
    except (RuntimeError, subprocess.SubprocessError, AssertionError, OSError) as error:
        return failed(f"{type(error).__name__}: {error}")
    finally:
        stop(server)
        shutil.rmtree(workdir, ignore_errors=True)


def machine() -> dict[str, Any]:
    """Where the figures were taken: they are ratios, but the machine says how busy the cores were."""
    import redis

    versions: dict[str, Any] = {"cores": os.cpu_count(), "python": platform.python_version()}
    try:
        server: Any = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).info("server")
        versions["redis"] = server["redis_version"]
    except redis.RedisError:
        versions["redis"] = None
    versions["load_average"] = [round(x, 2) for x in os.getloadavg()]
    return versions


def main() -> dict[str, Any]:
    """The serving benchmark alone: its results, also written to bench/results/serve.json."""
    results = {**bench_serve(), "machine": machine(), "measured_at": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    return results


if __name__ == "__main__":
    print(json.dumps(main(), indent=2))
