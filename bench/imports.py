"""Import speed of label-style product rows (issue 11): the bulk import against the row-by-row way.

Run by bench/run.py once per database and way, each in its own process so peak memory (max RSS) belongs to
that run alone: `python bench/imports.py DATABASE_URL bulk|rowwise ROWS`. Prints one JSON line.

Refreshes are not timed: the import announces them after commit, and here the announcement is only counted.
"""

from __future__ import annotations

import io
import json
import os
import random
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shop.settings")

LINES = [
    "Magnesium (as Magnesium Glycinate)={n} mg", "Vitamin D3 (as cholecalciferol)={n}000 IU",
    "Folate=680 mcg DFE (400 mcg folic acid)", "Vitamin B12 (as methylcobalamin)={n}00 mcg", "Riboflavin={n} mg",
    "Vitamin C={n}00 mg Ascorbic Acid", "Zinc={n} mg (as zinc picolinate) 45% DV", "Vitamin A=50% DV",
    "Calories={n} kcal", "Garlic Oil={n} mg", "Cinnamon Bark Extract={n}00 mg", "Proprietary Blend={n}00 mg",
    "Ashwagandha Root=NP", "Total Carbohydrate=<1 g", "Potassium=99 mg", "Iron (as Ferrous Bisglycinate)={n} mg",
]  # fmt: skip


def label_csv(rows: int, seed: int = 11) -> str:
    """`rows` synthetic products with 3-8 label lines each, a mix of taxonomy nutrients and kept lines."""
    rng = random.Random(seed)
    out = ["sku,name,brand,description,price,currency,in_stock,url,image_url,serving_size,nutrients,tags"]
    for i in range(rows):
        lines = "; ".join(line.format(n=rng.randint(1, 9)) for line in rng.sample(LINES, rng.randint(3, 8)))
        out.append(f'SYN-{i:06d},Synthetic Product {i},Brand {i % 50},,9.99,USD,true,,,1 capsule,"{lines}",')
    return "\n".join(out) + "\n"


def rowwise(rows: list) -> None:  # type: ignore[type-arg]
    """The way before issue 11: one product at a time, its facts tags derived per row."""
    from django.db import transaction
    from django.utils.text import slugify

    from recommender.dirty import refresh_batch
    from recommender.models import ProductTag, Tag
    from recommender.services.tagging import product_facts_tags_sync, product_tags_set
    from shop.catalog.models import Brand, NutrientAmount, Product

    tags = {t.slug: t for t in Tag.objects.all()}
    with transaction.atomic(), refresh_batch():
        for row in rows:
            brand = None
            if row.brand:
                brand, _ = Brand.objects.get_or_create(name=row.brand, defaults={"slug": slugify(row.brand)})
            product = Product.objects.filter(sku=row.sku).first() or Product(sku=row.sku)
            product.slug = product.slug or slugify(f"{row.name}-{row.sku}")
            product.name, product.brand, product.price = row.name, brand, row.price
            product.save()
            product.nutrients.all().delete()
            NutrientAmount.objects.bulk_create(
                NutrientAmount(product=product, code=f.code, label=f.label, amount=f.amount, unit=f.unit, form=f.form)
                for f in row.nutrients
            )
            product_facts_tags_sync(product=product)
            product_tags_set(product=product, tags=[(tags[s], r) for s, r in row.tags], source=ProductTag.Source.IMPORT)


def peak_rss_mb() -> float:
    """This process's peak resident memory (VmHWM, reset by exec, unlike ru_maxrss which a child inherits)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(url: str, way: str, rows: int) -> dict[str, object]:
    os.environ["DATABASE_URL"] = url
    os.environ.pop("REDIS_URL", None)
    import django

    django.setup()
    from django.core.management import call_command

    from recommender import dirty
    from shop.catalog import importing

    announced: list[tuple[str, int]] = []
    dirty._announce = lambda kind, ids: announced.append((kind, len(ids)))  # type: ignore[assignment]
    call_command("migrate", verbosity=0)
    call_command("flush", interactive=False, verbosity=0)
    call_command("load_demo", verbosity=0, stdout=io.StringIO())
    text = label_csv(rows)
    announced.clear()
    start = time.perf_counter()
    if way == "bulk":
        result = importing.import_products(io.StringIO(text))
        assert not result.errors, result.errors[:3]
    else:
        checked = importing.ImportResult()
        parsed = list(importing.valid_rows(importing.text_lines(io.StringIO(text)), checked))
        assert not checked.errors, checked.errors[:3]
        rowwise(parsed)
    seconds = time.perf_counter() - start
    peak_mb = peak_rss_mb()
    return {
        "way": way, "rows": rows, "seconds": round(seconds, 2), "rows_per_s": round(rows / seconds, 1),
        "peak_mb": round(peak_mb), "refreshes_announced": len(announced),
    }  # fmt: skip


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1], sys.argv[2], int(sys.argv[3]))))
