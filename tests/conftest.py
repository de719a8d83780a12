"""Shared test setup: eager tasks by default, a clean cache, the demo data, service detection."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.core.cache import cache
from django.core.management import call_command

from recommender.api.caching import local_counts, local_responses, local_slugs
from shop.celery import app as celery_app

IN_CI = os.environ.get("CI", "").lower() == "true"

# The contrib test hosts have their own settings and run in their own pytest process (Makefile `test`):
# `pytest tests/wagtailhost --ds=tests.wagtailhost.settings`, the same for tests/oscarhost.
CONTRIB_HOSTS = {"wagtailhost": "tests.wagtailhost.settings", "oscarhost": "tests.oscarhost.settings"}
collect_ignore = [name for name, module in CONTRIB_HOSTS.items() if module != settings.SETTINGS_MODULE]


def reachable(url: str, default_port: int) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or default_port), timeout=1):
            return True
    except OSError:
        return False


def require_services() -> None:
    """Skip locally when PostgreSQL or Redis is missing; fail under CI=true."""
    problems = []
    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        problems.append("DATABASE_URL does not point at PostgreSQL")
    elif not reachable(os.environ.get("DATABASE_URL", ""), 5432):
        problems.append("PostgreSQL is not reachable")
    if not settings.REDIS_URL:
        problems.append("REDIS_URL is not set")
    elif not reachable(settings.REDIS_URL, 6379):
        problems.append("Redis is not reachable")
    if problems:
        message = "integration services missing: " + "; ".join(problems)
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)


@pytest.fixture(autouse=True)
def _eager_tasks_and_clean_cache() -> Iterator[None]:
    """Tasks run in-process unless a test starts a real worker; every test starts with empty caches."""
    celery_app.conf.task_always_eager = True
    cache.clear()
    local_responses.forget()
    local_counts.clear()
    local_slugs.clear()
    yield
    celery_app.conf.task_always_eager = True


@pytest.fixture
def demo(db: None) -> None:
    """The demo taxonomy, catalog and articles, with lists refreshed."""
    call_command("load_demo", verbosity=0)
    call_command("refresh_recommendations", verbosity=0)
