"""The drain keeps what it took when the database fails under it (issue 15's fault tests found both losses).

The real faults (a serialization failure raised by PostgreSQL, a restart in the middle of a drain) are in
`tests/integration/test_faults.py`; here the same two paths run in-process, tasks eager, so they stay covered
without services.
"""

from __future__ import annotations

from typing import Any

import fakeredis
import pytest
from django.db import OperationalError

from recommender import dirty
from recommender.dirty import KINDS, dirty_key, pop_dirty
from recommender.models import DirtyMark
from recommender.tasks import drain_dirty


def test_a_drain_retried_after_a_database_error_refreshes_what_the_failed_attempt_took(
    db: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    DirtyMark.objects.create(kind="products", object_id=7)
    calls: list[list[int]] = []

    def refresh(*, page_ids: list[int], product_ids: list[int]) -> Any:
        calls.append(product_ids)
        if len(calls) == 1:
            raise OperationalError("could not serialize access")
        return type("Summary", (), {"pages": 1})()

    monkeypatch.setattr("recommender.tasks.recommendations_refresh", refresh)
    result = drain_dirty.apply(throw=False)  # in this process: the retry runs at once
    assert result.successful()
    assert calls == [[7], [7]]
    assert not DirtyMark.objects.exists()


def test_ids_taken_from_redis_go_back_when_the_outbox_cannot_be_read(db: None, monkeypatch: pytest.MonkeyPatch) -> None:
    redis = fakeredis.FakeRedis()
    redis.sadd(dirty_key("products"), 7, 8)
    monkeypatch.setattr(dirty, "redis_client", lambda: redis)

    def unreachable(*args: Any, **kwargs: Any) -> Any:
        raise OperationalError("connection refused")

    monkeypatch.setattr(DirtyMark.objects, "select_for_update", unreachable)
    with pytest.raises(OperationalError):
        pop_dirty()
    assert redis.smembers(dirty_key("products")) == {b"7", b"8"}
    monkeypatch.undo()
    monkeypatch.setattr(dirty, "redis_client", lambda: redis)
    assert pop_dirty()["products"] == {7, 8}
    assert not any(redis.scard(dirty_key(kind)) for kind in KINDS)
