"""Fingerprints of computed lists: a refresh writes a list only when its fingerprint changed."""

from __future__ import annotations

import hashlib
from typing import Any

import orjson


def fingerprint(body: Any) -> str:
    """A short, stable hash of JSON-like data (keys sorted; values JSON cannot hold are hashed as text)."""
    return hashlib.sha256(orjson.dumps(body, option=orjson.OPT_SORT_KEYS, default=str)).hexdigest()[:32]
