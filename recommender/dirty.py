"""Enqueue refreshes after commit, coalescing a burst of changes into one task.

Receivers call `products_changed` / `pages_changed`. Inside `refresh_batch()` (imports, bulk
actions) ids are collected and one task per kind is enqueued when the batch ends; elsewhere each
call enqueues after the surrounding transaction commits. A rolled-back transaction enqueues nothing.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from functools import partial
from typing import Any

from django.db import transaction

_local = threading.local()


def _batch() -> dict[str, set[int]] | None:
    return getattr(_local, "batch", None)


def enqueue_on_commit(task: Any, *args: Any) -> None:
    """`task.delay(*args)` once the current transaction commits (at once outside one).

    Plain `on_commit` rather than Celery's `delay_on_commit`, which exists only when the host's
    Celery app uses Django's task class.
    """
    transaction.on_commit(partial(task.delay, *args))


def products_changed(product_ids: Iterable[int]) -> None:
    """Refresh the pages these products can appear on, after commit."""
    ids = sorted(set(product_ids))
    batch = _batch()
    if batch is not None:
        batch["products"].update(ids)
    elif ids:
        from recommender.tasks import refresh_for_products

        enqueue_on_commit(refresh_for_products, ids)


def pages_changed(page_ids: Iterable[int]) -> None:
    """Refresh these pages, after commit."""
    ids = sorted(set(page_ids))
    batch = _batch()
    if batch is not None:
        batch["pages"].update(ids)
    elif ids:
        from recommender.tasks import refresh_pages

        enqueue_on_commit(refresh_pages, ids)


def everything_changed() -> None:
    """The taxonomy changed: every page may change."""
    batch = _batch()
    if batch is not None:
        batch["all"].add(1)
    else:
        from recommender.tasks import refresh_all_pages

        enqueue_on_commit(refresh_all_pages)


@contextmanager
def refresh_batch() -> Iterator[None]:
    """Collect changes made inside the block; enqueue one refresh of each kind when it ends."""
    outer = _batch()
    if outer is not None:
        yield
        return
    _local.batch = {"products": set(), "pages": set(), "all": set()}
    try:
        yield
        batch = _local.batch
    finally:
        _local.batch = None
    if batch["all"]:
        everything_changed()
        return
    products_changed(batch["products"])
    pages_changed(batch["pages"])
