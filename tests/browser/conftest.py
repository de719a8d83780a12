"""Browser tests: headless Debian Chromium driven by Playwright, and plain static sites on other origins.

Playwright's sync API runs an event loop in the test thread, which Django would take for async code
and refuse ORM calls from; the test thread is the only user of its connection, so that check is off.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Callable, Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import IN_CI

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    """One headless Chromium for the session; skipped locally when missing, a failure under CI=true."""
    if not (os.path.exists(CHROMIUM) and shutil.which(CHROMIUM)):
        message = f"browser tests need Debian's chromium at {CHROMIUM}"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(chromium: Any) -> Iterator[Any]:
    context = chromium.new_context(viewport={"width": 1100, "height": 1150})
    tab = context.new_page()
    yield tab
    context.close()


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def static_site(tmp_path: Path) -> Iterator[Callable[[str], str]]:
    """Serve one HTML page from a new origin (127.0.0.1 on a free port); returns the page's url."""
    servers: list[ThreadingHTTPServer] = []

    def serve(html: str) -> str:
        root = tmp_path / f"site{len(servers)}"
        root.mkdir()
        (root / "index.html").write_text(html, encoding="utf-8")
        server = ThreadingHTTPServer(("127.0.0.1", 0), partial(QuietHandler, directory=str(root)))
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}/index.html"

    yield serve
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture
def db_turns(live_server: Any) -> Iterator[threading.Lock]:
    """A lock that the live server's requests and the test thread take before touching the database.

    With in-memory SQLite, Django shares one connection between the live server's request threads and
    the test thread; simultaneous queries on it fail at random ("cannot open savepoint"). Requests are
    serialised around the application call (not the connection, which keep-alive holds open).
    """
    lock = threading.Lock()
    httpd = live_server.thread.httpd
    app = httpd.get_app()

    def in_turn(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        with lock:
            return app(environ, start_response)

    httpd.set_app(in_turn)
    yield lock
    httpd.set_app(app)
