"""The catalog snapshot (engine) a worker process keeps between refreshes.

Building the engine reads the whole catalog: about 1.4 s at 20,000 products, most of a drain after
one stock change. A worker process therefore keeps the engine it built and, before the next refresh,
brings it up to date by reading again only the products that drains took since (`dirty.pop_dirty`
numbers every drain and logs its products in Redis, and whether it took pages: what the engine built from
the pages is kept until one did). Whenever that is not known exactly (a log entry expired or missing, the
taxonomy changed, Redis lost the log and numbering began a new epoch), the whole catalog is read again, as for a
new engine; without Redis a new engine is built for every refresh.

A full refresh always reads the whole catalog and the pages again (it is also the repair for anything missed),
and the chunks of one fanned-out full refresh share what it read (see `engine_for`). Where a process kept an
engine, the products whose rows read the same keep theirs (`engine_build.engine_rebuilt`), which saves about half
of building one, and what was built from the pages goes on while they read the same (`related.pages_carried`).
Only Celery worker processes keep an engine (`keep_engines`, connected when a worker starts): a web process that
refreshes now and then (the admin's "refresh" button) builds one for that refresh and lets it go.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Collection
from dataclasses import dataclass

from django.db import connections

from recommender.dirty import DrainMark, changes_between, drains_taken
from recommender.services.engine import Engine
from recommender.services.engine_build import engine_build, engine_patch, engine_rebuilt
from recommender.services.related import engine_warmed, pages_carried

logger = logging.getLogger(__name__)


@dataclass
class Snapshot:
    """An engine and the last drain whose changes it reflects (in the drain log's epoch then)."""

    engine: Engine
    drain: DrainMark
    run: str | None = None  # the fanned-out full refresh that built it


_kept: Snapshot | None = None  # at most one per process
_keeping = False  # whether this process keeps its engine between refreshes (a Celery worker)


def keep_engines(keep: bool = True, **kwargs: object) -> None:
    """Keep (or stop keeping) the engine between refreshes in this process; a Celery signal handler too."""
    global _keeping
    _keeping = keep
    if not keep:
        forget()


def keep_and_warm(**kwargs: object) -> None:
    """In a worker process that runs tasks, as it starts: keep engines, and build the first one now, with all
    that scoring builds on it (`related.engine_warmed`), so the first change after a start (or after a process
    is replaced) waits for no catalog read and no pass over the pages.

    A failure here (the database not up yet) costs nothing but the warm start: the first refresh builds.
    """
    keep_engines()
    started = time.perf_counter()
    try:
        engine_warmed(engine_for())
    except Exception:
        logger.warning(
            "could not build the engine at worker start; the first refresh will",
            exc_info=True,
            extra={"event": "engine_warm_failed"},
        )
    else:
        seconds = round(time.perf_counter() - started, 3)
        logger.info(
            "engine built at worker start in %.2f s", seconds, extra={"event": "engine_warmed", "seconds": seconds}
        )
    finally:
        connections.close_all()  # the process's first task opens its own, as it would have


def engine_for(*, full: bool = False, run: str | None = None, changed: Collection[int] = ()) -> Engine:
    """The engine to score a refresh with.

    - `full` (a whole refresh in one call): the taxonomy, the catalog and the pages read again in full
      (`read_again`: what the kept engine built from them goes on where they read the same).
    - `run` (a chunk of a fanned-out full refresh): read in full so for the run's first chunk in this
      process; the same engine, brought up to date, for its later chunks.
    - otherwise (a drain, or a refresh of named pages or products): the kept engine brought up to date,
      with the `changed` products read again too; a new engine when there is none.
    """
    global _kept
    if not _keeping:
        return engine_build()
    drain = drains_taken()  # read first: whatever is built now reflects at least the drains up to here
    kept, _kept = _kept, None  # none kept if reading fails
    if drain is None:  # without Redis nothing says what other processes changed
        return engine_build()
    if kept is None:
        _kept = Snapshot(engine_build(), drain, run)
    elif full or (run is not None and kept.run != run) or kept.drain.epoch != drain.epoch:
        # Read in full; rows that read the same are kept. (Another epoch: Redis lost the log the kept engine
        # was brought up to date from.)
        _kept = Snapshot(read_again(kept.engine), drain, run)
    else:
        latest = drain if drain.number >= kept.drain.number else kept.drain
        _kept = Snapshot(brought_up_to_date(kept, drain, changed), latest, run or kept.run)
    return _kept.engine


def brought_up_to_date(kept: Snapshot, drain: DrainMark, changed: Collection[int]) -> Engine:
    """The kept engine with the products the drains after it took (and `changed`) read again."""
    if kept.drain.number >= drain.number and not changed:
        return kept.engine
    taken = changes_between(drain.epoch, kept.drain.number + 1, drain.number)
    if taken is None:  # not known exactly what changed: read everything again
        return read_again(kept.engine)
    engine = engine_patch(kept.engine, taken.products | set(changed))
    if taken.pages:  # what was built from the pages is built again when asked for
        engine.forget_pages()
    else:  # a stock feed's drains: the page matrix and the pages' reach stay as they are
        engine.pages_kept_from(kept.engine)
    return engine


def read_again(kept: Engine) -> Engine:
    """The kept engine after a full read of the taxonomy, the catalog and the pages: what reads the same goes on
    (`engine_rebuilt` for the products' rows, `pages_carried` for what was built from the pages)."""
    engine = engine_rebuilt(kept)
    pages_carried(engine, kept)
    return engine


def forget() -> None:
    """Drop the kept engine (tests; a process that wants its memory back)."""
    global _kept
    _kept = None
