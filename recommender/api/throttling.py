"""Throttles for the public endpoints: anonymous list reads and widget events have their own rates.

The rates are the plugin's own, `RECOMMENDER["THROTTLE_RATES"]`, so a host needs no entry in DRF's
`DEFAULT_THROTTLE_RATES`. DRF copies its rates into a class attribute at import (DRF issue 6030); these
read the rate on every request instead, so a host or a test that changes the setting is obeyed.

The anonymous read throttle sits on the hottest path there is, so it is a fixed window: one counter per
client and window, bumped with one INCRBY which the list views send in the same Redis round trip as their
lookup (`caching.fetch`); a read answered from a process's local tier is counted there and handed over with
that process's next round trip (`caching.LocalCounts`). DRF's sliding window reads and rewrites a list of
timestamps instead, two round trips and a pickle that grows with the rate. The price of a fixed window: a
client may spend up to twice its rate across the boundary between two windows.

The client is `REMOTE_ADDR`, or the address the configured number of proxies saw (DRF's `NUM_PROXIES`):
`X-Forwarded-For` is only trusted that far, so a client cannot pick a fresh address per request.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest
from rest_framework.request import Request
from rest_framework.settings import api_settings
from rest_framework.throttling import AnonRateThrottle, ScopedRateThrottle, SimpleRateThrottle
from rest_framework.views import APIView

from recommender.api.caching import Counter, count_hit, local_seconds
from recommender.cachekeys import throttle_key
from recommender.conf import DEFAULTS, recommender_settings


@lru_cache(maxsize=4096)
def hashed(secret: str, ident: str) -> str:
    """A client's address hashed with the secret key, remembered: busy clients come back many times a second."""
    return hashlib.sha256(f"{secret}:{ident}".encode()).hexdigest()[:24]


def client_address(meta: Any) -> str | None:
    """DRF's `BaseThrottle.get_ident`, read from META (DRF's reads `request.headers`, which parses every header)."""
    xff, remote_addr = meta.get("HTTP_X_FORWARDED_FOR"), meta.get("REMOTE_ADDR")
    num_proxies = api_settings.NUM_PROXIES
    if num_proxies is not None:
        if num_proxies == 0 or xff is None:
            return remote_addr  # type: ignore[no-any-return]
        addrs = xff.split(",")
        return addrs[-min(num_proxies, len(addrs))].strip()  # type: ignore[no-any-return]
    return "".join(xff.split()) if xff else remote_addr


class LiveRatesMixin(SimpleRateThrottle):
    """Look the rate up in the current `RECOMMENDER["THROTTLE_RATES"]`."""

    def get_rate(self) -> str | None:
        rates: dict[str, Any] = {**DEFAULTS["THROTTLE_RATES"], **(recommender_settings.THROTTLE_RATES or {})}
        try:
            rate: str | None = rates[str(self.scope)]
        except KeyError as error:
            raise ImproperlyConfigured(f'No RECOMMENDER["THROTTLE_RATES"] entry for {self.scope!r}') from error
        return rate

    def get_ident(self, request: Request | HttpRequest) -> str:
        """The client's address hashed with the secret key: the cache never holds it in clear."""
        return hashed(settings.SECRET_KEY, str(client_address(request.META)))


class AnonReadThrottle(LiveRatesMixin, AnonRateThrottle):
    """The "anon" rate for anonymous recommendation reads, as a fixed-window counter.

    A view that has already counted this request (the list views do it in their lookup) leaves the
    count in `view.throttle_count`, so a request is counted once whichever path serves it.
    """

    num_requests: int | None  # set by SimpleRateThrottle.__init__ from the rate
    duration: int | None

    def counter(self, request: Request | HttpRequest) -> Counter | None:
        """This client's counter for the current window; None when the rate is off.

        A process may count up to the rate's share of `LOCAL_CACHE_SECONDS` (at least one) of a client's
        hits before it tells the shared cache.
        """
        if self.num_requests is None or self.duration is None:
            return None
        window = int(self.timer() // self.duration)
        key = throttle_key(str(self.scope), self.get_ident(request), window)
        batch = max(1, int(self.num_requests * local_seconds() / self.duration))
        return Counter(key=key, ttl=self.duration, limit=self.num_requests, batch=batch)

    def allows(self, count: int) -> bool:
        return self.num_requests is None or count <= self.num_requests

    def allow_request(self, request: Request, view: APIView) -> bool:
        if request.user and request.user.is_authenticated:
            return True
        count = getattr(view, "throttle_count", None)
        if count is None:
            counter = self.counter(request)
            if counter is None:
                return True
            count = count_hit(counter)
        return self.allows(count)

    def wait(self) -> float | None:
        """Seconds until the current window ends (the Retry-After of a 429)."""
        if self.duration is None:
            return None
        return self.duration - self.timer() % self.duration


class EventsThrottle(LiveRatesMixin, ScopedRateThrottle):
    """The "events" rate, set by the view's `throttle_scope`."""
