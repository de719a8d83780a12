"""Every cache key the plugin uses, in one place."""

from __future__ import annotations

import hashlib
from functools import lru_cache


def cache_key(slug: str) -> str:
    """Where a page's rendered list lives in the cache."""
    return f"recommender:list:{slug}"


def version_key(slug: str) -> str:
    """Where a page's list version lives; deleting it orphans every cached API response of the page."""
    return f"recommender:version:{slug}"


def list_cache_keys(slug: str) -> list[str]:
    """The keys to drop when a page's stored list changes or the page goes."""
    return [cache_key(slug), version_key(slug)]


@lru_cache(maxsize=256)
def digest(text: str) -> str:
    """A short stable hash, to keep arbitrary hosts and urls out of cache keys (memcached forbids spaces)."""
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def response_key(origin: str, slug: str, limit: int, language: str) -> str:
    """Where the API response of a page's list for one limit, origin and language is stored (any version)."""
    return f"recommender:response:{slug}:{limit}:{language}:{digest(origin)}"


def throttle_key(scope: str, ident: str, window: int) -> str:
    """A client's request counter for one fixed throttle window."""
    return f"throttle_{scope}_{ident}_{window}"
