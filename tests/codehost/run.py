"""Run the API and the admin inside a host whose products identify by `code`, and print what was seen as JSON.

Used by tests/recommender/test_code_host.py in a subprocess, because a Django process has one product model
for its whole life.
"""

import json
import os
import sys
from typing import Any

import django


def setup() -> Any:
    from django.contrib.auth.models import Group, User
    from django.core.management import call_command

    from recommender.services.pages import page_upsert
    from recommender.services.refresh import recommendations_refresh
    from recommender.services.tagging import product_facts_tags_sync
    from recommender.services.taxonomy import taxonomy_load
    from tests.codehost.widgets.models import Widget

    call_command("migrate", verbosity=0)
    taxonomy_load(
        data={
            "tags": [
                {"slug": "magnesium", "name": "Magnesium", "kind": "nutrient", "unit": "mg", "reference_intake": 400},
                {"slug": "restless-legs-syndrome", "name": "Restless legs syndrome", "kind": "condition"},
            ],
            "relations": [{"source": "restless-legs-syndrome", "target": "magnesium", "strength": 0.6,
                           "grade": "pilot", "citations": ["10.5664/jcsm.11206"]}],
        }
    )  # fmt: skip
    for code, name, mg in [("W-1", "Mag Widget", 200), ("W-2", "Mag Widget Plus", 300), ("W-3", "Plain", 0)]:
        product_facts_tags_sync(product=Widget.objects.create(code=code, name=name, price="9.50", magnesium_mg=mg))
    page_upsert(url="https://blog.example/rls", title="Restless legs syndrome", text="About restless legs syndrome.")
    recommendations_refresh()
    merch = User.objects.create_user("merch", password="pw")
    merch.groups.add(Group.objects.get(name="merchandiser"))
    marketing = User.objects.create_user("mkt", password="pw")
    marketing.groups.add(Group.objects.get(name="marketing"))
    User.objects.create_superuser("admin", password="pw")
    return Widget


def main() -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "tests.codehost.settings"
    django.setup()
    from django.test import Client

    from recommender.models import ContentPage, Placement, ProductTag

    widget_model = setup()
    seen: dict[str, Any] = {}
    anyone, merch, mkt, admin = Client(), Client(), Client(), Client()
    merch.login(username="merch", password="pw")
    mkt.login(username="mkt", password="pw")
    admin.login(username="admin", password="pw")
    slug = ContentPage.objects.get().slug

    products = anyone.get("/api/v1/products/")
    seen["products"] = [p["sku"] for p in products.json()["results"]]
    seen["detail"] = anyone.get("/api/v1/products/W-1/").json()["sku"]
    seen["missing"] = anyone.get("/api/v1/products/NOPE/").status_code
    seen["list"] = [i["product"]["sku"] for i in anyone.get(f"/api/v1/pages/{slug}/recommendations/").json()["items"]]
    seen["tags"] = anyone.get("/api/v1/products/W-1/tags/").status_code
    seen["related"] = anyone.get("/api/v1/products/W-1/related/").status_code
    seen["articles"] = anyone.get("/api/v1/products/W-1/articles/").status_code

    patched = merch.patch("/api/v1/products/W-1/", {"in_stock": False}, content_type="application/json")
    seen["patch"] = patched.status_code
    seen["in_stock_after"] = widget_model.objects.get(code="W-1").in_stock
    seen["patch_anonymous"] = anyone.patch(
        "/api/v1/products/W-2/", {"in_stock": False}, content_type="application/json"
    ).status_code

    placement = {"page": slug, "product": "W-2", "action": "pin", "position": 1}
    created = mkt.post("/api/v1/placements/", placement, content_type="application/json")
    seen["placement"] = [created.status_code, created.json().get("product")]
    seen["placement_product"] = Placement.objects.get().product_id == widget_model.objects.get(code="W-2").pk
    bad = mkt.post("/api/v1/placements/", {**placement, "product": "NOPE"}, content_type="application/json")
    seen["placement_unknown"] = bad.status_code
    seen["placement_list"] = [p["product"] for p in mkt.get("/api/v1/placements/").json()["results"]]

    row = ProductTag.objects.filter(product_id=widget_model.objects.get(code="W-2").pk).first()
    assert row is not None
    changelist = admin.get("/admin/recommender/producttag/")
    seen["admin_changelist"] = [changelist.status_code, "Mag Widget Plus" in changelist.content.decode()]
    seen["admin_search"] = admin.get("/admin/recommender/producttag/", {"q": "W-2"}).status_code
    change = admin.get(f"/admin/recommender/producttag/{row.pk}/change/")
    seen["admin_change"] = change.status_code
    json.dump(seen, sys.stdout)


if __name__ == "__main__":
    main()
