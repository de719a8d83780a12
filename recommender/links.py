"""URLs the plugin stores and serves as links: what a page url may be, and links with UTM parameters.

A page url is shown to shoppers and staff as a link ("read more", the admin preview, the embed
snippet), so it may only be an http(s) address or a path on this site. Anything else (`javascript:`,
`data:`, a protocol-relative `//host`) is refused when written and never rendered as a link, so a
page stored before this rule cannot become one either.
"""

from __future__ import annotations

import re
from urllib.parse import urlencode, urlsplit

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator

PASTED_PREFIX = "pasted:"
_PASTED = re.compile(r"^pasted:[-a-zA-Z0-9_]+$")
_SITE_PATH = re.compile(r"^/(?![/\\])")
# Never valid unencoded in a URL, and the characters that break out of an HTML attribute or tag.
_UNSAFE = re.compile(r"[\s\x00-\x1f\x7f<>\"`\\{}|^]")
_http_url = URLValidator(schemes=["http", "https"])


def is_site_path(url: str) -> bool:
    """A path on this site: starts with one slash (not two: `//host` is another site)."""
    return bool(_SITE_PATH.match(url)) and not _UNSAFE.search(url)


def is_http_url(url: str) -> bool:
    """An absolute http(s) address with nothing in it that a browser would have to repair."""
    if _UNSAFE.search(url):
        return False
    try:
        _http_url(url)
    except ValidationError:
        return False
    return True


def linkable(url: str | None) -> str | None:
    """The url when it is safe to render as a link (http(s) or a site path), else None."""
    if url and (is_site_path(url) or is_http_url(url)):
        return url
    return None


def pasted_url(slug: str) -> str:
    """The placeholder key of an article pasted without an address; it is never linked."""
    return f"{PASTED_PREFIX}{slug}"


def validate_page_url(value: str) -> None:
    """A content page's url: an http(s) address, a path on this site, or a pasted article's placeholder."""
    if linkable(value) or _PASTED.match(value or ""):
        return
    raise ValidationError(
        "Enter an http:// or https:// address, or a path on this site starting with '/'.", code="invalid_page_url"
    )


def with_params(url: str, params: dict[str, str]) -> str:
    """The url with UTM parameters appended."""
    query = urlencode({k: v for k, v in params.items() if v})
    if not query:
        return url
    return f"{url}{'&' if urlsplit(url).query else '?'}{query}"
