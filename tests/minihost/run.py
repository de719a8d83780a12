"""Run the plugin inside the minimal host and print the list for one page as JSON.

Used by tests/recommender/test_second_host.py in a subprocess, because a Django process has one
product model for its whole life.
"""

import json
import os
import sys

import django


def main() -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "tests.minihost.settings"
    django.setup()
    from django.core.management import call_command

    from recommender.selectors import recommendations_for_page
    from recommender.services.pages import page_upsert
    from recommender.services.refresh import recommendations_refresh
    from recommender.services.tagging import product_facts_tags_sync
    from recommender.services.taxonomy import taxonomy_load
    from tests.minihost.gadgets.models import Gadget

    call_command("migrate", verbosity=0)
    taxonomy_load(
        data={
            "tags": [
                {"slug": "magnesium", "name": "Magnesium", "kind": "nutrient", "unit": "mg", "reference_intake": 400},
                {"slug": "restless-legs-syndrome", "name": "Restless legs syndrome", "kind": "condition",
                 "synonyms": [{"text": "Willis-Ekbom disease"}]},
            ],
            "relations": [{"source": "restless-legs-syndrome", "target": "magnesium", "strength": 0.6,
                           "grade": "pilot", "citations": ["10.5664/jcsm.11206"]}],
        }
    )  # fmt: skip
    for sku, title, mg, stock in [("G1", "Mag Gadget", 200, 3), ("G2", "Plain Gadget", 0, 3), ("G3", "Gone", 150, 0)]:
        gadget = Gadget.objects.create(sku=sku, title=title, cost_cents=1999, stock=stock, magnesium_mg=mg)
        product_facts_tags_sync(product=gadget)
    page = page_upsert(url="https://blog.example/wed", title="Willis-Ekbom disease", text="About Willis-Ekbom disease.")
    recommendations_refresh()
    json.dump(recommendations_for_page(page=page, limit=5), sys.stdout)


if __name__ == "__main__":
    main()
