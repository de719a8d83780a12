"""Celery tasks: take ids, call one service, retry with a bound. No business logic here."""

from __future__ import annotations

from celery import shared_task
from django.db import DatabaseError

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
def refresh_all_pages() -> int:
    """Periodic full refresh: repairs anything an incremental refresh missed."""
    count = pages_refresh().pages
    related_refresh()
    return count
