"""Celery tasks: take ids, call the one refresh service, retry with a bound. No business logic here."""

from __future__ import annotations

import logging
import uuid

from celery import chord, current_app, shared_task
from celery.exceptions import SoftTimeLimitExceeded
from celery.signals import worker_init, worker_process_init
from django.db import DatabaseError

from recommender.conf import recommender_settings
from recommender.dirty import mark_again, pop_dirty
from recommender.services.refresh import chunks_for_full_refresh, recommendations_refresh
from recommender.services.snapshot import keep_and_warm, keep_engines

logger = logging.getLogger(__name__)

# Failures a task retries: the database failing for a moment (a restart, a serialization failure), running out
# of time. Anything else is a bug and is not retried.
TRANSIENT = (DatabaseError, SoftTimeLimitExceeded)

RETRY = {
    "acks_late": True,
    "reject_on_worker_lost": True,
    "autoretry_for": TRANSIENT,
    # Retries 1, 2, 4, 8 and 16 s after a failure: together longer than a database restart. Without jitter on
    # purpose: Celery's default full jitter draws each delay from 0 up to these, so all five retries could
    # fall inside one second of an outage and the task give up.
    "retry_backoff": True,
    "retry_backoff_max": 60,
    "retry_jitter": False,
    "max_retries": 5,
}


@shared_task(**RETRY)
def refresh_page(page_id: int) -> int:
    """Recompute one page's list and what depends on it."""
    return recommendations_refresh(page_ids=[page_id]).pages


@shared_task(**RETRY)
def refresh_pages(page_ids: list[int]) -> int:
    """Recompute these pages and the product-page lists that can show them."""
    return recommendations_refresh(page_ids=page_ids).pages


@shared_task(**RETRY)
def refresh_for_products(product_ids: list[int]) -> int:
    """Recompute what these products can appear on, and their neighbours' related lists."""
    return recommendations_refresh(product_ids=product_ids).pages


@shared_task(**RETRY)
def refresh_chunk(page_ids: list[int], product_ids: list[int], run: str | None = None) -> int:
    """One chunk of a fanned-out full refresh (`run`): exactly these lists; idempotent, safe to redeliver."""
    return recommendations_refresh(page_ids=page_ids, product_ids=product_ids, expand=False, run=run).pages


@shared_task
def refresh_finished(counts: list[int]) -> int:
    """The chord's end: record that a full refresh completed."""
    logger.info("full refresh finished: %d pages in %d chunks", sum(counts), len(counts))
    return sum(counts)


@shared_task(**RETRY)
def refresh_all_pages() -> int | None:
    """Periodic full refresh (repairs anything missed), fanned out as a chord of page and product chunks.

    Without a result backend (a chord needs one) or in eager mode, the chunks run here, one after another.
    """
    chunks = chunks_for_full_refresh()
    run = uuid.uuid4().hex
    if current_app.conf.task_always_eager or not current_app.conf.result_backend:
        return int(refresh_finished([refresh_chunk(pages, products, run) for pages, products in chunks]))
    chord(refresh_chunk.s(pages, products, run) for pages, products in chunks)(refresh_finished.s())
    return None


@shared_task(**RETRY)
def drain_dirty() -> int:
    """Refresh everything marked dirty since the last drain (debounced; also run periodically).

    If the drain fails in a way it retries (the database fails, or it runs out of time), what it took is marked
    dirty again before it retries: nothing is lost.
    """
    taken = pop_dirty()
    try:
        if taken["all"]:
            return recommendations_refresh().pages
        pages = sorted(i for i in taken["pages"] if i)
        products = sorted(i for i in taken["products"] if i)
        if not pages and not products:
            return 0
        return recommendations_refresh(page_ids=pages, product_ids=products).pages
    except TRANSIENT:
        mark_again(taken.ids)
        raise


def limit_blas_threads(**kwargs: object) -> None:
    """numpy's BLAS would take a second core past ~10k products; a worker leaves it to the database."""
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=recommender_settings.WORKER_BLAS_THREADS, user_api="blas")


def pin_blas_threads_in_workers() -> None:
    """Apply `WORKER_BLAS_THREADS` in every worker process as it starts."""
    worker_process_init.connect(limit_blas_threads, dispatch_uid="recommender-blas-threads", weak=False)


def keep_engines_in_workers() -> None:
    """Worker processes keep their engine between refreshes (`services.snapshot`): set in the worker's main
    process (the thread pool runs tasks there) and in each process that runs tasks, which also builds its
    first engine as it starts."""
    worker_init.connect(keep_engines, dispatch_uid="recommender-keep-engines", weak=False)
    worker_process_init.connect(keep_and_warm, dispatch_uid="recommender-keep-engines-child", weak=False)
