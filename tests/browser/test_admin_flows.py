"""A merchandiser and a marketing user at work in the admin, in headless Chromium against the live server.

Each change is checked where shoppers see it: the RLS article's list. Celery runs eagerly and, in
these transactional tests, after each real commit, as it would with a worker. Screenshots go to
test-artifacts/.
"""

from __future__ import annotations

import datetime as dt
import threading
from importlib import import_module
from pathlib import Path
from typing import Any

import pytest
from django.apps import apps as django_apps
from django.contrib.auth.models import Group, User
from django.core.management import call_command
from django.utils import timezone

from recommender.models import ContentPage, DailyStat, ProductTag, Tag
from shop.catalog.models import Product

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

RLS = "how-to-treat-restless-leg-syndrome"
WHEY = "Whey Protein Powder, Vanilla"
COLLAGEN = "Collagen Peptides, Unflavoured"
PASTED = """Minerals and a good night's sleep

Many readers ask about magnesium in the evening. This article discusses magnesium glycinate and
magnesium citrate, trace minerals and hydration, and what the research on supplements says so far."""


@pytest.fixture
def store(live_server: Any, db_turns: threading.Lock) -> str:
    with db_turns:
        # A transactional test empties the tables after each test; the groups come from a data migration.
        import_module("recommender.migrations.0006_role_permissions").assign_roles(django_apps)
        import_module("shop.catalog.migrations.0003_merchandiser_facts").assign_grants(django_apps)
        call_command("load_demo", verbosity=0)
        call_command("refresh_recommendations", verbosity=0)
        for name in ("merchandiser", "marketing"):
            user = User.objects.create_user(name[:5], password="s3cret-pass", is_staff=True)
            user.groups.add(Group.objects.get(name=name))
    return str(live_server.url)


def login(page: Any, store: str, username: str) -> None:
    page.goto(f"{store}/admin/login/?next=/admin/")
    page.fill("#id_username", username)
    page.fill("#id_password", "s3cret-pass")
    page.click("input[type=submit]")
    page.wait_for_selector("#site-name")


def widget_names(page: Any, store: str) -> list[str]:
    page.goto(f"{store}/learn/{RLS}/")
    return [n.strip() for n in page.locator(".rec-widget .rec-name").all_inner_texts()]


def stored_list(page: Any, store: str) -> list[str]:
    """The page's whole stored list (the article shows the first six)."""
    data = page.request.get(f"{store}/api/v1/pages/{RLS}/recommendations/?limit=20").json()
    return [item["product"]["name"] for item in data["items"]]


def pick_autocomplete(page: Any, container: str, text: str) -> None:
    """Choose `text` in the select2 autocomplete inside `container`."""
    page.locator(f"{container} .select2-selection").click()
    page.locator(".select2-search__field").fill(text)
    page.locator(".select2-results__option", has_text=text).first.click()


def refused(page: Any, url: str) -> bool:
    response = page.goto(url)
    return response.status == 403 or "/admin/login/" in page.url


def test_merchandiser_tags_approves_and_bulk_tags(
    page: Any, store: str, db_turns: threading.Lock, artifacts: Path
) -> None:
    with db_turns:
        whey = Product.objects.get(name=WHEY)
        ProductTag.objects.create(
            product=whey, tag=Tag.objects.get(slug="trace-minerals"), relevance=0.9, source="text", status="suggested"
        )
        rls_id = ContentPage.objects.get(slug=RLS).pk
    assert WHEY not in stored_list(page, store)
    login(page, store, "merch")

    # One product, by the inline: a new tag (autocomplete) and a suggestion approved by its status.
    page.goto(f"{store}/admin/catalog/product/{whey.pk}/change/")
    assert page.locator("#recommender_tags-0 td.field-source").inner_text().strip() == "Product text"
    page.select_option("#id_recommender_tags-0-status", "approved")
    new = int(page.locator("#id_recommender_tags-TOTAL_FORMS").input_value())
    page.locator("#recommender_tags-group .add-row a").click()
    pick_autocomplete(page, f"#recommender_tags-{new}", "ConcenTrace")
    page.fill(f"#id_recommender_tags-{new}-relevance", "1")
    page.click("input[name=_continue]")
    assert "was changed successfully" in page.locator(".messagelist").inner_text()
    page.locator("#recommender_tags-group").scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts / "admin-merchandiser.png"), full_page=True)
    with db_turns:
        rows = dict(ProductTag.objects.filter(product=whey).values_list("tag__slug", "status"))
        creator = ProductTag.objects.get(product=whey, tag__slug="concentrace").created_by.username
    assert rows == {"trace-minerals": "approved", "concentrace": "approved"} and creator == "merch"
    assert WHEY in stored_list(page, store)  # refreshed after commit, below the fold for now
    assert WHEY not in widget_names(page, store)

    # Many products at once: the bulk action with its intermediate page.
    page.goto(f"{store}/admin/catalog/product/?q=whey")
    page.locator("input.action-select").first.check()
    page.select_option("select[name=action]", "recommender_add_tag")
    page.click("button[name=index]")
    page.select_option("#id_tag", label="Magnesium")
    page.fill("#id_relevance", "1")
    page.click("input[name=apply]")
    assert "added to 1 products" in page.locator(".messagelist").inner_text()
    assert WHEY in widget_names(page, store)[:6]

    # The other role's screens are refused.
    for url in (
        "/admin/recommender/dailystat/",
        f"/admin/recommender/contentpage/{rls_id}/preview/",
        "/admin/recommender/contentpage/add-external/",
        "/admin/recommender/placement/add/",
        "/admin/auth/user/",
    ):
        assert refused(page, f"{store}{url}"), url


def test_marketing_registers_overrides_previews_and_pins(
    page: Any, store: str, db_turns: threading.Lock, artifacts: Path
) -> None:
    with db_turns:
        rls = ContentPage.objects.get(slug=RLS)
        drops = Product.objects.get(sku="TM-CTD-8OZ")
        today = timezone.localdate()
        for n in range(14):
            shown = 40 + (n * 37) % 60
            DailyStat.objects.create(
                page=rls, product=drops, day=today - dt.timedelta(days=n), impressions=shown, clicks=shown // 9
            )
    login(page, store, "marke")

    # A pasted article: preview first (nothing saved), then register it.
    page.goto(f"{store}/admin/recommender/contentpage/add-external/")
    page.fill("#id_title", "Minerals and a good night's sleep")
    page.fill("#id_text", PASTED)
    page.click("input[name=_preview]")
    assert page.locator(".rec-widget .rec-item").count() > 0
    page.click("input[name=_save]")
    assert "registered" in page.locator(".messagelist").inner_text()

    # Override a tag: the edited row becomes manual and stays.
    magnesium = page.locator("#page_tags-group tr.form-row").filter(
        has=page.locator(".select2-selection__rendered[title='Magnesium']")
    )
    magnesium.locator("input[name$='-weight']").fill("0.4")
    page.click("input[name=_continue]")
    magnesium = page.locator("#page_tags-group tr.form-row").filter(
        has=page.locator(".select2-selection__rendered[title='Magnesium']")
    )
    assert magnesium.locator("td.field-source").inner_text().strip() == "Manual"
    assert "data-page-url" not in page.locator("#embed").inner_text()  # pasted: no address to embed

    # Preview what shoppers see.
    page.click("text=Preview what shoppers see")
    assert page.locator(".rec-widget .rec-item").count() > 0
    assert "not intended to diagnose" in page.locator(".rec-disclaimer").inner_text()
    page.screenshot(path=str(artifacts / "admin-marketing-preview.png"), full_page=True)

    # Pin a product on the RLS article and see it first on the live page.
    assert COLLAGEN not in widget_names(page, store)
    page.goto(f"{store}/admin/recommender/contentpage/{rls.pk}/change/")
    assert "/static/recommender/widget.js" in page.locator("#embed-snippet").input_value()
    page.click("text=Pin a product here")
    pick_autocomplete(page, ".field-product", COLLAGEN)  # a 20,000-product catalog needs a search, not a select
    page.fill("#id_campaign", "sleep-week")
    page.click("input[name=_save]")
    assert "was added successfully" in page.locator(".messagelist").inner_text()
    assert widget_names(page, store)[0] == COLLAGEN

    page.goto(f"{store}/admin/recommender/dailystat/")
    assert int(page.locator("#total-impressions").inner_text()) > 0
    page.screenshot(path=str(artifacts / "admin-stats.png"), full_page=True)

    # Products are viewable (the pickers search them) but not changeable; tag import and groups are refused.
    for url in ("/admin/catalog/product/add/", "/admin/recommender/producttag/import/", "/admin/auth/group/"):
        assert refused(page, f"{store}{url}"), url
