"""Recompute and store recommendation lists: one page, the pages a change touches, or all."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import partial

import numpy as np
from django.core.cache import cache
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from recommender.conf import recommender_settings
from recommender.models import ArticleLink, ContentPage, PageState, PageTag, Placement, ProductTag, Recommendation
from recommender.scoring.rank import Rule
from recommender.services.engine import Engine, Item, engine_build, tag_space
from recommender.services.pages import page_advised_against, page_analyse, page_weights
from recommender.services.related import article_links_as_rules
from recommender.signals import recommendations_changed


@dataclass
class RefreshSummary:
    pages: int = 0
    items: int = 0
    empty: int = 0


def cache_key(slug: str) -> str:
    """Where a page's rendered list lives in the cache."""
    return f"recommender:list:{slug}"


def version_key(slug: str) -> str:
    """Where a page's list version lives; deleting it orphans every cached API response of the page."""
    return f"recommender:version:{slug}"


def page_rules(page: ContentPage, weights: dict[str, float]) -> list[Rule]:
    """Placements in force now for this page, by page or by a tag the page discusses."""
    now = timezone.now()
    tags = [slug for slug, w in weights.items() if w > 0]
    placements = (
        Placement.objects.filter(Q(page=page) | Q(page__isnull=True, tag__slug__in=tags))
        .filter(Q(starts_at__isnull=True) | Q(starts_at__lte=now))
        .filter(Q(ends_at__isnull=True) | Q(ends_at__gt=now))
        .order_by("id")
    )
    rules = []
    for p in placements:
        utm = {
            "utm_source": p.utm_source,
            "utm_medium": p.utm_medium,
            "utm_campaign": p.utm_campaign or p.campaign,
        }
        rules.append(Rule(p.product_id, p.action, p.position, p.factor, tuple((k, v) for k, v in utm.items() if v)))
    for product_id, position, campaign in article_links_as_rules(page):
        rules.append(Rule(product_id, "pin", position, link_params=(("utm_campaign", campaign),) if campaign else ()))
    return rules


def page_compute(*, page: ContentPage, engine: Engine, limit: int | None = None) -> list[Item]:
    """The list a page should show now (nothing written but its page tags)."""
    page_analyse(page=page, lexicon=engine.lexicon)
    if not page.published:
        return []
    weights = page_weights(page)
    limit = limit or recommender_settings.STORED_LIMIT
    return engine.compute(
        weights,
        advised=page_advised_against(page),
        rules=page_rules(page, weights),
        limit=limit,
        campaign=page.slug,
    )


@transaction.atomic
def page_store(*, page: ContentPage, items: list[Item]) -> int:
    """Replace the page's rows in one transaction; readers see the old list or the new one."""
    state, _ = PageState.objects.select_for_update().get_or_create(page=page)
    state.generation += 1
    state.computed_at = timezone.now()
    state.save(update_fields=["generation", "computed_at"])
    before = list(Recommendation.objects.filter(page=page).order_by("rank").values_list("product_id", flat=True))
    Recommendation.objects.filter(page=page).delete()
    Recommendation.objects.bulk_create(
        Recommendation(
            page=page,
            product_id=item.product_id,
            rank=item.rank,
            score=item.score,
            reasons=item.reasons,
            cautions=item.cautions,
            link_params=item.link_params,
            generation=state.generation,
            computed_at=state.computed_at,
        )
        for item in items
    )
    transaction.on_commit(lambda: cache.delete_many([cache_key(page.slug), version_key(page.slug)]))
    if before != (after := [item.product_id for item in items]):
        transaction.on_commit(partial(recommendations_changed.send, sender=ContentPage, page=page, product_ids=after))
    return state.generation


def page_refresh(*, page_id: int, engine: Engine | None = None) -> int:
    """Recompute and store one page's list; returns the number of items."""
    page = ContentPage.objects.filter(pk=page_id).first()
    if page is None:
        return 0
    engine = engine or engine_build()
    with transaction.atomic():
        # The per-page lock: a second worker on the same page waits here, then computes afresh.
        PageState.objects.get_or_create(page=page)
        PageState.objects.select_for_update().get(page=page)
        items = page_compute(page=page, engine=engine)
        page_store(page=page, items=items)
    return len(items)


def pages_refresh(
    *, page_ids: Iterable[int] | None = None, progress: Callable[[ContentPage, int], None] | None = None
) -> RefreshSummary:
    """Refresh many pages (all by default) against one snapshot of the catalog."""
    engine = engine_build()
    pages = ContentPage.objects.order_by("pk")
    if page_ids is not None:
        pages = pages.filter(pk__in=list(page_ids))
    summary = RefreshSummary()
    for page in pages.iterator(chunk_size=200):
        count = page_refresh(page_id=page.pk, engine=engine)
        summary.pages += 1
        summary.items += count
        summary.empty += count == 0
        if progress:
            progress(page, count)
    return summary


def pages_meeting_tags(slugs: Iterable[str]) -> set[int]:
    """Pages whose expanded tags meet these tags' expansion (forms -> nutrients, conditions -> nutrients).

    Both sides are expanded with the same matrix the scorer uses, so a page that names only
    "magnesium citrate" is found for a product tagged "magnesium glycinate", and a page about
    magnesium for a product tagged "magnesium deficiency". Tags a page speaks against count too.
    """
    space = tag_space()
    wanted = space.expand(space.vector(dict.fromkeys(slugs, 1.0))) > 0
    rows: dict[int, dict[str, float]] = {}
    for page_id, slug, weight in PageTag.objects.values_list("page_id", "tag__slug", "weight"):
        rows.setdefault(page_id, {})[slug] = abs(weight)
    if not rows or not wanted.any():
        return set()
    page_ids = list(rows)
    matrix = space.expand(np.vstack([space.vector(rows[pid]) for pid in page_ids])) > 0
    return {page_ids[i] for i in np.flatnonzero((matrix & wanted).any(axis=1))}


def pages_affected_by_products(product_ids: Iterable[int]) -> list[int]:
    """Pages the products can newly appear on, plus pages that list, pin or link them now."""
    ids = list(product_ids)
    page_ids = pages_meeting_tags(ProductTag.objects.filter(product_id__in=ids).values_list("tag__slug", flat=True))
    listed = Recommendation.objects.filter(product_id__in=ids)
    linked = ArticleLink.objects.filter(product_id__in=ids).values_list("page_id", flat=True)
    pinned = Placement.objects.filter(product_id__in=ids, page__isnull=False)
    page_ids |= set(listed.values_list("page_id", flat=True)) | set(pinned.values_list("page_id", flat=True))
    page_ids |= set(linked)
    if Placement.objects.filter(product_id__in=ids, page__isnull=True).exists():
        page_ids |= set(ContentPage.objects.values_list("pk", flat=True))
    return sorted(page_ids)
