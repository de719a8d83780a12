"""Celery tasks: take ids, call one service, retry with a bound. No business logic here."""

from __future__ import annotations

from celery import shared_task
from django.db import DatabaseError

from recommender.dirty import pop_dirty
from recommender.services.refresh import page_refresh, pages_affected_by_products, pages_refresh
from recommender.services.related import related_refresh

RETRY = {
    "acks_late": True,
    "reject_on_worker_lost": True,
    "autoretry_for": (DatabaseError,),
    "retry_backoff": True,
    "retry_backoff_max": 60,
    "max_retries": 5,
}


@shared_task(**RETRY)
def refresh_page(page_id: int) -> int:
    """Recompute one page's list."""
    return page_refresh(page_id=page_id)


@shared_task(**RETRY)
def refresh_pages(page_ids: list[int]) -> int:
    """Recompute these pages, then the product-page lists that show articles."""
    count = pages_refresh(page_ids=page_ids).pages
    related_refresh()
    return count


@shared_task(**RETRY)
def refresh_for_products(product_ids: list[int]) -> int:
    """Recompute the pages these products can appear on, then the product-page lists."""
    count = pages_refresh(page_ids=pages_affected_by_products(product_ids)).pages
    related_refresh()
    return count


@shared_task(**RETRY)
def drain_dirty() -> int:
    """Refresh everything marked dirty since the last drain (debounced; also run periodically)."""
    dirty = pop_dirty()
    if dirty.get("all"):
        return refresh_all_pages()
    page_ids = {i for i in dirty.get("pages", set()) if i}
    products = [i for i in dirty.get("products", set()) if i]
    if products:
        page_ids |= set(pages_affected_by_products(products))
    if not page_ids and not products:
        return 0
    count = pages_refresh(page_ids=sorted(page_ids)).pages
    related_refresh()
    return count


@shared_task(**RETRY)
def refresh_all_pages() -> int:
    """Periodic full refresh: repairs anything an incremental refresh missed."""
    count = pages_refresh().pages
    related_refresh()
    return count
