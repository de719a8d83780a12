"""The bounds on a worker's pool children (issue 15): `CELERY_MAX_MEMORY_PER_CHILD_KB` and
`CELERY_MAX_TASKS_PER_CHILD` replace the child that ran a task. A real `celery -A shop worker` (prefork pool, one
child) on Redis and PostgreSQL refreshes a demo page's list again and again; the test reads the child's pid from
the worker's own remote control (`inspect stats`) before and after each task.

With a bound passed, every task ends in a new child and its list is still stored; at the defaults (600,000 KiB,
200 tasks) one child serves every task, so the bound, not anything else, is what replaced the child.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from recommender.models import ContentPage, PageState, Recommendation
from recommender.tasks import refresh_page
from shop.celery import app as celery_app
from tests.integration.conftest import Worker, load_demo, page_skus, wait_for

pytestmark = pytest.mark.integration

RLS = "how-to-treat-restless-leg-syndrome"
TASK = "recommender.tasks.refresh_page"
TASKS = 3  # refreshes each test sends, one after another
LOW_KB = 10_000  # 10 MB: a child that has imported Django alone is well past it


def node(name: str) -> str:
    """The node name a worker started as `--hostname={name}@%h` has."""
    return f"{name}@{socket.gethostname()}"


def stats(name: str) -> dict[str, Any]:
    """What the worker reports of itself (`celery inspect stats`); empty if it did not answer in time."""
    replies = celery_app.control.inspect(destination=[node(name)], timeout=2).stats() or {}
    return dict(replies.get(node(name)) or {})


def worker_conf(name: str) -> dict[str, Any]:
    """The worker's own configuration, as it reports it (`celery inspect conf`)."""
    replies = celery_app.control.inspect(destination=[node(name)], timeout=5).conf(with_defaults=True) or {}
    return dict(replies[node(name)])


def children(name: str) -> list[int]:
    return list(stats(name).get("pool", {}).get("processes", []))


def child_other_than(name: str, old: int | None) -> int:
    """Wait until the worker reports exactly one pool child and it is not `old`; its pid."""
    found = wait_for(lambda: (pids := children(name)) and len(pids) == 1 and pids[0] != old and pids, timeout=60)
    return int(found[0])


def rss_kb(pid: int) -> tuple[int, int]:
    """A live process's resident memory and its peak (VmRSS, VmHWM), in KiB."""
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    assert fields["State"].split()[0] not in {"Z", "X"}, f"child {pid} has exited"
    return int(fields["VmRSS"].split()[0]), int(fields["VmHWM"].split()[0])


def refresh_after_rows_removed(page: ContentPage, expected: list[str]) -> None:
    """Remove the page's stored rows behind the service's back, have the worker refresh the page, and see the
    task's result arrive and the list stored again as it was."""
    generation = PageState.objects.get(page=page).generation
    Recommendation.objects.filter(page=page).delete()
    assert page_skus(page.slug) == []
    assert refresh_page.delay(page.pk).get(timeout=120) >= 1
    assert page_skus(page.slug) == expected
    assert PageState.objects.get(page=page).generation == generation + 1


def serve(worker_factory: Callable[..., Worker], name: str, *, replaced: bool, **env: str) -> list[int]:
    """Start a prefork worker with `env` and have it refresh the demo page `TASKS` times, one task after another;
    the pid of its one child before the first task and after each. With `replaced`, wait after each task for a
    child other than the one that ran it; without, the child the worker reports then is taken as it comes."""
    load_demo()
    page = ContentPage.objects.get(slug=RLS)
    expected = page_skus(RLS)
    assert expected, "the demo page has no list to refresh"
    worker_factory(name=name, pool="prefork", **env)
    celery_app.conf.task_always_eager = False
    pids = [child_other_than(name, None)]
    for _ in range(TASKS):
        ran = pids[-1]
        rss_kb(ran)  # alive when it takes the task
        refresh_after_rows_removed(page, expected)
        pids.append(child_other_than(name, ran if replaced else None))
        if replaced:
            assert not Path(f"/proc/{ran}").exists(), f"child {ran} was reported replaced but still runs"
    assert stats(name)["total"] == {TASK: TASKS}, "the worker ran other tasks too"
    return pids


def test_memory_bound_replaces_the_child_after_a_task(worker_factory: Callable[..., Worker]) -> None:
    pids = serve(worker_factory, "membound", replaced=True, CELERY_MAX_MEMORY_PER_CHILD_KB=str(LOW_KB))
    assert len(set(pids)) == TASKS + 1, pids
    conf = worker_conf("membound")
    assert conf["worker_max_memory_per_child"] == LOW_KB
    assert conf["worker_max_tasks_per_child"] == 200  # the other bound stays at its default: not what acted
    print(f"memory bound {LOW_KB} KiB: children {pids}")


def test_task_bound_replaces_the_child_after_a_task(worker_factory: Callable[..., Worker]) -> None:
    pids = serve(worker_factory, "taskbound", replaced=True, CELERY_MAX_TASKS_PER_CHILD="1")
    assert len(set(pids)) == TASKS + 1, pids
    conf = worker_conf("taskbound")
    assert conf["worker_max_tasks_per_child"] == 1
    assert conf["worker_max_memory_per_child"] == 600_000
    print(f"task bound 1: children {pids}")


def test_at_the_default_bounds_one_child_serves_every_task(worker_factory: Callable[..., Worker]) -> None:
    pids = serve(worker_factory, "defaults", replaced=False)
    conf = worker_conf("defaults")
    assert (conf["worker_max_memory_per_child"], conf["worker_max_tasks_per_child"]) == (600_000, 200)
    assert len(set(pids)) == 1, f"the child was replaced at the default bounds: {pids}"
    rss, peak = rss_kb(pids[0])  # still alive after the last task
    # Past the low bound the other test sets, under the default: the bound decides, not the task.
    assert LOW_KB < rss <= peak < 600_000
    print(f"default bounds: child {pids[0]} served {TASKS} tasks; RSS {rss} KiB, peak {peak} KiB")
