"""Reads: the recommendation list for a page, from the cache, the table, or computed on request."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit
from uuid import uuid4

from django.core.cache import cache
from django.utils import timezone
from django.utils.translation import get_language, gettext

from recommender.adapters import get_adapter
from recommender.cachekeys import cache_key, version_key
from recommender.conf import recommender_settings
from recommender.links import linkable, with_params
from recommender.models import ContentPage, PageState, ProductTag, Recommendation, RelatedState, Tag
from recommender.scoring.explain import served_reason
from recommender.services.cautions import dose_cautions, served_caution, tag_cautions
from recommender.services.engine import Item
from recommender.services.engine_build import engine_build
from recommender.services.related import article_link_params


def clamp_limit(limit: Any) -> int:
    """A list length between 1 and MAX_LIMIT; DEFAULT when missing."""
    try:
        value = int(limit) if limit not in (None, "") else recommender_settings.LIMIT
    except (TypeError, ValueError):
        value = recommender_settings.LIMIT
    return max(1, min(value, recommender_settings.MAX_LIMIT))


def product_tag_slugs(product_ids: Iterable[int]) -> dict[int, list[str]]:
    """Approved tag slugs per product, parents included (a glycinate lists magnesium too)."""
    rows = ProductTag.objects.filter(product_id__in=list(product_ids), status=ProductTag.Status.APPROVED)
    slugs: dict[int, set[str]] = defaultdict(set)
    for product_id, slug, parent in rows.values_list("product_id", "tag__slug", "tag__parent__slug"):
        slugs[product_id].update(s for s in (slug, parent) if s)
    return {pid: sorted(s) for pid, s in slugs.items()}


def product_payload(product: Any, tags: Sequence[str]) -> dict[str, Any]:
    """The product part of a list item (DESIGN.md section 7)."""
    adapter = get_adapter()
    price = adapter.price(product)
    return {
        "id": product.pk,
        "sku": adapter.sku(product),
        "name": adapter.name(product),
        "brand": adapter.brand(product),
        "url": adapter.url(product),
        "image_url": adapter.image_url(product),
        "price": None if price is None else f"{price:.2f}",
        "currency": adapter.currency(product),
        "in_stock": adapter.in_stock(product),
        "tags": list(tags),
    }


def served_reasons(
    reasons: Sequence[dict[str, Any]], words: Mapping[str, Mapping[str, str]] | None = None
) -> list[dict[str, Any]]:
    """Stored reasons worded in the active language, in the list's shape (`words`: see `reason_words`)."""
    return [r for r in (served_reason(reason, words) for reason in reasons) if r is not None]


def reason_words(lists: Iterable[Sequence[dict[str, Any]]]) -> dict[str, dict[str, str]]:
    """`{name, kind}` of the tags of stored reasons that carry only their tag's slug, in one query."""
    slugs = {r["tag"] for reasons in lists for r in reasons if "params" not in r and r.get("code") and r.get("tag")}
    if not slugs:
        return {}
    rows = Tag.objects.filter(slug__in=slugs).values_list("slug", "name", "kind")
    return {slug: {"name": name, "kind": kind} for slug, name, kind in rows}


def disclaimer() -> str:
    """The disclaimer in the active language (a host's own text stays as written)."""
    return gettext(recommender_settings.DISCLAIMER)


def items_payload(items: Sequence[Item]) -> list[dict[str, Any]]:
    """Render computed or stored items with their products; reasons and cautions are worded now, in the
    request's language (they are stored as codes with params)."""
    products = get_adapter().for_ids(i.product_id for i in items)
    tags = product_tag_slugs(products)
    words = reason_words(item.reasons for item in items)
    rendered = []
    for item in items:
        product = products.get(item.product_id)
        if product is None:
            continue
        data = product_payload(product, tags.get(product.pk, []))
        rendered.append(
            {
                "rank": item.rank,
                "score": item.score,
                "product": data,
                "reasons": served_reasons(item.reasons, words),
                "cautions": [served_caution(c) for c in item.cautions],
                "link": with_params(data["url"], item.link_params),
            }
        )
    return rendered


def list_payload(page: dict[str, Any], items: Sequence[Item], generated_at: Any) -> dict[str, Any]:
    """A recommendation list: page, time, disclaimer, items."""
    return {
        "page": page,
        "generated_at": generated_at.isoformat() if generated_at else None,
        "disclaimer": disclaimer(),
        "items": items_payload(items),
    }


def page_ref(page: ContentPage) -> dict[str, Any]:
    return {"slug": page.slug, "title": page.title, "url": linkable(page.url)}


def stored_items(page: ContentPage) -> list[Item]:
    rows = Recommendation.objects.filter(page=page).order_by("rank")
    return [Item(r.product_id, r.rank, r.score, r.reasons, r.cautions, r.link_params) for r in rows]


def list_version(slug: str) -> str:
    """The page's current list version, a random token kept in the cache.

    Cached API responses are keyed by it, and `pages_store` deletes it on commit, so a refresh makes
    every older response unreachable without knowing their keys. Read it before reading the list: a
    response built from data older than the token it is stored under can then never be served.
    """
    key = version_key(slug)
    version = cache.get(key)
    if version is None:
        token = uuid4().hex[:16]
        cache.add(key, token, recommender_settings.CACHE_TIMEOUT)
        version = cache.get(key) or token  # another reader may have won the add; without a cache, always new
    return str(version)


def page_list(page: ContentPage) -> dict[str, Any]:
    """The full stored list for a page, cached; computed on request if the page has none yet."""
    # Keyed by the list version read first: a list read from the database just before a refresh
    # commits is stored under the old version, which nobody asks for again.
    # Worded lists differ by language: one entry per language.
    key = f"{cache_key(page.slug)}:{get_language() or 'en'}:{list_version(page.slug)}"
    cached = cache.get(key)
    if cached is not None:
        return dict(cached)
    state = PageState.objects.filter(page=page).first()
    if state is None or state.computed_at is None:
        # Reads never write: compute without storing, and let the refresh service store it.
        from recommender.dirty import pages_changed
        from recommender.services.refresh import page_compute

        items = page_compute(page=page, engine=engine_build())
        pages_changed([page.pk])
        return list_payload(page_ref(page), items, timezone.now())
    payload = list_payload(page_ref(page), stored_items(page), state.computed_at)
    cache.set(key, payload, recommender_settings.CACHE_TIMEOUT)
    return payload


def recommendations_for_page(*, page: ContentPage, limit: Any = None) -> dict[str, Any]:
    """The recommendation list for a page, at most `limit` items (DEFAULT when None)."""
    payload = page_list(page)
    return {**payload, "items": payload["items"][: clamp_limit(limit)]}


def page_by_url(url: str) -> ContentPage | None:
    """Find a page by canonical url, or by its path for the store's own pages."""
    page = ContentPage.objects.filter(url=url).first()
    if page is None:
        path = urlsplit(url).path
        page = ContentPage.objects.filter(url=path).first() if path else None
    return page


def recommendations_for_text(*, title: str, text: str, limit: Any = None) -> dict[str, Any]:
    """What a page with this text would show; writes nothing."""
    from recommender.services.pages import page_extract
    from recommender.text.clean import plain_text

    engine = engine_build()
    found = page_extract(engine.lexicon, title=plain_text(title), text=plain_text(text))
    weights = {slug: tw.weight for slug, tw in found.items()}
    advised = frozenset(slug for slug, tw in found.items() if tw.advised_against)
    items = engine.compute(weights, advised=advised, limit=clamp_limit(limit), campaign="preview")
    return list_payload({"slug": None, "title": title, "url": None}, items, timezone.now())


def stored_related(product: Any, field: str) -> list[dict[str, Any]]:
    """One of the product's stored lists (`products` or `articles`); empty when it has none yet."""
    lists = RelatedState.objects.filter(product_id=product.pk).values_list(field, flat=True)
    return list(lists.first() or [])


def related_products_for(*, product: Any, limit: Any = None) -> list[dict[str, Any]]:
    """Stored related products of a product, in the recommendation-item shape."""
    stored = stored_related(product, "products")[: clamp_limit(limit)]
    return items_payload(
        [Item(i["id"], rank, i["score"], i["reasons"], i["cautions"], {}) for rank, i in enumerate(stored, 1)]
    )


def related_articles_for(*, product: Any, limit: Any = None) -> list[dict[str, Any]]:
    """Stored related articles of a product: `[{rank, score, page: {slug, title, url}, reasons, link}]`.

    Only published pages with a url that is safe to link are listed: "read more" with no address (a
    pasted article) helps nobody, and a stored `javascript:` url must never become a link.
    """
    stored = list(enumerate(stored_related(product, "articles"), 1))
    pages = ContentPage.objects.filter(pk__in=[a["id"] for _, a in stored], published=True).in_bulk()
    linked = [
        (rank, a, page, url)
        for rank, a in stored
        if (page := pages.get(a["id"])) is not None and (url := linkable(page.url))
    ][: clamp_limit(limit)]
    words = reason_words(a["reasons"] for _, a, _, _ in linked)
    sku = get_adapter().sku(product)
    return [
        {
            "rank": rank,
            "score": a["score"],
            "page": {"slug": page.slug, "title": page.title, "url": url},
            "reasons": served_reasons(a["reasons"], words),
            "link": with_params(url, article_link_params(sku, a.get("link_params", {}))),
        }
        for rank, a, page, url in linked
    ]


def cautions_for_product(*, product: Any) -> list[dict[str, Any]]:
    """Every caution of a product, as its own page shows them (lists say a shared caution once)."""
    from recommender.services.tagging import nutrient_code_index

    tags = {t.slug: t for t in Tag.objects.select_related("parent")}

    def family(slug: str) -> list[str]:
        chain = [slug]
        while tags[chain[-1]].parent_id and tags[chain[-1]].parent.slug not in chain:  # type: ignore[union-attr]
            chain.append(tags[chain[-1]].parent.slug)  # type: ignore[union-attr]
        return chain

    approved = ProductTag.objects.filter(product_id=product.pk, status=ProductTag.Status.APPROVED)
    slugs = {s for slug in approved.values_list("tag__slug", flat=True) for s in family(slug)}
    codes = nutrient_code_index()
    facts = get_adapter().nutrients(product)
    contained = {s for fact in facts if (t := codes.get(fact.code)) for s in family(t.slug)}
    guards = {s for s in contained if tags[s].caution_level == Tag.CautionLevel.GUARD}
    return [served_caution(c) for c in tag_cautions(sorted(slugs | guards), tags) + dose_cautions(facts, tags)]
