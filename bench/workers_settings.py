"""Settings for the scale-out benchmark only (bench/workers.py): the shop's settings, with

- the plugin's log records also written as JSON lines (with the writing process's id) to BENCH_WORKERS_LOG, so each
  chunk's timings and the chord's end can be read back;
- REFRESH_CHUNK from BENCH_REFRESH_CHUNK when set (bench/workers.py scales it with the store).
"""

import logging
import os

from recommender.logs import JsonFormatter
from shop.settings import *  # noqa: F403
from shop.settings import LOGGING, RECOMMENDER


class ProcessJsonFormatter(JsonFormatter):
    """The plugin's JSON lines, plus the id of the worker process that wrote each."""

    def format(self, record: logging.LogRecord) -> str:
        record.pid = record.process
        return super().format(record)


LOGGING = {
    **LOGGING,
    "formatters": {**LOGGING["formatters"], "bench": {"()": "bench.workers_settings.ProcessJsonFormatter"}},
    "handlers": {
        **LOGGING["handlers"],
        "bench": {"class": "logging.FileHandler", "filename": os.environ["BENCH_WORKERS_LOG"], "formatter": "bench"},
    },
    "loggers": {"recommender": {"level": "INFO", "handlers": ["bench"], "propagate": False}},
}

if os.environ.get("BENCH_REFRESH_CHUNK"):
    RECOMMENDER = {**RECOMMENDER, "REFRESH_CHUNK": int(os.environ["BENCH_REFRESH_CHUNK"])}
