"""Announce changes after commit, coalescing bursts into one debounced refresh.

Receivers call `products_changed`, `pages_changed` or `everything_changed`. After the transaction
commits, the ids go into Redis sets and one `drain_dirty` task is scheduled a moment later; every
change made before it runs is refreshed by that one task, so a 500-row import refreshes each
affected page once. Inside `refresh_batch()` the ids of the block are announced together.

A rolled-back transaction announces nothing. When Redis (the broker) is away at commit time, the
ids are written to the `DirtyMark` table instead and the periodic drain picks them up, so a save
never fails and no change is lost. Without a broker (the embedded mode, tests) tasks run in-process.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from functools import partial
from typing import Any

from celery import current_app
from django.db import transaction

from recommender.conf import recommender_settings

logger = logging.getLogger(__name__)
_local = threading.local()
KINDS = ("products", "pages", "all")
SCHEDULED_KEY = "recommender:dirty:scheduled"


def dirty_key(kind: str) -> str:
    return f"recommender:dirty:{kind}"


def _batch() -> dict[str, set[int]] | None:
    return getattr(_local, "batch", None)


def enqueue_on_commit(task: Any, *args: Any) -> None:
    """`task.delay(*args)` once the current transaction commits (at once outside one).

    Plain `on_commit` rather than Celery's `delay_on_commit`, which exists only when the host's
    Celery app uses Django's task class.
    """
    transaction.on_commit(partial(task.delay, *args))


def redis_client() -> Any | None:
    """The django-redis client of the default cache, or None when the cache is not Redis."""
    try:
        from django_redis import get_redis_connection

        return get_redis_connection("default")
    except (ImportError, NotImplementedError):
        return None


def _run_in_process(kind: str, ids: list[int]) -> None:
    from recommender import tasks

    if kind == "all":
        tasks.refresh_all_pages.delay()
    elif kind == "products":
        tasks.refresh_for_products.delay(ids)
    else:
        tasks.refresh_pages.delay(ids)


def _announce(kind: str, ids: list[int]) -> None:
    """After commit: mark ids dirty in Redis and schedule one drain; fall back to the outbox table."""
    if current_app.conf.task_always_eager:
        _run_in_process(kind, ids)
        return
    try:
        client = redis_client()
        if client is None:
            raise ConnectionError("the cache is not Redis; cannot coalesce")
        client.sadd(dirty_key(kind), *(ids or [0]))
        debounce = recommender_settings.DEBOUNCE_SECONDS
        if client.set(SCHEDULED_KEY, 1, nx=True, ex=max(int(debounce * 10), 10)):
            from recommender.tasks import drain_dirty

            drain_dirty.apply_async(countdown=debounce)
    except Exception:  # the broker is away: keep the change in the database
        logger.warning("Redis unavailable; %s %s kept in the outbox", kind, ids, exc_info=True)
        from recommender.models import DirtyMark

        DirtyMark.objects.bulk_create([DirtyMark(kind=kind, object_id=i) for i in ids] or [DirtyMark(kind=kind)])


def _mark(kind: str, ids: Iterable[int]) -> None:
    unique = sorted(set(ids))
    batch = _batch()
    if batch is not None:
        batch[kind].update(unique or [0])
    elif unique or kind == "all":
        transaction.on_commit(partial(_announce, kind, unique))


def products_changed(product_ids: Iterable[int]) -> None:
    """Refresh the pages these products can appear on, after commit."""
    _mark("products", product_ids)


def pages_changed(page_ids: Iterable[int]) -> None:
    """Refresh these pages, after commit."""
    _mark("pages", page_ids)


def everything_changed() -> None:
    """The taxonomy changed: every page may change."""
    _mark("all", [])


def pop_dirty() -> dict[str, set[int]]:
    """Take every pending id out of Redis and the outbox, atomically per store."""
    from recommender.models import DirtyMark

    taken: dict[str, set[int]] = {kind: set() for kind in KINDS}
    client = redis_client()
    if client is not None:
        client.delete(SCHEDULED_KEY)  # first, so a change from now on schedules a new drain
        pipe = client.pipeline(transaction=True)
        for kind in KINDS:
            pipe.smembers(dirty_key(kind))
            pipe.delete(dirty_key(kind))
        replies = pipe.execute()
        for kind, members in zip(KINDS, replies[::2], strict=True):
            taken[kind].update(int(m) for m in members)
    with transaction.atomic():
        marks = list(DirtyMark.objects.select_for_update(skip_locked=True).values_list("pk", "kind", "object_id"))
        DirtyMark.objects.filter(pk__in=[pk for pk, _, _ in marks]).delete()
    for _, kind, object_id in marks:
        taken.setdefault(kind, set()).add(object_id or 0)
    return taken


@contextmanager
def refresh_batch() -> Iterator[None]:
    """Collect the changes made inside the block and announce them together when it ends."""
    outer = _batch()
    if outer is not None:
        yield
        return
    _local.batch = {kind: set() for kind in KINDS}
    try:
        yield
        batch = _local.batch
    finally:
        _local.batch = None
    if batch["all"]:
        everything_changed()
        return
    products_changed(i for i in batch["products"] if i)
    pages_changed(i for i in batch["pages"] if i)
