"""The read hot path: recommendation lists served as pre-rendered JSON bytes, at most one cache round trip a hit.

Widgets on busy articles ask for the same few lists over and over. The rendered response of a page, for one
limit, one origin (scheme + host: the list carries absolute urls) and one language, is stored as `(list version,
bytes, ETag)` under a key that does not change with the version. A read fetches that entry and the page's current
version (`selectors.list_version`) together, and with django-redis also adds to the throttle counters, in one
pipelined round trip; the entry is served only when its version is the current one. `pages_store` deletes the
version on commit when a list changed, so a refresh makes every stored response of the page stale at once, and
the next miss overwrites the entry (nothing is orphaned). The version is read before the list is, so bytes
built from a list a concurrent refresh has just replaced carry a version nobody will read again. When Redis is
away (django-redis `IGNORE_EXCEPTIONS`) every read is a miss and is served from the database; the throttle
then lets requests through.

In front of a shared cache each process keeps what that round trip found current (`local_responses`) for
`LOCAL_CACHE_SECONDS`, and counts the throttle hits it admits meanwhile (`local_counts`); the next round trip
it makes adds them to the shared counters. So a repeat read costs no round trip, and a list refreshed by another
process (a Celery worker) is served at most `LOCAL_CACHE_SECONDS` late. When this process itself announces a
changed list (`recommendations_changed`: eager mode, a refresh run by the web process) its copies go at once.
With a cache that already lives in the process (locmem) or keeps nothing (dummy) there is no local tier.

By-url reads remember url -> slug in this process only (`LocalSlugs`, 60 s): a remembered slug is
trusted only together with a current stored response of that page, as before.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from time import monotonic
from typing import Any

from django.core.cache import cache, caches
from django.core.cache.backends.dummy import DummyCache
from django.core.cache.backends.locmem import LocMemCache
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.utils.http import parse_etags
from django.utils.translation import get_language
from rest_framework.renderers import JSONRenderer

from recommender import metrics
from recommender.cachekeys import response_key, version_key
from recommender.conf import recommender_settings
from recommender.selectors import list_version

try:  # django-redis is how the project runs with Redis; any other cache backend works through the cache API
    from django_redis.cache import RedisCache
    from django_redis.client import DefaultClient
    from redis.exceptions import RedisError
except ImportError:  # pragma: no cover
    RedisCache = DefaultClient = RedisError = None  # type: ignore[assignment,misc]

CACHE_CONTROL = "public, max-age=60"
# As DRF's own responses (the browsable API answers text/html), and worded in the request's language.
VARY = "Accept, Accept-Language"
IN_PROCESS_BACKENDS = (LocMemCache, DummyCache)
logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Counter:
    """A throttle counter: incremented once per request, expiring with its window.

    `limit` is the window's allowance; `batch`, how many hits a process may count locally before it
    tells the shared cache (see `LocalCounts`).
    """

    key: str
    ttl: int
    limit: int | None = None
    batch: int = 1


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


class LocalResponses:
    """Current list responses this process has seen, each for `LOCAL_CACHE_SECONDS`, at most `size` of them."""

    def __init__(self, size: int = 1024) -> None:
        self.size = size
        self.found: dict[str, tuple[Lookup, float]] = {}

    def get(self, key: str) -> Lookup | None:
        held = self.found.get(key)
        if held is None or held[1] < monotonic():
            return None
        return held[0]

    def put(self, found: Lookup) -> None:
        seconds = local_seconds()
        if not seconds or found.fresh() is None:
            return
        if len(self.found) >= self.size:
            self.found.clear()  # a crude bound is enough: a miss here only costs the round trip
        self.found[found.key] = (found, monotonic() + seconds)

    def forget(self) -> None:
        """Drop every response (a list changed in this process: the next reads ask the shared cache)."""
        self.found.clear()


class LocalCounts:
    """Throttle hits admitted without a round trip, until the next round trip adds them to the shared counters.

    A client is admitted here while this process has counted fewer than `counter.batch` of its hits since it
    last told the shared cache, and the count the shared cache last answered plus those stays under the limit;
    otherwise the request makes the round trip, which counts exactly. So other processes can let a client
    through at most `batch` times each beyond its limit before they learn of each other's hits.
    """

    def __init__(self, size: int = 4096) -> None:
        self.size = size
        self.lock = threading.Lock()
        self.pending: dict[Counter, int] = {}
        self.known: dict[str, int] = {}

    def admit(self, counter: Counter) -> int | None:
        """The client's count with this request, if it may be admitted here; None: ask the shared cache."""
        with self.lock:
            held = self.pending.get(counter, 0)
            count = self.known.get(counter.key, 0) + held + 1
            if held >= counter.batch or (counter.limit is not None and count > counter.limit):
                return None
            if not held and len(self.pending) >= self.size:
                return None
            self.pending[counter] = held + 1
            return count

    def take(self, counter: Counter | None) -> list[tuple[Counter, int]]:
        """Every pending increment, this request's counter first with one more for the request itself."""
        with self.lock:
            pending, self.pending = self.pending, {}
        if counter is None:
            return list(pending.items())
        mine = pending.pop(counter, 0) + 1
        return [(counter, mine), *pending.items()]

    def learn(self, counter: Counter, count: int) -> None:
        with self.lock:
            if len(self.known) >= self.size:
                self.known.clear()  # counters of past windows go with it; a miss costs one round trip
            self.known[counter.key] = count

    def clear(self) -> None:
        with self.lock:
            self.pending.clear()
            self.known.clear()


local_responses = LocalResponses()
local_counts = LocalCounts()


@lru_cache(maxsize=1)
def local_seconds() -> float:
    """How long a process keeps a response: 0 when the cache lives in the process anyway."""
    if isinstance(caches["default"], IN_PROCESS_BACKENDS):
        return 0.0
    return float(recommender_settings.LOCAL_CACHE_SECONDS or 0)


@receiver(setting_changed)
def _settings_changed(*, setting: str, **kwargs: Any) -> None:
    if setting in {"CACHES", "RECOMMENDER"}:  # another cache, or another rate: start afresh
        local_seconds.cache_clear()
        local_responses.forget()
        local_counts.clear()
    if setting in HOST_SETTINGS:
        valid_hosts.clear()


# Hosts `get_host` accepted, by the headers they came from; dropped when the settings it reads change.
HOST_SETTINGS = {"ALLOWED_HOSTS", "DEBUG", "USE_X_FORWARDED_HOST", "USE_X_FORWARDED_PORT"}
valid_hosts: dict[tuple[str | None, ...], str] = {}


def origin(request: HttpRequest) -> str:
    """Scheme and host of the request; `get_host` also refuses hosts outside ALLOWED_HOSTS.

    `get_host` reads only these headers and settings, so its answer is remembered (a refused host raises,
    and is not): every read of a busy list would otherwise validate the same Host again.
    """
    meta = request.META
    headers = tuple(meta.get(name) for name in ("HTTP_X_FORWARDED_HOST", "HTTP_HOST", "SERVER_NAME", "SERVER_PORT",
                                                "HTTP_X_FORWARDED_PORT"))  # fmt: skip
    host = valid_hosts.get(headers)
    if host is None:
        host = request.get_host()
        if len(valid_hosts) >= 256:
            valid_hosts.clear()
        valid_hosts[headers] = host
    return f"{request.scheme}://{host}"


def request_key(request: HttpRequest, slug: str, limit: int) -> str:
    # LocaleMiddleware leaves the language it activated on the request: cheaper than asking for it again.
    language = getattr(request, "LANGUAGE_CODE", None) or get_language() or "en"
    return response_key(origin(request), slug, limit, language)


def fetch(keys: list[str], counts: Sequence[tuple[Counter, int]] = ()) -> tuple[list[Any], list[int | None]]:
    """The values under `keys` (None when missing) and each counter after adding its increment.

    With django-redis this is one pipelined round trip (INCRBY and EXPIRE per counter, MGET); with another
    cache backend it goes through the cache API. A Redis error counts as a miss with no count, when errors
    are ignored.
    """
    backend = caches["default"]
    if RedisCache is not None and isinstance(backend, RedisCache) and type(backend.client) is DefaultClient:
        return redis_fetch(backend, keys, counts)
    found = backend.get_many(keys)
    return [found.get(key) for key in keys], [count_hit(counter, n) for counter, n in counts]


def redis_fetch(
    backend: Any, keys: list[str], counts: Sequence[tuple[Counter, int]]
) -> tuple[list[Any], list[int | None]]:
    client = backend.client
    try:
        pipe = client.get_client(write=True).pipeline(transaction=False)
        for counter, n in counts:
            pipe.incrby(client.make_key(counter.key), n)
            pipe.expire(client.make_key(counter.key), counter.ttl)
        pipe.mget([client.make_key(key) for key in keys])
        replies = pipe.execute()
    except RedisError:
        if not getattr(backend, "_ignore_exceptions", False):
            raise
        logger.warning("Redis is unavailable; serving the list from the database", exc_info=True)
        return [None] * len(keys), [None] * len(counts)
    values = [None if value is None else client.decode(value) for value in replies[-1]]
    return values, [int(replies[2 * i]) for i in range(len(counts))]


def count_hit(counter: Counter, n: int = 1) -> int:
    """Add `n` to a counter through the cache API (the pipeline does this itself); n when no cache keeps it."""
    cache.add(counter.key, 0, counter.ttl)
    try:
        count = cache.incr(counter.key, n)
    except ValueError:  # expired between add and incr, or a cache that keeps nothing
        return n
    return n if count is None else int(count)  # None: django-redis ignored an error


def lookup(request: HttpRequest, slug: str, limit: int, counter: Counter | None = None) -> tuple[Lookup, int | None]:
    """The stored response of this page, limit and origin, with the page's version, and the client's count.

    A response this process found current less than `LOCAL_CACHE_SECONDS` ago is answered from here, the
    client counted locally; otherwise one round trip, which also hands over the locally counted hits.
    """
    key = request_key(request, slug, limit)
    near = local_responses.get(key)
    if near is not None:
        if counter is None:
            return near, None
        count = local_counts.admit(counter)
        if count is not None:
            return near, count
    counts = local_counts.take(counter)
    (entry, version), numbers = fetch([key, version_key(slug)], counts)
    for (each, _), number in zip(counts, numbers, strict=True):
        if number is not None:
            local_counts.learn(each, number)
    found = Lookup(key=key, entry=entry, version=None if version is None else str(version))
    local_responses.put(found)
    return found, (numbers[0] if counter is not None else None)


def render(payload: dict[str, Any]) -> tuple[bytes, str]:
    """The JSON bytes DRF would send, and their strong ETag."""
    body = JSONRenderer().render(payload)
    return body, f'"{hashlib.sha256(body).hexdigest()[:32]}"'


def conditional(request: HttpRequest, body: bytes, etag: str) -> HttpResponse:
    """200 with the bytes, or 304 with no body when the client already holds this ETag."""
    held = request.META.get("HTTP_IF_NONE_MATCH")
    if held and (held == etag or held.strip() == "*" or etag in {t.removeprefix("W/") for t in parse_etags(held)}):
        response = HttpResponse(status=304)
        del response["Content-Type"]
    else:
        response = HttpResponse(body, content_type="application/json")
    response["ETag"] = etag
    response["Cache-Control"] = CACHE_CONTROL
    response["Vary"] = VARY
    response["Allow"] = "GET, HEAD, OPTIONS"
    return response


def cached_list(
    request: HttpRequest, *, slug: str, limit: int, build: Callable[[], dict[str, Any]], found: Lookup | None = None
) -> HttpResponse:
    """The page's list from stored bytes; on a miss `build` makes the payload (or raises 404) and it is stored.

    `found` is a lookup this request already made (the view's fast path); the version it read, or one
    read now, is read before `build` reads the list (see the module docstring).
    """
    if found is None or found.key != request_key(request, slug, limit):
        found, _ = lookup(request, slug, limit)
    hit = found.fresh()
    metrics.list_cache(hit=hit is not None)
    if hit is not None:
        return conditional(request, *hit)
    version = found.version or list_version(slug)
    body, etag = render(build())
    cache.set(found.key, (version, body, etag), recommender_settings.CACHE_TIMEOUT)
    local_responses.put(Lookup(key=found.key, entry=(version, body, etag), version=version))
    return conditional(request, body, etag)


class LocalSlugs:
    """url -> slug for by-url reads, in this process, for `ttl` seconds, at most `size` urls."""

    def __init__(self, ttl: float = 60.0, size: int = 4096) -> None:
        self.ttl, self.size = ttl, size
        self.slugs: dict[str, tuple[str, float]] = {}

    def get(self, url: str) -> str | None:
        found = self.slugs.get(url)
        if found is None or found[1] < monotonic():
            return None
        return found[0]

    def remember(self, url: str, slug: str) -> None:
        if len(self.slugs) >= self.size:
            self.slugs.clear()  # a crude bound is enough: a miss only costs one query
        self.slugs[url] = (slug, monotonic() + self.ttl)

    def clear(self) -> None:
        self.slugs.clear()


local_slugs = LocalSlugs()
