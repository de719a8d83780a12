"""Product-page lists: related products and related articles, from the same vectors as page lists.

Marketing's ArticleLinks pin an article on the product's list (and, in refresh.py, the product on
the article's list) within their window.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from recommender.adapters import get_adapter
from recommender.conf import recommender_settings
from recommender.models import ArticleLink, ContentPage, PageTag, RelatedArticle, RelatedProduct
from recommender.scoring.explain import discusses_label, shared_label, simple_reasons
from recommender.scoring.related import top_similar
from recommender.scoring.vectors import page_vector
from recommender.services.engine import Engine, engine_build
from recommender.signals import related_products_changed

LINK_REASON = "Chosen by the store to read alongside this product."


@dataclass
class PageMatrix:
    """Published pages as rows of expanded, normalised vectors."""

    pages: list[ContentPage]
    matrix: np.ndarray
    weights: list[dict[str, float]]


def active_links() -> Q:
    now = timezone.now()
    return (Q(starts_at__isnull=True) | Q(starts_at__lte=now)) & (Q(ends_at__isnull=True) | Q(ends_at__gt=now))


def page_matrix(engine: Engine) -> PageMatrix:
    """Every published page's vector, from its stored page tags."""
    pages = list(ContentPage.objects.filter(published=True).order_by("pk"))
    weights: dict[int, dict[str, float]] = {p.pk: {} for p in pages}
    for page_id, slug, weight in PageTag.objects.filter(page__in=pages).values_list("page_id", "tag__slug", "weight"):
        weights[page_id][slug] = weight
    rows = [page_vector(engine.space, weights[p.pk], recommender_settings.KIND_WEIGHTS) for p in pages]
    matrix = np.vstack(rows) if rows else np.zeros((0, engine.space.size), dtype=np.float32)
    return PageMatrix(pages, matrix, [weights[p.pk] for p in pages])


def line_factors(engine: Engine, pages: PageMatrix, row: int) -> np.ndarray:
    """LINE_BOOST for pages that name one of the product's own lines (ConcenTrace on its own article)."""
    lines = {s for s in engine.metas[row].tags if engine.space.info(s).kind == "product-line"}
    boost = recommender_settings.LINE_BOOST
    return np.array([boost if lines & {s for s, w in w.items() if w > 0} else 1.0 for w in pages.weights])


def related_products_compute(engine: Engine, row: int, limit: int) -> list[RelatedProduct]:
    """Available products most like this one, each with what they share."""
    available = np.fromiter((m.available for m in engine.metas), dtype=bool, count=len(engine.metas))
    available[row] = False
    ids = [m.id for m in engine.metas]
    found = top_similar(
        engine.products, engine.products[row], ids, min_score=recommender_settings.MIN_SCORE, limit=limit,
        allowed=available,
    )  # fmt: skip
    return [
        RelatedProduct(
            related_id=ids[i],
            rank=rank,
            score=round(score, 4),
            reasons=simple_reasons(engine.space, engine.products[row], engine.products[i], shared_label),
            cautions=engine.cautions.get(ids[i], []),
        )
        for rank, (i, score) in enumerate(found, start=1)
    ]


def related_articles_compute(
    engine: Engine, pages: PageMatrix, row: int | None, product_id: int, links: list[ArticleLink], limit: int
) -> list[RelatedArticle]:
    """Published pages that discuss what the product holds; linked pages pinned at their positions."""
    linked = {link.page_id: link for link in links}
    found: list[tuple[int, float]] = []
    if row is not None:
        allowed = np.array([p.pk not in linked for p in pages.pages], dtype=bool)
        found = top_similar(
            pages.matrix, engine.products[row], [p.pk for p in pages.pages],
            min_score=recommender_settings.MIN_SCORE, limit=limit, allowed=allowed,
            factors=line_factors(engine, pages, row),
        )  # fmt: skip
    items: list[RelatedArticle] = []
    for i, score in found:
        reasons = simple_reasons(engine.space, pages.matrix[i], engine.products[row], discusses_label)
        items.append(RelatedArticle(page=pages.pages[i], score=round(score, 4), reasons=reasons))
    for link in sorted(links, key=lambda lk: (lk.position, lk.pk)):
        reason: dict[str, Any] = {
            "tag": None,
            "label": LINK_REASON,
            "weight": 1.0,
            "evidence": {"grade": None, "citations": []},
        }
        pinned = RelatedArticle(page=link.page, score=0.0, reasons=[reason])
        pinned.link_params = {"utm_campaign": link.campaign} if link.campaign else {}
        items.insert(min(link.position - 1, len(items)), pinned)
    for rank, item in enumerate(items[:limit], start=1):
        item.rank = rank
        item.link_params = {
            "utm_source": recommender_settings.UTM_SOURCE,
            "utm_medium": "product-page",
            "utm_campaign": item.link_params.get("utm_campaign") or engine.skus.get(product_id, ""),
        }
    return items[:limit]


@transaction.atomic
def related_store(*, product_id: int, products: list[RelatedProduct], articles: list[RelatedArticle]) -> None:
    """Replace one product's two lists in one transaction."""
    now = timezone.now()
    old = RelatedProduct.objects.filter(product_id=product_id).order_by("rank")
    before = list(old.values_list("related_id", flat=True))
    old.delete()
    RelatedArticle.objects.filter(product_id=product_id).delete()
    for item in products:
        item.product_id, item.computed_at = product_id, now
    for article in articles:
        article.product_id, article.computed_at = product_id, now
    RelatedProduct.objects.bulk_create(products)
    RelatedArticle.objects.bulk_create(articles)
    if before != (after := [item.related_id for item in products]):
        send = related_products_changed.send
        transaction.on_commit(partial(send, sender=RelatedProduct, product_id=product_id, related_ids=after))


def related_refresh(*, product_ids: Iterable[int] | None = None, engine: Engine | None = None) -> int:
    """Recompute related products and articles for these products (all by default)."""
    engine = engine or engine_build()
    pages = page_matrix(engine)
    row_of = {m.id: i for i, m in enumerate(engine.metas)}
    ids = list(product_ids) if product_ids is not None else list(get_adapter().queryset().values_list("pk", flat=True))
    links: dict[int, list[ArticleLink]] = {}
    link_rows = ArticleLink.objects.filter(active_links(), product_id__in=ids, page__published=True)
    for link in link_rows.select_related("page"):
        links.setdefault(link.product_id, []).append(link)
    limit = recommender_settings.STORED_LIMIT
    for product_id in ids:
        row = row_of.get(product_id)
        related = related_products_compute(engine, row, limit) if row is not None else []
        articles = related_articles_compute(engine, pages, row, product_id, links.get(product_id, []), limit)
        related_store(product_id=product_id, products=related, articles=articles)
    return len(ids)


def article_links_as_rules(page: ContentPage) -> list[tuple[int, int, str]]:
    """(product id, position, campaign) of links in force for this page."""
    rows = ArticleLink.objects.filter(active_links(), page=page).order_by("position", "pk")
    return [(link.product_id, link.position, link.campaign) for link in rows]
