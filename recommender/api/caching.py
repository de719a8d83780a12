"""The read hot path: recommendation lists served as pre-rendered JSON bytes, one cache round trip a hit.

Widgets on busy articles ask for the same few lists over and over. The rendered response of a page, for one
limit and one origin (scheme + host: the list carries absolute urls), is stored as `(list version, bytes,
ETag)` under a key that does not change with the version. A read fetches that entry and the page's current
version (`selectors.list_version`) together, and with django-redis also bumps the throttle counter, in one
pipelined round trip; the entry is served only when its version is the current one. `pages_store` deletes the
version on commit when a list changed, so a refresh makes every stored response of the page stale at once, and
the next miss overwrites the entry (nothing is orphaned). The version is read before the list is, so bytes
built from a list a concurrent refresh has just replaced carry a version nobody will read again. When Redis is
away (django-redis `IGNORE_EXCEPTIONS`) every read is a miss and is served from the database; the throttle
then lets requests through.

By-url reads remember url -> slug in this process only (`LocalSlugs`, 60 s): a remembered slug is
trusted only together with a current stored response of that page, as before.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from django.core.cache import cache, caches
from django.http import HttpRequest, HttpResponse
from django.utils.http import parse_etags
from django.utils.translation import get_language
from rest_framework.renderers import JSONRenderer

from recommender import metrics
from recommender.cachekeys import version_key
from recommender.conf import recommender_settings
from recommender.selectors import list_version

try:  # django-redis is how the project runs with Redis; any other cache backend works through the cache API
    from django_redis.cache import RedisCache
    from django_redis.client import DefaultClient
    from redis.exceptions import RedisError
except ImportError:  # pragma: no cover
    RedisCache = DefaultClient = RedisError = None  # type: ignore[assignment,misc]

CACHE_CONTROL = "public, max-age=60"
logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Counter:
    """A throttle counter: incremented once per request, expiring with its window."""

    key: str
    ttl: int


@dataclass(frozen=True)
class Lookup:
    """What one read found: the stored entry of (page, limit, origin) and the page's current version."""

    key: str
    entry: tuple[str, bytes, str] | None
    version: str | None

    def fresh(self) -> tuple[bytes, str] | None:
        """The stored bytes and ETag, if they were built from the current list."""
        if self.entry is None or self.version is None or self.entry[0] != self.version:
            return None
        return self.entry[1], self.entry[2]


@lru_cache(maxsize=256)
def digest(text: str) -> str:
    """A short stable hash, to keep arbitrary hosts and urls out of cache keys (memcached forbids spaces)."""
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def response_key(origin: str, slug: str, limit: int) -> str:
    """Where the rendered list of this page, limit, origin and language is stored (whatever its version)."""
    return f"recommender:response:{slug}:{limit}:{get_language() or 'en'}:{digest(origin)}"


def origin(request: HttpRequest) -> str:
    """Scheme and host of the request; `get_host` also refuses hosts outside ALLOWED_HOSTS."""
    return f"{request.scheme}://{request.get_host()}"


def fetch(keys: list[str], counter: Counter | None = None) -> tuple[list[Any], int | None]:
    """The values under `keys` (None when missing) and the counter after one increment, if one is given.

    With django-redis this is one pipelined round trip (INCR, EXPIRE, MGET); with another cache backend
    it goes through the cache API. A Redis error counts as a miss with no count, when errors are ignored.
    """
    backend = caches["default"]
    if RedisCache is not None and isinstance(backend, RedisCache) and type(backend.client) is DefaultClient:
        return redis_fetch(backend, keys, counter)
    found = backend.get_many(keys)
    return [found.get(key) for key in keys], (count_hit(counter) if counter else None)


def redis_fetch(backend: Any, keys: list[str], counter: Counter | None) -> tuple[list[Any], int | None]:
    client = backend.client
    try:
        pipe = client.get_client(write=True).pipeline(transaction=False)
        if counter is not None:
            pipe.incr(client.make_key(counter.key))
            pipe.expire(client.make_key(counter.key), counter.ttl)
        pipe.mget([client.make_key(key) for key in keys])
        replies = pipe.execute()
    except RedisError:
        if not getattr(backend, "_ignore_exceptions", False):
            raise
        logger.warning("Redis is unavailable; serving the list from the database", exc_info=True)
        return [None] * len(keys), None
    values = [None if value is None else client.decode(value) for value in replies[-1]]
    return values, (int(replies[0]) if counter is not None else None)


def count_hit(counter: Counter) -> int:
    """Increment a counter through the cache API (the pipeline does this itself); 1 when no cache keeps it."""
    cache.add(counter.key, 0, counter.ttl)
    try:
        count = cache.incr(counter.key)
    except ValueError:  # expired between add and incr, or a cache that keeps nothing
        return 1
    return 1 if count is None else int(count)  # None: django-redis ignored an error


def lookup(request: HttpRequest, slug: str, limit: int, counter: Counter | None = None) -> tuple[Lookup, int | None]:
    """The stored response of this page, limit and origin, with the page's version (and a throttle count)."""
    key = response_key(origin(request), slug, limit)
    (entry, version), count = fetch([key, version_key(slug)], counter)
    return Lookup(key=key, entry=entry, version=None if version is None else str(version)), count


def render(payload: dict[str, Any]) -> tuple[bytes, str]:
    """The JSON bytes DRF would send, and their strong ETag."""
    body = JSONRenderer().render(payload)
    return body, f'"{hashlib.sha256(body).hexdigest()[:32]}"'


def conditional(request: HttpRequest, body: bytes, etag: str) -> HttpResponse:
    """200 with the bytes, or 304 with no body when the client already holds this ETag."""
    held = request.META.get("HTTP_IF_NONE_MATCH")
    if held and (held.strip() == "*" or etag in {tag.removeprefix("W/") for tag in parse_etags(held)}):
        response = HttpResponse(status=304)
        del response["Content-Type"]
    else:
        response = HttpResponse(body, content_type="application/json")
    response["ETag"] = etag
    response["Cache-Control"] = CACHE_CONTROL
    # As DRF's own responses (the browsable API answers text/html), and worded in the request's language.
    response["Vary"] = "Accept, Accept-Language"
    response["Allow"] = "GET, HEAD, OPTIONS"
    return response


def cached_list(
    request: HttpRequest, *, slug: str, limit: int, build: Callable[[], dict[str, Any]], found: Lookup | None = None
) -> HttpResponse:
    """The page's list from stored bytes; on a miss `build` makes the payload (or raises 404) and it is stored.

    `found` is a lookup this request already made (the view's fast path); the version it read, or one
    read now, is read before `build` reads the list (see the module docstring).
    """
    if found is None or found.key != response_key(origin(request), slug, limit):
        found, _ = lookup(request, slug, limit)
    hit = found.fresh()
    metrics.list_cache(hit=hit is not None)
    if hit is not None:
        return conditional(request, *hit)
    version = found.version or list_version(slug)
    body, etag = render(build())
    cache.set(found.key, (version, body, etag), recommender_settings.CACHE_TIMEOUT)
    return conditional(request, body, etag)


class LocalSlugs:
    """url -> slug for by-url reads, in this process, for `ttl` seconds, at most `size` urls."""

    def __init__(self, ttl: float = 60.0, size: int = 4096) -> None:
        self.ttl, self.size = ttl, size
        self.slugs: dict[str, tuple[str, float]] = {}

    def get(self, url: str) -> str | None:
        found = self.slugs.get(url)
        if found is None or found[1] < time.monotonic():
            return None
        return found[0]

    def remember(self, url: str, slug: str) -> None:
        if len(self.slugs) >= self.size:
            self.slugs.clear()  # a crude bound is enough: a miss only costs one query
        self.slugs[url] = (slug, time.monotonic() + self.ttl)

    def clear(self) -> None:
        self.slugs.clear()


local_slugs = LocalSlugs()
