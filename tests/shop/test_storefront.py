"""The storefront: home, shop search and filters, localised prices, drawn labels, the session basket."""

from __future__ import annotations

from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.test import Client

from shop.catalog.models import Product
from shop.catalog.presentation import dosage_form

RLS = "how-to-treat-restless-leg-syndrome"
DROPS = "ConcenTrace Trace Mineral Drops"


def test_every_demo_product_has_a_committed_label(demo: None) -> None:
    for product in Product.objects.all():
        assert product.image.endswith(f"/shop/products/{product.slug}.svg"), product.name
        path = Path(settings.BASE_DIR) / "shop" / "static" / "shop" / "products" / f"{product.slug}.svg"
        assert path.read_text(encoding="utf-8").startswith("<svg"), product.name


def test_forms_come_from_the_serving_size() -> None:
    assert dosage_form("ConcenTrace Trace Mineral Drops", "1/2 tsp (40 drops)") == "liquid"
    assert dosage_form("Vitamin D3 5000 IU", "1 softgel") == "capsules"
    assert dosage_form("Cal/Mag/Zinc Tablets", "4 tablets") == "tablets"
    assert dosage_form("Hydration Electrolyte Mix", "1 stick (6 g)") == "powder"


def test_home_leads_with_articles_and_featured_products(demo: None, client: Client) -> None:
    html = client.get("/").content.decode()
    assert f"/learn/{RLS}/" in html
    assert "Featured products" in html and "/static/shop/products/" in html
    assert 'rel="icon"' in html


def test_shop_search_and_filters(demo: None, client: Client) -> None:
    html = client.get("/products/", {"q": "magnesium", "form": "capsules"}).content.decode()
    assert "Magnesium Glycinate 200 mg" in html and "Magnesium Oxide 400 mg" not in html
    html = client.get("/products/", {"nutrient": "iron"}).content.decode()
    assert "Liquid Ionic Iron" in html and DROPS not in html
    html = client.get("/products/", {"q": "no-such-thing"}).content.decode()
    assert "No product matches" in html


def test_prices_are_localised_everywhere(demo: None, client: Client) -> None:
    for url in ("/products/", "/products/concentrace-trace-mineral-drops/", f"/learn/{RLS}/"):
        html = client.get(url).content.decode()
        assert "$24.95" in html, url
        assert "24.95 USD" not in html, url


def test_the_basket_keeps_products_in_the_session(demo: None, client: Client) -> None:
    assert "empty" in client.get("/basket/").content.decode()
    client.post("/basket/add/", {"sku": "TM-CTD-8OZ", "quantity": 2})
    client.post("/basket/add/", {"sku": "VN-MGG-120", "quantity": 1})
    html = client.get("/basket/").content.decode()
    assert DROPS in html and "$69.89" in html
    assert client.get("/").content.decode().count('class="badge"') == 1
    client.post("/basket/update/", {"sku": "TM-CTD-8OZ", "quantity": 0})
    assert DROPS not in client.get("/basket/").content.decode()
    response = client.post("/basket/add/", {"sku": "TM-CTD-2OZ", "quantity": 1})  # out of stock
    assert response.status_code == 302
    assert client.session["basket"] == {"VN-MGG-120": 1}


def test_a_product_page_shows_all_its_own_cautions(demo: None, client: Client) -> None:
    html = client.get(Product.objects.get(sku="TM-CMZ-120").get_absolute_url()).content.decode()
    assert 'data-code="magnesium"' in html and 'data-code="dose-magnesium"' in html
    html = client.get(Product.objects.get(sku="HL-D3-5000").get_absolute_url()).content.decode()
    assert "5,000 IU (125 mcg) of vitamin D, above the 4,000 IU (100 mcg) daily upper limit" in html


def test_the_article_list_says_a_shared_caution_once(demo: None, client: Client) -> None:
    html = client.get(f"/learn/{RLS}/").content.decode()
    assert html.count('class="rec-item"') >= 4
    assert html.count('data-code="magnesium"') == 1
    assert f'data-rec-page="{RLS}"' in html
    assert "From the ConcenTrace line named in this article." in html
    assert "Trace Minerals is discussed" not in html


def test_load_demo_with_users_creates_one_user_per_role(db: None, settings: Any) -> None:
    import importlib

    from django.apps import apps as django_apps
    from django.contrib.auth.models import User

    importlib.import_module("recommender.migrations.0006_role_permissions").assign_roles(django_apps)
    settings.DEBUG = True
    out = StringIO()
    call_command("load_demo", "--with-users", stdout=out)
    text = out.getvalue()
    password = text.split("password for both: ")[1].split()[0]
    for role in ("merchandiser", "marketing"):
        user = User.objects.get(username=f"demo-{role}")
        assert user.is_staff and not user.is_superuser and user.check_password(password)
        assert list(user.groups.values_list("name", flat=True)) == [role]
        assert f"demo-{role}" in text


def test_load_demo_with_users_refuses_without_debug(db: None, settings: Any) -> None:
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG"):
        call_command("load_demo", "--with-users", stdout=StringIO())
