"""Issue 14, Wagtail: the editor's Recommendations tab renders its preview in headless Chromium (screenshot)."""

from __future__ import annotations

import os
import shutil
from typing import Any

import pytest
from django.test import Client

from tests.browser.conftest import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS
from tests.conftest import IN_CI

pytestmark = pytest.mark.browser


@pytest.fixture
def browser_page() -> Any:
    if not (os.path.exists(CHROMIUM) and shutil.which(CHROMIUM)):
        message = f"browser tests need Debian's chromium at {CHROMIUM}"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 1200})
        yield context
        browser.close()


def test_recommendations_tab_shows_the_preview(transactional_db, live_server, rls_draft, browser_page, admin_user):
    rls_draft.save_revision().publish()
    client = Client()
    client.force_login(admin_user)
    session = client.cookies["sessionid"].value
    browser_page.add_cookies([{"name": "sessionid", "value": session, "url": live_server.url}])
    tab = browser_page.new_page()
    tab.goto(f"{live_server.url}/cms/pages/{rls_draft.pk}/edit/")
    tab.get_by_role("tab", name="Recommendations").click()
    panel = tab.locator("[data-recommender-panel]")
    panel.locator(".rec-item").first.wait_for(state="visible")
    assert "What shoppers see on this page now." in panel.inner_text()
    assert "ConcenTrace" in panel.locator(".rec-item").first.inner_text() or "ConcenTrace" in panel.inner_text()
    ARTIFACTS.mkdir(exist_ok=True)
    tab.screenshot(path=str(ARTIFACTS / "wagtail-editor-recommendations.png"), full_page=True)
    assert panel.get_by_role("link", name="Pin a product").is_visible()
