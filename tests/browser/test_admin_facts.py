"""Issue 11 in the browser: a merchandiser edits supplement facts and sees the dose caution, finds a product by
sku; marketing picks a product through autocomplete in a placement form."""

from __future__ import annotations

import threading
from importlib import import_module
from typing import Any

import pytest
from django.apps import apps as django_apps
from django.contrib.auth.models import Group, User
from django.core.management import call_command

from recommender.models import Placement
from shop.catalog.models import Product
from tests.browser.test_admin_flows import login, pick_autocomplete

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SKU = "TM-MM-GLY"  # Mega-Mag Magnesium Glycinate, 300 mg: within the 350 mg limit


@pytest.fixture
def store(live_server: Any, db_turns: threading.Lock) -> str:
    with db_turns:
        # A transactional test empties the tables after each test; the groups come from data migrations.
        import_module("recommender.migrations.0006_role_permissions").assign_roles(django_apps)
        import_module("shop.catalog.migrations.0003_merchandiser_facts").assign_grants(django_apps)
        call_command("load_demo", verbosity=0)
        call_command("refresh_recommendations", verbosity=0)
        for name in ("merchandiser", "marketing"):
            user = User.objects.create_user(name[:5], password="s3cret-pass", is_staff=True)
            user.groups.add(Group.objects.get(name=name))
    return str(live_server.url)


def test_merchandiser_edits_an_amount_above_the_limit_and_sees_the_dose_caution(
    page: Any, store: str, db_turns: threading.Lock
) -> None:
    login(page, store, "merch")
    page.goto(f"{store}/admin/catalog/product/?q={SKU}")
    rows = page.locator("#result_list tbody tr")
    assert rows.count() == 1
    assert "magnesium" in rows.first.locator(".field-tag_list").inner_text()
    rows.first.locator("th a").click()
    product_url = page.url
    page.goto(product_url.replace("/change/", "/recommender-preview/"))
    assert page.locator(".rec-product-cautions li[data-code='dose-magnesium']").count() == 0

    page.goto(product_url)
    amount = page.locator("input[name^='nutrients-'][name$='-amount']").first
    assert amount.input_value().startswith("300")
    amount.fill("500")
    page.click("input[name=_continue]")
    page.wait_for_selector(".messagelist .success")

    page.goto(product_url.replace("/change/", "/recommender-preview/"))
    caution = page.locator(".rec-product-cautions li[data-code='dose-magnesium']")
    assert caution.count() == 1
    assert "above the 350 mg daily upper limit" in caution.inner_text()
    with db_turns:
        assert Product.objects.get(sku=SKU).nutrients.get(code="magnesium").amount == 500


def test_marketing_picks_a_product_through_autocomplete_in_a_placement(
    page: Any, store: str, db_turns: threading.Lock
) -> None:
    login(page, store, "marke")
    page.goto(f"{store}/admin/recommender/placement/add/")
    pick_autocomplete(page, ".field-page", "How To Treat Restless")
    pick_autocomplete(page, ".field-product", "Mega-Mag Magnesium Glycinate")
    page.select_option("#id_action", "boost")
    page.fill("#id_factor", "1.5")
    page.click("input[name=_save]")
    page.wait_for_selector(".messagelist .success")
    with db_turns:
        placement = Placement.objects.get()
        assert placement.product.sku == SKU
