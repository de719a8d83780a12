"""The article fetcher's guards; nothing here leaves the machine.

Refused addresses are refused before any connection; the servers that do answer run on 127.0.0.1,
reached by letting the address check pass for exactly the hops a test means to allow.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from recommender import fetch
from recommender.fetch import FetchError, fetch_article

ARTICLE = b"""<!doctype html><html><head><title>Minerals and sleep</title><style>p{}</style></head>
<body><h1>Ignored heading</h1><p>Magnesium is discussed here.</p><script>alert(1)</script></body></html>"""


class Handler(BaseHTTPRequestHandler):
    """Routes: /article, /plain, /big (no length), /slow, /loop, /to-loopback, /to-article, /missing."""

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _send(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def drip(self, *, headers_too: bool) -> None:
        """A byte every 0.1 s for 10 s: no single read ever times out (issue 15's 40 s fetch)."""
        head = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n" + b"X-Pad: 1\r\n" * 50
        body = b"<p>" + b"x" * 100
        stream = head + b"\r\n" + body if headers_too else head + b"\r\n"
        with contextlib.suppress(OSError):
            if not headers_too:
                self.wfile.write(stream)
                stream = body
            for byte in stream:
                self.wfile.write(bytes([byte]))
                self.wfile.flush()
                time.sleep(0.1)

    def do_GET(self) -> None:
        port = self.server.server_address[1]
        html = {"Content-Type": "text/html; charset=utf-8"}
        routes: dict[str, Callable[[], None]] = {
            "/article": lambda: self._send(200, ARTICLE, {**html, "Content-Length": str(len(ARTICLE))}),
            "/plain": lambda: self._send(200, b"A title\nZinc text.", {"Content-Type": "text/plain"}),
            "/pdf": lambda: self._send(200, b"%PDF", {"Content-Type": "application/pdf"}),
            "/big": lambda: self._send(200, b"x" * 5000, html),
            "/big-declared": lambda: self._send(200, b"x" * 5000, {**html, "Content-Length": "5000"}),
            "/loop": lambda: self._send(302, headers={"Location": "/loop"}),
            "/to-article": lambda: self._send(301, headers={"Location": "/article"}),
            "/to-loopback": lambda: self._send(302, headers={"Location": f"http://127.0.0.1:{port}/article"}),
            "/missing": lambda: self._send(404, b"no"),
        }
        if self.path in ("/drip", "/drip-headers"):
            self.drip(headers_too=self.path == "/drip-headers")
            return
        if self.path == "/slow":
            time.sleep(1.5)
            with contextlib.suppress(OSError):  # the client has given up by now
                self._send(200, ARTICLE, html)
            return
        routes.get(self.path, routes["/missing"])()


@pytest.fixture
def server() -> Iterator[str]:
    """A local server on 127.0.0.1; returns its base url."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def allow_hops(monkeypatch: pytest.MonkeyPatch) -> Callable[[int], list[str]]:
    """Let the address check pass for the first `n` checks (the local server), then apply the real one."""
    real = fetch.address_refusal
    seen: list[str] = []

    def install(n: int) -> list[str]:
        def check(ip: Any) -> str | None:
            seen.append(str(ip))
            return None if len(seen) <= n else real(ip)

        monkeypatch.setattr(fetch, "address_refusal", check)
        return seen

    return install


@pytest.fixture
def no_dns(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail the test if a lookup of a name (not an address literal) is attempted."""
    real = socket.getaddrinfo

    def guarded(host: str, *args: Any, **kwargs: Any) -> Any:
        if host == "localhost" or (host.replace(".", "").replace(":", "").isalnum() and any(c.isdigit() for c in host)):
            return real(host, *args, **kwargs)
        raise AssertionError(f"unexpected DNS lookup of {host}")

    monkeypatch.setattr(socket, "getaddrinfo", guarded)


def fake_dns(monkeypatch: pytest.MonkeyPatch, answers: dict[str, list[str]]) -> None:
    def resolve(host: str, port: Any, *args: Any, **kwargs: Any) -> list[Any]:
        if host not in answers:
            raise socket.gaierror(f"unknown host {host}")
        family = {True: socket.AF_INET6, False: socket.AF_INET}
        return [(family[":" in a], socket.SOCK_STREAM, 6, "", (a, port)) for a in answers[host]]

    monkeypatch.setattr(socket, "getaddrinfo", resolve)


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://example.com/a.txt", "gopher://x/", "/learn/x/"])
def test_refuses_other_schemes(url: str) -> None:
    with pytest.raises(FetchError, match="Only http and https"):
        fetch_article(url)


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("http://127.0.0.1/", "loopback"),
        ("http://localhost:8000/admin/", "loopback"),
        ("http://10.0.0.1/", "private"),
        ("http://192.168.1.1/", "private"),
        ("http://172.16.5.4/", "private"),
        ("http://169.254.169.254/latest/meta-data/", "metadata"),
        ("http://169.254.1.1/", "link-local"),
        ("http://[::1]/", "loopback"),
        ("http://[fd00:ec2::254]/", "metadata"),
        ("http://[::ffff:127.0.0.1]/", "loopback"),
        ("http://0.0.0.0/", "unspecified"),
        ("http://224.0.0.1/", "multicast"),
        ("http://100.64.0.1/", "not a public"),
        ("http://[2002:7f00:1::]/", "6to4"),
        ("http://[2002:808:808::1]/", "6to4"),
    ],
)
def test_refuses_internal_addresses(url: str, why: str, no_dns: None) -> None:
    with pytest.raises(FetchError, match=why):
        fetch_article(url)


def test_refuses_a_name_that_resolves_to_a_private_address(monkeypatch: pytest.MonkeyPatch) -> None:
    fake_dns(monkeypatch, {"blog.example.com": ["10.1.2.3"]})
    with pytest.raises(FetchError, match=r"blog\.example\.com resolves to 10\.1\.2\.3 is a private address"):
        fetch_article("https://blog.example.com/post")


def test_every_resolved_address_is_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    fake_dns(monkeypatch, {"mixed.example.com": ["93.184.216.34", "127.0.0.1"]})
    with pytest.raises(FetchError, match="loopback"):
        fetch_article("http://mixed.example.com/")


def test_unknown_host(monkeypatch: pytest.MonkeyPatch) -> None:
    fake_dns(monkeypatch, {})
    with pytest.raises(FetchError, match="could not be resolved"):
        fetch_article("http://nowhere.invalid/")


def test_connects_to_the_checked_address_not_a_second_lookup(
    monkeypatch: pytest.MonkeyPatch, server: str, allow_hops: Callable[[int], list[str]]
) -> None:
    """The name is resolved once; a rebinding second answer is never asked for."""
    port = server.rsplit(":", 1)[1]
    answers = iter([["127.0.0.1"], ["10.0.0.1"]])
    monkeypatch.setattr(
        socket,
        "getaddrinfo",
        lambda host, p, *a, **k: [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (x, p)) for x in next(answers)],
    )
    allow_hops(1)
    page = fetch_article(f"http://news.example.com:{port}/article")
    assert page.title == "Minerals and sleep"


def test_fetches_title_and_text(server: str, allow_hops: Callable[[int], list[str]]) -> None:
    allow_hops(1)
    page = fetch_article(f"{server}/article")
    assert page.title == "Minerals and sleep"
    assert "Magnesium is discussed here." in page.text
    assert "alert" not in page.text and "p{}" not in page.text


def test_plain_text_first_line_is_the_title(server: str, allow_hops: Callable[[int], list[str]]) -> None:
    allow_hops(1)
    page = fetch_article(f"{server}/plain")
    assert (page.title, page.text) == ("A title", "Zinc text.")


def test_follows_an_allowed_redirect(server: str, allow_hops: Callable[[int], list[str]]) -> None:
    allow_hops(2)
    page = fetch_article(f"{server}/to-article")
    assert page.url == f"{server}/article"
    assert page.title == "Minerals and sleep"


def test_refuses_a_redirect_to_loopback(server: str, allow_hops: Callable[[int], list[str]]) -> None:
    seen = allow_hops(1)  # only the first hop (the "public" server) passes the check
    with pytest.raises(FetchError, match=r"127\.0\.0\.1 is a loopback address"):
        fetch_article(f"{server}/to-loopback")
    assert seen == ["127.0.0.1", "127.0.0.1"]  # the second hop was checked and refused


def test_refuses_a_redirect_to_another_scheme(monkeypatch: pytest.MonkeyPatch) -> None:
    real = fetch._request

    def redirecting(url: str, deadline: float) -> Any:
        return (302, "file:///etc/passwd", None, b"") if url.startswith("http:") else real(url, deadline)

    monkeypatch.setattr(fetch, "_request", redirecting)
    with pytest.raises(FetchError, match="Only http and https"):
        fetch_article("http://example.com/")


def test_at_most_three_redirects(server: str, allow_hops: Callable[[int], list[str]]) -> None:
    seen = allow_hops(100)
    with pytest.raises(FetchError, match="Too many redirects"):
        fetch_article(f"{server}/loop")
    assert len(seen) == 4  # the first request and three redirects


@pytest.mark.parametrize("path", ["/big", "/big-declared"])
def test_size_cap(path: str, server: str, allow_hops: Callable[[int], list[str]], settings: Any) -> None:
    settings.RECOMMENDER = {**settings.RECOMMENDER, "FETCH_MAX_BYTES": 1024}
    allow_hops(1)
    with pytest.raises(FetchError, match="larger than the 1 KB limit"):
        fetch_article(f"{server}{path}")


def test_timeout(server: str, allow_hops: Callable[[int], list[str]], settings: Any) -> None:
    settings.RECOMMENDER = {**settings.RECOMMENDER, "FETCH_TIMEOUT": 0.3}
    allow_hops(1)
    started = time.monotonic()
    with pytest.raises(FetchError, match="took too long"):
        fetch_article(f"{server}/slow")
    assert time.monotonic() - started < 1.4


@pytest.mark.parametrize("path", ["/drip", "/drip-headers"])
def test_a_dripping_server_cannot_hold_the_fetch_past_the_timeout(
    path: str, server: str, allow_hops: Callable[[int], list[str]], settings: Any
) -> None:
    """Regression (issue 15): the timeout was per read, so a byte every 0.1 s held the fetch for 10 s and more."""
    settings.RECOMMENDER = {**settings.RECOMMENDER, "FETCH_TIMEOUT": 1}
    allow_hops(1)
    started = time.monotonic()
    with pytest.raises(FetchError, match="took too long"):
        fetch_article(f"{server}{path}")
    assert time.monotonic() - started < 2.0


def test_errors_and_non_pages(server: str, allow_hops: Callable[[int], list[str]]) -> None:
    allow_hops(2)
    with pytest.raises(FetchError, match="status 404"):
        fetch_article(f"{server}/missing")
    with pytest.raises(FetchError, match="not a web page"):
        fetch_article(f"{server}/pdf")


def test_allow_list(monkeypatch: pytest.MonkeyPatch, settings: Any) -> None:
    settings.RECOMMENDER = {**settings.RECOMMENDER, "FETCH_ALLOWED_HOSTS": ["blog.example.org", ".example.net"]}
    fake_dns(monkeypatch, {"blog.example.org": ["10.0.0.9"], "a.example.net": ["10.0.0.9"]})
    with pytest.raises(FetchError, match="not on the allowed list"):
        fetch_article("http://evil.example.com/")
    with pytest.raises(FetchError, match="not on the allowed list"):
        fetch_article("http://example.org/")
    # Allowed hosts still go through the address check.
    for url in ("http://blog.example.org/", "http://a.example.net/"):
        with pytest.raises(FetchError, match="private address"):
            fetch_article(url)


def test_refuses_credentials_in_url() -> None:
    with pytest.raises(FetchError, match="user name or password"):
        fetch_article("http://user:pw@example.com/")
