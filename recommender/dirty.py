"""Announce changes after commit, coalescing bursts into one debounced refresh.

Receivers call `products_changed`, `pages_changed` or `everything_changed`. After the transaction
commits, the ids go into Redis sets and one `drain_dirty` task is scheduled a moment later; every
change made before it runs is refreshed by that one task, so a 500-row import refreshes each
affected page once. Inside `refresh_batch()` the ids of the block are announced together.

A rolled-back transaction announces nothing. When Redis (the broker) is away at commit time, the
ids are written to the `DirtyMark` table instead and the periodic drain picks them up, so a save
never fails and no change is lost. Without a broker (the embedded mode, tests) the same drain runs at once.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from typing import Any

import orjson
from celery import current_app
from django.db import DatabaseError, transaction

from recommender.conf import recommender_settings

logger = logging.getLogger(__name__)
_local = threading.local()
KINDS = ("products", "pages", "all")
SCHEDULED_KEY = "recommender:dirty:scheduled"
DRAINS_KEY = "recommender:dirty:drains"  # the last drain's number (see `pop_dirty`, `drains_taken`)
LOG_SECONDS = 3600  # how long a drain's entry in the shared log is kept (see `changes_between`)
EPOCH_KEY = "recommender:dirty:epoch"  # the drain log's epoch (see `DrainMark`)
LOG_SPAN = 1000  # a snapshot further behind than this many drains is built again, not patched
DRAIN_TASK = "recommender.tasks.drain_dirty"


def dirty_key(kind: str) -> str:
    return f"recommender:dirty:{kind}"


def _batch() -> dict[str, set[int]] | None:
    return getattr(_local, "batch", None)


def redis_client() -> Any | None:
    """The django-redis client of the default cache, or None when the cache is not Redis."""
    try:
        from django_redis import get_redis_connection

        return get_redis_connection("default")
    except (ImportError, NotImplementedError):
        return None


def _drain() -> Any:
    """The drain task, looked up by name so that this module never imports the tasks (no import cycle)."""
    return current_app.tasks[DRAIN_TASK]


def _store(kind: str, ids: list[int]) -> bool:
    """Mark ids dirty in Redis; False when Redis is away (or not the cache), so the caller uses the outbox."""
    try:
        client = redis_client()
        if client is None:
            return False
        client.sadd(dirty_key(kind), *(ids or [0]))
        return True
    except Exception:
        logger.warning("Redis unavailable; %s %s kept in the outbox", kind, ids, exc_info=True)
        return False


def _store_in_outbox(kind: str, ids: list[int]) -> None:
    from recommender.models import DirtyMark

    DirtyMark.objects.bulk_create([DirtyMark(kind=kind, object_id=i) for i in ids] or [DirtyMark(kind=kind)])


def _schedule_drain() -> None:
    """One drain a moment from now, unless one is already scheduled (Redis coalesces the burst)."""
    debounce = recommender_settings.DEBOUNCE_SECONDS
    try:
        client = redis_client()
        scheduled = client is not None and client.set(SCHEDULED_KEY, 1, nx=True, ex=max(int(debounce * 10), 10))
    except Exception:
        scheduled = False
    if scheduled or current_app.conf.task_always_eager:
        _drain().apply_async(countdown=debounce)


def _announce(kind: str, ids: list[int]) -> None:
    """After commit: mark ids dirty (Redis, or the outbox table when Redis is away) and schedule a drain.

    Eager mode (no broker: the embedded default and the tests) takes the same path; its drain just
    runs at once, so the production drain is what every unit test exercises.
    """
    if not _store(kind, ids):
        _store_in_outbox(kind, ids)
    _schedule_drain()


def mark_again(taken: dict[str, set[int]]) -> None:
    """Put ids a drain took back (it ran out of time); the retried drain takes them again."""
    for kind, ids in taken.items():
        if ids and not _store(kind, sorted(ids)):
            _store_in_outbox(kind, sorted(ids))


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


@dataclass
class Taken:
    """What one drain took: the ids per kind, and the drain's number in the shared log (None without Redis)."""

    ids: dict[str, set[int]]
    number: int | None = None

    def __getitem__(self, kind: str) -> set[int]:
        return self.ids.get(kind, set())


@dataclass(frozen=True)
class Changes:
    """What a run of drains took, as far as a kept engine needs to know: the products, and whether any page
    changed (the engine keeps what it built from the pages only while none did)."""

    products: set[int]
    pages: bool


@dataclass(frozen=True)
class DrainMark:
    """Where the drain log stands: its epoch (new whenever Redis lost the log, e.g. a flush or a restart
    without persistence, so numbers start again) and the number of the last drain."""

    epoch: str
    number: int


def pop_dirty() -> Taken:
    """Take every pending id out of Redis and the outbox, atomically per store, and log what was taken.

    With Redis, each drain gets the next number from `DRAINS_KEY` in the same transaction as it takes the
    ids (so numbers follow the order drains took changes) and logs the product ids it took under that
    number (see `changes_between`): a worker that keeps a catalog snapshot brings it up to date by reading
    what the drains since took. When the outbox cannot be read (the database is away), the ids taken from
    Redis are put back before the error is raised, so the drain's retry finds them again.
    """
    from recommender.models import DirtyMark

    taken: dict[str, set[int]] = {kind: set() for kind in KINDS}
    client = redis_client()
    number, epoch = None, ""
    if client is not None:
        pipe = client.pipeline(transaction=True)
        pipe.delete(SCHEDULED_KEY)  # first, so a change from now on schedules a new drain
        for kind in KINDS:
            pipe.smembers(dirty_key(kind))
            pipe.delete(dirty_key(kind))
        start_epoch(pipe)
        pipe.get(EPOCH_KEY)
        pipe.incr(DRAINS_KEY)
        replies = pipe.execute()
        for kind, members in zip(KINDS, replies[1:-3:2], strict=True):
            taken[kind].update(int(m) for m in members)
        epoch, number = replies[-2].decode(), int(replies[-1])
    try:
        with transaction.atomic():
            marks = list(DirtyMark.objects.select_for_update(skip_locked=True).values_list("pk", "kind", "object_id"))
            DirtyMark.objects.filter(pk__in=[pk for pk, _, _ in marks]).delete()
    except DatabaseError:
        mark_again(taken)  # the database is away: what was taken from Redis goes back for the retried drain
        raise
    for _, kind, object_id in marks:
        taken.setdefault(kind, set()).add(object_id or 0)
    if number is not None and not _log_taken(client, epoch, number, taken):
        number = None
    return Taken(taken, number)


def _log_taken(client: Any, epoch: str, number: int, taken: dict[str, set[int]]) -> bool:
    """Log the products drain `number` took, whether it took pages (or that it took "all"); False when Redis
    fails here (readers then find no entry for this number and build a new snapshot)."""
    entry = {
        "epoch": epoch,
        "all": bool(taken["all"]),
        "pages": bool(taken["pages"]),
        "products": sorted(i for i in taken["products"] if i),
    }
    try:
        client.set(log_key(number), orjson.dumps(entry), ex=LOG_SECONDS)
        return True
    except Exception:
        logger.warning("Redis unavailable; drain %d was not logged", number, exc_info=True)
        return False


def start_epoch(pipe: Any) -> None:
    """Queue the start of a new epoch on a pipeline, unless the log has one (a new install, or Redis lost it)."""
    pipe.set(EPOCH_KEY, uuid.uuid4().hex, nx=True)


def log_key(number: int) -> str:
    return f"recommender:dirty:log:{number}"


def changes_between(epoch: str, first: int, last: int) -> Changes | None:
    """What drains `first` to `last` (both included) of this epoch took, or None when that is not known: a
    drain in the range took "all" (the taxonomy changed), its entry expired, is not written yet or belongs to
    another epoch, or Redis does not answer. None means: only a new snapshot of the catalog is exact. An
    entry that does not say whether its drain took pages (written before entries did) counts as one that did."""
    if last < first:
        return Changes(set(), pages=False)
    if last - first >= LOG_SPAN:
        return None
    try:
        client = redis_client()
        entries = None if client is None else client.mget([log_key(n) for n in range(first, last + 1)])
    except Exception:
        return None
    if entries is None or any(entry is None for entry in entries):
        return None
    products: set[int] = set()
    pages = False
    for entry in entries:
        data = orjson.loads(entry)
        if data["all"] or data.get("epoch") != epoch:
            return None
        products.update(data["products"])
        pages = pages or data.get("pages", True)
    return Changes(products, pages)


def drains_taken() -> DrainMark | None:
    """The log's epoch and the number of the last drain that took changes, or None without Redis (or when it
    does not answer).

    A catalog snapshot read after this call reflects every change that drains up to this number took;
    `changes_between` names what the drains after it took. When Redis holds no log (a new install, a flush),
    the epoch starts here, so the engine a worker builds as it starts is still current at the first drain.
    """
    try:
        client = redis_client()
        if client is None:
            return None
        pipe = client.pipeline(transaction=True)
        start_epoch(pipe)
        pipe.mget([EPOCH_KEY, DRAINS_KEY])
        epoch, number = pipe.execute()[-1]
    except Exception:
        return None
    return DrainMark(epoch.decode(), int(number or 0))


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
