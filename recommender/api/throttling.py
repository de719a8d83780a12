"""Throttles for the public endpoints: anonymous list reads and widget events have their own rates.

DRF copies `DEFAULT_THROTTLE_RATES` into a class attribute at import (DRF issue 6030); these read the
rate on every request instead, so a host or a test that changes the setting is obeyed.
"""

from __future__ import annotations

import hashlib
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from rest_framework.request import Request
from rest_framework.settings import api_settings
from rest_framework.throttling import AnonRateThrottle, ScopedRateThrottle, SimpleRateThrottle


class LiveRatesMixin(SimpleRateThrottle):
    """Look the rate up in the current settings."""

    def get_rate(self) -> str | None:
        rates: dict[str, Any] = api_settings.DEFAULT_THROTTLE_RATES
        try:
            return rates[str(self.scope)]
        except KeyError as error:
            raise ImproperlyConfigured(f"No default throttle rate set for {self.scope!r} scope") from error

    def get_ident(self, request: Request) -> str:
        """The client's address hashed with the secret key: the cache never holds it in clear."""
        ident = super().get_ident(request)
        return hashlib.sha256(f"{settings.SECRET_KEY}:{ident}".encode()).hexdigest()[:24]


class AnonReadThrottle(LiveRatesMixin, AnonRateThrottle):
    """The "anon" rate for anonymous recommendation reads."""


class EventsThrottle(LiveRatesMixin, ScopedRateThrottle):
    """The "events" rate, set by the view's `throttle_scope`."""
