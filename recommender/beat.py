"""The periodic tasks the plugin needs, for a host's Celery beat, added in one line:

    CELERY_BEAT_SCHEDULE = {**recommender.beat.schedule(), ...the host's own entries}

Intervals are arguments, so a host can tune them without copying task names.
"""

from __future__ import annotations

from typing import Any

FULL_REFRESH_TASK = "recommender.tasks.refresh_all_pages"
DRAIN_TASK = "recommender.tasks.drain_dirty"


def schedule(*, full_refresh_seconds: float = 60 * 60, drain_seconds: float = 30) -> dict[str, dict[str, Any]]:
    """Beat entries: an hourly full refresh, and a drain of changes saved while the broker was away."""
    return {
        "recommender-full-refresh": {"task": FULL_REFRESH_TASK, "schedule": full_refresh_seconds},
        # Picks up changes saved while Redis was away (the outbox) and any drain that was lost.
        "recommender-drain-dirty": {"task": DRAIN_TASK, "schedule": drain_seconds},
    }
