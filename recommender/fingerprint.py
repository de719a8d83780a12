"""Fingerprints of computed lists: a refresh writes a list only when its fingerprint changed."""

from __future__ import annotations

import hashlib
from typing import Any

import orjson


def fingerprint(body: Any) -> str:
    """A short, stable hash of JSON-like data (keys sorted; values JSON cannot hold are hashed as text)."""
    return digest(dumped(body))


def dumped(body: Any) -> bytes:
    """JSON-like data as the fingerprint reads it: keys sorted, values JSON cannot hold as text. A list of
    values is `[`, their `dumped` forms joined by `,`, and `]`, so parts dumped apart hash as the whole."""
    return orjson.dumps(body, option=orjson.OPT_SORT_KEYS, default=str)


def digest(data: bytes) -> str:
    """The fingerprint of data `dumped` already."""
    return hashlib.sha256(data).hexdigest()[:32]
