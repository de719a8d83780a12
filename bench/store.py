"""A synthetic store for the refresh benchmarks: the demo taxonomy padded to ~300 tags, a catalog with
realistic skew (magnesium on 40% of products, trace minerals rare) and content pages with page tags.

Written with bulk_create (no signals, no refresh) so seeding costs seconds, not the thing measured.
Deterministic for a seed. Pages are stored as analysed (their content hash matches), as after a
first refresh, so a full refresh measures scoring and writing lists.
"""

from __future__ import annotations

import json
import os
import random
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from recommender.taxonomy import TAXONOMY_PATH

ROOT = Path(__file__).resolve().parent.parent
TAXONOMY = TAXONOMY_PATH
TAG_COUNT = 300
MAGNESIUM_SHARE = 0.4
RARE = ("boron", "sulfate")


@dataclass(frozen=True)
class Size:
    pages: int
    products: int

    def scaled(self, factor: float) -> Size:
        return Size(max(1, int(self.pages * factor)), max(1, int(self.products * factor)))


DEFAULT = Size(pages=5_000, products=20_000)
# The share of DEFAULT that `make bench` seeds; BENCH_REFRESH_SCALE overrides it (0.25 for a quicker run).
SCALE = 1.0


def bench_scale() -> float:
    """The benchmark store's size as a share of DEFAULT."""
    return float(os.environ.get("BENCH_REFRESH_SCALE") or SCALE)


def load_tags() -> None:
    """The demo taxonomy plus synthetic nutrients and conditions up to TAG_COUNT tags."""
    from recommender.models import Tag, TagRelation
    from recommender.services.taxonomy import taxonomy_load

    taxonomy_load(data=json.loads(TAXONOMY.read_text(encoding="utf-8")))
    missing = TAG_COUNT - Tag.objects.count()
    nutrients = [
        Tag(slug=f"nutrient-{i:03d}", name=f"Nutrient {i:03d}", kind="nutrient", unit="mg", reference_intake=100)
        for i in range(missing * 4 // 5)
    ]
    conditions = [Tag(slug=f"condition-{i:03d}", name=f"Condition {i:03d}", kind="condition") for i in range(missing)]
    conditions = conditions[: missing - len(nutrients)]
    Tag.objects.bulk_create(nutrients + conditions)
    rng = random.Random(3)
    saved = {t.slug: t for t in Tag.objects.filter(kind__in=["nutrient", "condition"])}
    relations = []
    for condition in conditions:
        for target in rng.sample(nutrients, 2):
            relations.append(
                TagRelation(source=saved[condition.slug], target=saved[target.slug], strength=0.5, grade="review")
            )
    TagRelation.objects.bulk_create(relations)


def tag_pool() -> tuple[list[str], list[float]]:
    """Nutrient and form slugs with a skewed popularity: magnesium common, trace minerals rare."""
    from recommender.models import Tag

    slugs = list(Tag.objects.filter(kind__in=["nutrient", "form"]).order_by("slug").values_list("slug", flat=True))
    weights = [0.02 if s in RARE else 1.0 / (1 + i % 40) for i, s in enumerate(slugs)]
    return slugs, weights


def seed_products(count: int, seed: int = 11) -> None:
    """Products with 1-4 approved tags and matching supplement facts; 40% carry magnesium."""
    from recommender.models import ProductTag, Tag
    from shop.catalog.models import Brand, NutrientAmount, Product

    rng = random.Random(seed)
    brands = [Brand.objects.get_or_create(name=f"Brand {i}", slug=f"brand-{i}")[0] for i in range(12)]
    start = Product.objects.count()
    Product.objects.bulk_create(
        Product(
            sku=f"SYN-{start + i:06d}",
            slug=f"syn-{start + i:06d}",
            name=f"Synthetic product {start + i}",
            brand=rng.choice(brands),
            price=Decimal("9.95"),
            in_stock=rng.random() > 0.05,
        )
        for i in range(count)
    )
    tags = {t.slug: t for t in Tag.objects.all()}
    slugs, weights = tag_pool()
    magnesium = ["magnesium", "magnesium-citrate", "magnesium-glycinate", "magnesium-chloride"]
    rows, facts = [], []
    for product in Product.objects.filter(sku__startswith="SYN-").order_by("pk")[start:]:
        chosen = set(rng.choices(slugs, weights, k=rng.randint(1, 3)))
        if rng.random() < MAGNESIUM_SHARE:
            chosen.add(rng.choice(magnesium))
        for slug in chosen:
            rows.append(ProductTag(product=product, tag=tags[slug], relevance=round(rng.uniform(0.3, 1.0), 2)))
            root = tags[slug].parent.slug if tags[slug].parent_id else slug
            facts.append((product, root))
    ProductTag.objects.bulk_create(rows, batch_size=5000)
    seen = set()
    NutrientAmount.objects.bulk_create(
        [
            NutrientAmount(product=p, code=code, amount=Decimal("50"), unit="mg")
            for p, code in facts
            if (p.pk, code) not in seen and not seen.add((p.pk, code))
        ],
        batch_size=5000,
    )


def seed_pages(count: int, seed: int = 12) -> None:
    """Pages with 2-6 page tags (a condition on a third of them), stored as analysed."""
    from django.utils import timezone

    from recommender.models import ContentPage, PageTag, Tag
    from recommender.services.pages import content_hash

    rng = random.Random(seed)
    start = ContentPage.objects.count()
    now = timezone.now()
    pages = []
    for i in range(start, start + count):
        title, text = f"Synthetic article {i}", f"About minerals, article {i}."
        pages.append(
            ContentPage(
                slug=f"syn-page-{i}",
                url=f"/syn/{i}/",
                title=title,
                text=text,
                content_hash=content_hash(title, text),
                analysed_at=now,
            )
        )
    ContentPage.objects.bulk_create(pages, batch_size=2000)
    tags = {t.slug: t for t in Tag.objects.all()}
    slugs, weights = tag_pool()
    conditions = list(Tag.objects.filter(kind="condition").values_list("slug", flat=True))
    rows = []
    for page in ContentPage.objects.filter(slug__startswith="syn-page-").order_by("pk")[start:]:
        chosen = set(rng.choices(slugs, weights, k=rng.randint(2, 5)))
        if rng.random() < 0.33:
            chosen.add(rng.choice(conditions))
        for n, slug in enumerate(sorted(chosen)):
            rows.append(PageTag(page=page, tag=tags[slug], weight=1.0 if n == 0 else round(rng.uniform(0.2, 1), 2)))
    PageTag.objects.bulk_create(rows, batch_size=5000)


def seed(size: Size) -> None:
    """An empty database -> the synthetic store of this size."""
    from recommender.dirty import refresh_batch

    with refresh_batch():  # the taxonomy's saves announced once (in eager mode, one refresh each: 319, ~50 s)
        load_tags()
    seed_products(size.products)
    seed_pages(size.pages)
