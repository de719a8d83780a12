"""Fetch an external article server-side without letting a URL reach inside the network (SSRF).

Marketing registers external articles by URL, and the server fetches them. A URL is a request the
server makes on someone's behalf, so: http and https only; every address the host resolves to must
be public (no loopback, private, link-local, multicast, reserved, unspecified or cloud metadata
address); the connection goes to the address that was checked, so a second DNS answer cannot swap
in another one (rebinding); each redirect hop is checked the same way, at most a few of them; the
whole fetch has a deadline and a size cap; an optional host allow-list narrows it further.
"""

from __future__ import annotations

import contextlib
import http.client
import ipaddress
import re
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import Message
from urllib.parse import urljoin, urlsplit

from recommender.conf import recommender_settings
from recommender.text.clean import plain_text

METADATA_ADDRESSES = frozenset({ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254")})
REDIRECTS = frozenset({301, 302, 303, 307, 308})
TEXT_TYPES = ("text/html", "application/xhtml+xml", "text/plain")
USER_AGENT = "recommender-fetch/1.0 (+article registration)"
_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)
_H1 = re.compile(r"<h1[^>]*>(.*?)</h1>", re.IGNORECASE | re.DOTALL)

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class FetchError(Exception):
    """The URL was refused or could not be fetched; `reason` is fit to show in the admin form."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class FetchedPage:
    """What an article URL gave: the final URL after redirects, a title and plain text."""

    url: str
    title: str
    text: str


def address_refusal(ip: IPAddress) -> str | None:
    """Why this address may not be fetched, or None when it is a public address."""
    if isinstance(ip, ipaddress.IPv6Address) and ip.sixtofour is not None:
        return f"{ip} is a 6to4 address (2002::/16), which can reach any IPv4 address through a relay"
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    checks = [
        (ip in METADATA_ADDRESSES, "a cloud metadata address"),
        (ip.is_loopback, "a loopback address"),
        (ip.is_unspecified, "an unspecified address"),
        (ip.is_link_local, "a link-local address"),
        (ip.is_multicast, "a multicast address"),
        (ip.is_private, "a private address"),
        (ip.is_reserved, "a reserved address"),
        (not ip.is_global, "not a public address"),
    ]
    return next((f"{ip} is {why}" for refused, why in checks if refused), None)


def host_allowed(host: str) -> bool:
    """True when no allow-list is set, or the host is on it ("example.com", or ".example.com" for subdomains)."""
    allowed = recommender_settings.FETCH_ALLOWED_HOSTS
    if not allowed:
        return True
    host = host.lower().rstrip(".")
    for entry in allowed:
        entry = entry.lower()
        if host == entry.lstrip(".") or (entry.startswith(".") and host.endswith(entry)):
            return True
    return False


def resolve_public(host: str, port: int) -> IPAddress:
    """Resolve the host and return an address to connect to; every resolved address must be public."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise FetchError(f"The host {host} could not be resolved.") from exc
    addresses = [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]
    if not addresses:
        raise FetchError(f"The host {host} could not be resolved.")
    for ip in addresses:
        refusal = address_refusal(ip)
        if refusal:
            raise FetchError(f"Refused: {host} resolves to {refusal}.")
    return addresses[0]


def _connect(ip: IPAddress, port: int, timeout: float | None) -> socket.socket:
    """A TCP connection to exactly this address (no name lookup at all, not even of the literal)."""
    family = socket.AF_INET6 if ip.version == 6 else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.settimeout(timeout)
        sock.connect((str(ip), port))
    except BaseException:
        sock.close()
        raise
    return sock


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """An HTTP connection to a checked address; the Host header still names the host."""

    def __init__(self, host: str, port: int, ip: IPAddress, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._ip = ip

    def connect(self) -> None:
        self.sock = _connect(self._ip, self.port, self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """An HTTPS connection to a checked address; the certificate is verified for the host name."""

    def __init__(self, host: str, port: int, ip: IPAddress, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._ip = ip

    def connect(self) -> None:
        sock = _connect(self._ip, self.port, self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)  # type: ignore[attr-defined]


@dataclass(frozen=True)
class _Target:
    scheme: str
    host: str
    port: int
    path: str


def _target(url: str) -> _Target:
    """Check the URL's scheme, host and allow-list; refuse anything that is not plain http(s)."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https"):
        raise FetchError(f"Only http and https URLs can be fetched, not {parts.scheme or 'a bare path'}.")
    if not parts.hostname:
        raise FetchError("The URL has no host.")
    if parts.username or parts.password:
        raise FetchError("URLs with a user name or password are not fetched.")
    if not host_allowed(parts.hostname):
        raise FetchError(f"The host {parts.hostname} is not on the allowed list (RECOMMENDER['FETCH_ALLOWED_HOSTS']).")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise FetchError("The URL has an invalid port.") from exc
    path = parts.path or "/"
    return _Target(parts.scheme, parts.hostname, port, f"{path}?{parts.query}" if parts.query else path)


def _read_capped(response: http.client.HTTPResponse, deadline: float) -> bytes:
    """The body, refusing one longer than FETCH_MAX_BYTES or slower than the deadline."""
    cap = int(recommender_settings.FETCH_MAX_BYTES)
    declared = response.getheader("Content-Length")
    if declared and declared.isdigit() and int(declared) > cap:
        raise FetchError(f"The page is larger than the {cap // 1024} KB limit.")
    chunks: list[bytes] = []
    size = 0
    while True:
        if time.monotonic() > deadline:
            raise FetchError("The site took too long to answer.")
        chunk = response.read1(64 * 1024)
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if size > cap:
            raise FetchError(f"The page is larger than the {cap // 1024} KB limit.")
        chunks.append(chunk)


@contextlib.contextmanager
def _watchdog(conn: http.client.HTTPConnection, deadline: float) -> Iterator[threading.Event]:
    """Shut the connection's socket down at the deadline, whatever call is blocked on it.

    Socket timeouts bound each read, not the fetch: a server that drips a byte a second never trips
    them. Shutting the socket down from a timer ends any blocked read (headers, TLS or body) at once.
    """
    expired = threading.Event()

    def expire() -> None:
        expired.set()
        if conn.sock is not None:
            with contextlib.suppress(OSError):
                conn.sock.shutdown(socket.SHUT_RDWR)

    timer = threading.Timer(max(0.0, deadline - time.monotonic()), expire)
    timer.daemon = True
    timer.start()
    try:
        yield expired
    finally:
        timer.cancel()


def _request(url: str, deadline: float) -> tuple[int, str, Message, bytes]:
    """One GET to a checked address: (status, redirect location, headers, body)."""
    target = _target(url)
    ip = resolve_public(target.host, target.port)
    timeout = max(0.1, deadline - time.monotonic())
    pinned = _PinnedHTTPSConnection if target.scheme == "https" else _PinnedHTTPConnection
    conn = pinned(target.host, target.port, ip, timeout)
    try:
        with _watchdog(conn, deadline) as expired:
            try:
                return _exchange(conn, target, deadline)
            finally:
                if expired.is_set():
                    raise FetchError(f"The site took too long to answer (the limit is {_limit()} s in all).")
    except TimeoutError as exc:
        raise FetchError("The site took too long to answer.") from exc
    except ssl.SSLError as exc:
        raise FetchError(f"The secure connection failed: {exc.reason or exc}.") from exc
    except (OSError, http.client.HTTPException) as exc:
        raise FetchError(f"The site could not be reached ({exc.__class__.__name__}).") from exc
    finally:
        conn.close()


def _exchange(conn: http.client.HTTPConnection, target: _Target, deadline: float) -> tuple[int, str, Message, bytes]:
    conn.request("GET", target.path, headers={"User-Agent": USER_AGENT, "Accept": "text/html, text/plain"})
    response = conn.getresponse()
    if response.status in REDIRECTS:
        return response.status, response.getheader("Location") or "", response.headers, b""
    return response.status, "", response.headers, _read_capped(response, deadline)


def _limit() -> str:
    return f"{float(recommender_settings.FETCH_TIMEOUT):g}"


def fetch_raw(url: str) -> tuple[str, Message, bytes]:
    """GET the URL following at most FETCH_MAX_REDIRECTS redirects, each hop checked: (final url, headers, body)."""
    deadline = time.monotonic() + float(recommender_settings.FETCH_TIMEOUT)
    for _hop in range(int(recommender_settings.FETCH_MAX_REDIRECTS) + 1):
        status, location, headers, body = _request(url, deadline)
        if status not in REDIRECTS:
            if status != 200:
                raise FetchError(f"The site answered with status {status}.")
            return url, headers, body
        if not location:
            raise FetchError("The site sent a redirect without a location.")
        url = urljoin(url, location)
    raise FetchError(f"Too many redirects (more than {recommender_settings.FETCH_MAX_REDIRECTS}).")


def page_from_markup(url: str, markup: str) -> FetchedPage:
    """Title from <title> or the first <h1>, and plain text, from an HTML document."""
    match = _TITLE.search(markup) or _H1.search(markup)
    title = plain_text(match.group(1)) if match else ""
    body = re.sub(r"<head\b.*?</head>", " ", markup, flags=re.IGNORECASE | re.DOTALL)
    return FetchedPage(url=url, title=" ".join(title.split())[:300], text=plain_text(body))


def fetch_article(url: str) -> FetchedPage:
    """Fetch an article page and return its title and plain text; raises FetchError with a reason."""
    final_url, headers, body = fetch_raw(url)
    content_type = headers.get_content_type()
    if content_type not in TEXT_TYPES:
        raise FetchError(f"The URL is not a web page (it is {content_type}).")
    try:
        markup = body.decode(headers.get_content_charset() or "utf-8", errors="replace")
    except LookupError:  # an unknown charset name
        markup = body.decode("utf-8", errors="replace")
    if content_type == "text/plain":
        lines = plain_text(markup).splitlines()
        return FetchedPage(final_url, lines[0][:300] if lines else "", "\n".join(lines[1:]))
    return page_from_markup(final_url, markup)
