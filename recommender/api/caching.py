"""The read hot path: recommendation lists served as pre-rendered JSON bytes from the cache.

Widgets on busy articles ask for the same few lists over and over. A hit costs two cache reads and no
SQL query and no serializer: the bytes are stored under (page, list version, limit, scheme + host),
with their ETag. `page_store` drops the page's version on commit, which orphans every stored response
of that page at once. Scheme and host are in the key because the list carries absolute urls.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from django.core.cache import cache
from django.http import HttpResponse
from django.utils.http import parse_etags
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request

from recommender.conf import recommender_settings
from recommender.selectors import list_version

CACHE_CONTROL = "public, max-age=60"


def digest(text: str) -> str:
    """A short stable hash, to keep arbitrary hosts and urls out of cache keys (memcached forbids spaces)."""
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def response_key(request: Request, slug: str, limit: int) -> str:
    """Where the rendered list of this page, at this version, limit and origin, is stored."""
    origin = f"{request.scheme}://{request.get_host()}"
    return f"recommender:response:{slug}:{list_version(slug)}:{limit}:{digest(origin)}"


def url_key(url: str) -> str:
    """Where the slug of the page with this canonical url is remembered."""
    return f"recommender:url:{digest(url)}"


def render(payload: dict[str, Any]) -> tuple[bytes, str]:
    """The JSON bytes DRF would send, and their strong ETag."""
    body = JSONRenderer().render(payload)
    return body, f'"{hashlib.sha256(body).hexdigest()[:32]}"'


def conditional(request: Request, body: bytes, etag: str) -> HttpResponse:
    """200 with the bytes, or 304 with no body when the client already holds this ETag."""
    held = request.headers.get("If-None-Match", "")
    if held and (held.strip() == "*" or etag in {tag.removeprefix("W/") for tag in parse_etags(held)}):
        response = HttpResponse(status=304)
        del response["Content-Type"]
    else:
        response = HttpResponse(body, content_type="application/json")
    response["ETag"] = etag
    response["Cache-Control"] = CACHE_CONTROL
    return response


def stored_response(request: Request, *, slug: str, limit: int) -> HttpResponse | None:
    """The response from stored bytes, or None on a miss; runs no SQL query."""
    stored = cache.get(response_key(request, slug, limit))
    return None if stored is None else conditional(request, *stored)


def cached_list(request: Request, *, slug: str, limit: int, build: Callable[[], dict[str, Any]]) -> HttpResponse:
    """The page's list from stored bytes; on a miss `build` makes the payload (or raises 404) and it is stored.

    The version is read (inside `response_key`) before `build` reads the list, so bytes built from a
    list that a concurrent refresh has just replaced land under a version nobody will ask for again.
    """
    key = response_key(request, slug, limit)
    stored = cache.get(key)
    if stored is None:
        stored = render(build())
        cache.set(key, stored, recommender_settings.CACHE_TIMEOUT)
    return conditional(request, *stored)


def remembered_slug(url: str) -> str | None:
    """The slug last found for this url, if any; it is only trusted together with a stored response."""
    slug = cache.get(url_key(url))
    return str(slug) if slug else None


def remember_slug(url: str, slug: str) -> None:
    """Keep url -> slug so that a by-url hit needs no query either."""
    cache.set(url_key(url), slug, recommender_settings.CACHE_TIMEOUT)
