"""Structured logs: the refresh service logs what it did as fields, and the JSON formatter writes them."""

from __future__ import annotations

import json
import logging
import sys

import pytest

from recommender.logs import JsonFormatter
from recommender.services.refresh import recommendations_refresh


def test_a_refresh_logs_its_figures_as_json(demo: None, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="recommender.services.refresh"):
        summary = recommendations_refresh()
    record = next(r for r in caplog.records if getattr(r, "event", "") == "recommendations_refreshed")
    line = json.loads(JsonFormatter().format(record))
    assert line["level"] == "INFO" and line["logger"] == "recommender.services.refresh"
    assert line["full"] is True and line["pages"] == summary.pages and line["products"] == summary.products
    assert line["total_s"] >= 0 and "refreshed" in line["message"]


def test_exceptions_are_kept_as_text() -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed", None, sys.exc_info())
    line = json.loads(JsonFormatter().format(record))
    assert line["message"] == "failed" and "ValueError: boom" in line["exc"]
