"""Every cache key the plugin uses, in one place."""

from __future__ import annotations


def cache_key(slug: str) -> str:
    """Where a page's rendered list lives in the cache."""
    return f"recommender:list:{slug}"


def version_key(slug: str) -> str:
    """Where a page's list version lives; deleting it orphans every cached API response of the page."""
    return f"recommender:version:{slug}"


def list_cache_keys(slug: str) -> list[str]:
    """The keys to drop when a page's stored list changes or the page goes."""
    return [cache_key(slug), version_key(slug)]
