"""The embeddable widget on a page from another origin, in headless Chromium.

The store runs on pytest-django's live server; a plain HTML page on a second origin embeds
widget.js. The list, its disclaimer, an impression once scrolled into view and a click are checked
against the database; a page on a third origin, not allowed by CORS, shows nothing and counts nothing.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.core.management import call_command
from django.db.models import Sum

from recommender.models import DailyStat

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

RLS = "how-to-treat-restless-leg-syndrome"
DROPS = "ConcenTrace Trace Mineral Drops"

BLOG = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>A blog on another host</title>
<style>
  body {{ margin: 0; background: #fbf7f0; font: 17px/1.7 Georgia, serif; color: #333; }}
  main {{ max-width: 720px; margin: 0 auto; padding: 2rem 1.5rem; }}
  .spacer {{ height: 1400px; border-left: 3px solid #e8dcc8; padding-left: 1rem; color: #8a7a60; }}
  a {{ color: #b00; font-family: "Comic Sans MS", cursive; }}
</style></head>
<body><main>
  <h1>Sleep, restless legs and minerals</h1>
  <p>Notes on restless legs syndrome from a blog that embeds the store's widget.</p>
  <div class="spacer">(the rest of the article)</div>
  <h2>Further reading</h2>
  <script src="{store}/static/recommender/widget.js" data-page-url="{store}/learn/{slug}/" data-limit="3"
          async></script>
  <p>Thanks for reading.</p>
</main></body></html>
"""


def totals(turns: threading.Lock) -> tuple[int, int]:
    """Impressions and clicks over all rows, read when the live server is not using the connection."""
    with turns:
        sums = DailyStat.objects.aggregate(impressions=Sum("impressions"), clicks=Sum("clicks"))
    return sums["impressions"] or 0, sums["clicks"] or 0


def drops_stat(turns: threading.Lock) -> DailyStat:
    with turns:
        return DailyStat.objects.select_related("page").get(product__name=DROPS)


def wait_for(condition: Callable[[], bool], seconds: float = 10) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return condition()


def origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


@pytest.fixture
def store(live_server: Any, db_turns: threading.Lock) -> str:
    """The demo on the live server; its requests take turns on the shared in-memory SQLite connection
    (the store's own pages now send their impressions too, several at once)."""
    with db_turns:
        call_command("load_demo", verbosity=0)
        call_command("refresh_recommendations", verbosity=0)
    return str(live_server.url)


@pytest.fixture
def blog(store: str, static_site: Callable[[str], str], settings: Any) -> str:
    url = static_site(BLOG.format(store=store, slug=RLS))
    settings.CORS_ALLOWED_ORIGINS = [origin(url)]
    return url


def test_widget_script_is_served(store: str, page: Any) -> None:
    response = page.request.get(f"{store}/static/recommender/widget.js")
    assert response.ok
    assert "attachShadow" in response.text()


def test_embedded_widget_shows_the_list_and_counts_impressions_and_clicks(
    store: str, blog: str, page: Any, artifacts: Path, db_turns: threading.Lock
) -> None:
    page.goto(blog)
    widget = page.locator(".rec-widget-host .rec-widget")  # Playwright's css engine pierces open shadow roots
    widget.wait_for(state="visible", timeout=10_000)
    assert page.evaluate("document.querySelector('.rec-widget-host').shadowRoot !== null")
    assert DROPS in widget.locator(".rec-list").inner_text()
    assert "not been evaluated by the Food and Drug Administration" in widget.locator(".rec-disclaimer").inner_text()
    assert widget.locator(".rec-reason").count() >= widget.locator(".rec-item").count() == 3
    assert widget.locator(".rec-caution").count() > 0
    assert widget.get_attribute("aria-labelledby") == "rec-widget-title"
    assert widget.locator("#rec-widget-title").inner_text() == "Products related to this article"
    # the blog's own CSS (Comic Sans links) stays out of the shadow root
    assert widget.locator(".rec-name").first.evaluate("e => getComputedStyle(e).fontFamily").startswith("system-ui")

    time.sleep(1)
    assert totals(db_turns) == (0, 0), "nothing is counted while the list is below the fold"
    page.locator("h2", has_text="Further reading").scroll_into_view_if_needed()
    page.evaluate("window.scrollBy(0, document.querySelector('h2').getBoundingClientRect().top - 16)")
    assert wait_for(lambda: totals(db_turns)[0] > 0), "an impression is counted once the list is on screen"
    page.wait_for_timeout(300)
    page.screenshot(path=str(artifacts / "widget-embedded.png"))
    items = widget.locator(".rec-item")
    items.last.scroll_into_view_if_needed()
    assert wait_for(lambda: totals(db_turns)[0] == items.count()), "one impression per item shown"
    page.evaluate("window.scrollTo(0, 0)")
    widget.scroll_into_view_if_needed()
    page.wait_for_timeout(500)
    assert totals(db_turns)[0] == items.count(), "seeing the list again counts nothing more"
    first = drops_stat(db_turns)
    assert (first.page.slug, first.impressions, first.clicks) == (RLS, 1, 0)

    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.shadowRoot?.activeElement?.textContent || ''")
    assert DROPS in focused, "the first product is a real, focusable link"

    link = widget.locator(".rec-item").first.locator(".rec-name")
    with page.expect_navigation():
        link.click()
    assert page.url.startswith(f"{store}/products/") and "utm_" in page.url
    assert wait_for(lambda: totals(db_turns)[1] == 1), "following a product link counts a click"
    assert drops_stat(db_turns).clicks == 1


def test_an_origin_not_allowed_gets_nothing(
    store: str, blog: str, page: Any, static_site: Callable[[str], str], db_turns: threading.Lock
) -> None:
    stranger = static_site(BLOG.format(store=store, slug=RLS))
    assert origin(stranger) != origin(blog)
    page.goto(stranger)
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(500)
    host = page.locator(".rec-widget-host")
    assert host.count() == 1 and host.is_hidden()
    assert page.locator(".rec-item").count() == 0
    page.mouse.wheel(0, 3000)
    page.wait_for_timeout(1000)
    assert totals(db_turns) == (0, 0)


def test_the_store_page_renders_the_same_markup(store: str, page: Any, artifacts: Path) -> None:
    page.goto(f"{store}/learn/{RLS}/")
    widget = page.locator("aside .rec-widget")
    assert DROPS in widget.locator(".rec-item").first.locator(".rec-name").inner_text()
    widget.locator(".rec-link").first.focus()
    assert page.evaluate("document.activeElement.classList.contains('rec-link')")
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.classList.contains('rec-link')"), "reachable with Tab"
    widget.screenshot(path=str(artifacts / "widget-store.png"))
