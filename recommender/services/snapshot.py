"""The catalog snapshot (engine) a worker process keeps between refreshes.

Building the engine reads the whole catalog: about 1.4 s at 20,000 products, most of a drain after
one stock change. A worker process therefore keeps the engine it built and, before the next refresh,
brings it up to date by reading again only the products that drains took since (`dirty.pop_dirty`
numbers every drain and logs its products in Redis). Whenever that is not known exactly (no Redis,
a log entry expired or missing, the taxonomy changed), a new engine is built, as it always was.

A full refresh always builds a new engine (it is also the repair for anything missed), and the
chunks of one fanned-out full refresh share it (see `engine_for`).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from recommender.dirty import changes_between, drains_taken
from recommender.services.engine import Engine, engine_build, engine_patch


@dataclass
class Snapshot:
    """An engine and the last drain whose changes it reflects."""

    engine: Engine
    drain: int
    run: str | None = None  # the fanned-out full refresh that built it


_kept: Snapshot | None = None  # at most one per process


def engine_for(*, full: bool = False, run: str | None = None, changed: Collection[int] = ()) -> Engine:
    """The engine to score a refresh with.

    - `full` (a whole refresh in one call): always a new engine.
    - `run` (a chunk of a fanned-out full refresh): a new engine for the run's first chunk in this
      process; the same one, brought up to date, for its later chunks.
    - otherwise (a drain, or a refresh of named pages or products): the kept engine brought up to date,
      with the `changed` products read again too; a new engine when there is none.
    """
    global _kept
    drain = drains_taken()  # read first: whatever is built now reflects at least the drains up to here
    kept, _kept = _kept, None  # dropped while building, so two engines are never held at once
    if drain is None:  # without Redis nothing says what other processes changed
        return engine_build()
    if full or kept is None or (run is not None and kept.run != run):
        _kept = Snapshot(engine_build(), drain, run)
    else:
        _kept = Snapshot(brought_up_to_date(kept, drain, changed), max(drain, kept.drain), run or kept.run)
    return _kept.engine


def brought_up_to_date(kept: Snapshot, drain: int, changed: Collection[int]) -> Engine:
    """The kept engine with the products the drains after it took (and `changed`) read again."""
    if kept.drain >= drain and not changed:
        return kept.engine
    taken = changes_between(kept.drain + 1, drain)
    if taken is None:
        return engine_build()
    kept.engine.forget_derived()  # pages may have changed too: what was derived from them goes
    return engine_patch(kept.engine, taken | set(changed))


def forget() -> None:
    """Drop the kept engine (tests; a process that wants its memory back)."""
    global _kept
    _kept = None
