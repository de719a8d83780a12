"""Imported by a test worker (`celery worker --include=tests.integration.task_probe`): records what tasks did.

Each attempt, retry and success of a task is appended to a Redis list of the worker's own Redis (the one the
test reads too), so a fault test can count attempts across retries and see which worker finished a task. The
worker runs unchanged otherwise: the signals only write these lists. Tasks run eagerly (a test process that
imports this module for `probe_events`) are not recorded.
"""

from __future__ import annotations

from typing import Any

from celery.signals import task_prerun, task_retry, task_success

from recommender.dirty import redis_client

MODULE = __name__
EVENTS = ("attempt", "retry", "success")


def events_key(event: str, task: str) -> str:
    return f"tests:probe:{event}:{task}"


def probe_events(event: str, task: str) -> list[str]:
    """What the workers recorded for `event` of `task`: worker names, or for a retry its reason."""
    client = redis_client()
    return [value.decode() for value in client.lrange(events_key(event, task), 0, -1)] if client else []


def _record(event: str, task: Any, value: Any) -> None:
    if task.request.is_eager:
        return
    client = redis_client()
    if client is not None:
        client.rpush(events_key(event, task.name), str(value))


@task_prerun.connect(weak=False)
def _attempt(sender: Any = None, **kwargs: Any) -> None:
    _record("attempt", sender, sender.request.hostname)


@task_retry.connect(weak=False)
def _retry(sender: Any = None, reason: Any = None, **kwargs: Any) -> None:
    _record("retry", sender, repr(reason))


@task_success.connect(weak=False)
def _success(sender: Any = None, **kwargs: Any) -> None:
    _record("success", sender, sender.request.hostname)
