"""Writes to content pages: register or update a page, and analyse its text into page tags."""

from __future__ import annotations

import hashlib

from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from recommender.conf import recommender_settings
from recommender.dirty import pages_changed
from recommender.links import pasted_url, validate_page_url
from recommender.models import ContentPage, PageTag, Tag
from recommender.text.clean import plain_text
from recommender.text.extract import TOPIC_KINDS, TagWeight, extract_tags, has_health_context
from recommender.text.lexicon import Lexicon


def content_hash(title: str, text: str) -> str:
    return hashlib.sha256(f"{title}\n{text}".encode()).hexdigest()


@transaction.atomic
def page_upsert(
    *,
    url: str,
    title: str,
    text: str,
    slug: str = "",
    source: str = ContentPage.Source.LOCAL,
    published: bool = True,
) -> ContentPage:
    """Create or update the page with this canonical url; the text is stored as sanitised plain text.

    Raises ValidationError for a url that could not be shown as a safe link (see `recommender.links`).
    """
    validate_page_url(url)
    clean = plain_text(text)
    page = ContentPage.objects.filter(url=url).first() or ContentPage(url=url)
    page.slug = page.slug or slug or slugify(title)[:200]
    page.title, page.text, page.source, page.published = plain_text(title), clean, source, published
    page.save()
    return page


def unique_page_slug(title: str, url: str) -> str:
    """A slug from the title that no other page uses (the page at this url keeps its own)."""
    base = slugify(title)[:190] or "page"
    taken = set(ContentPage.objects.filter(slug__startswith=base).exclude(url=url).values_list("slug", flat=True))
    slug, n = base, 2
    while slug in taken:
        slug, n = f"{base}-{n}", n + 1
    return slug


@transaction.atomic
def external_page_register(*, title: str, text: str, url: str = "") -> ContentPage:
    """Register an article that lives elsewhere (fetched or pasted); its list is refreshed after commit.

    A pasted article without an address gets a `pasted:` placeholder url, so it can be previewed and
    given placements; the embed snippet needs a real url.
    """
    slug = unique_page_slug(title, url)
    return page_upsert(
        url=url or pasted_url(slug), title=title, text=text, slug=slug, source=ContentPage.Source.EXTERNAL
    )


def page_extract(lexicon: Lexicon, *, title: str, text: str) -> dict[str, TagWeight]:
    """Tag weights for any title and text (no database writes).

    A page that names a nutrient but speaks of neither health, diet nor supplements, nor of any
    condition or product line (a cast-iron skillet) discusses no supplement topic: no tags.
    """
    weights = extract_tags(
        lexicon,
        title=title,
        text=text,
        title_weight=recommender_settings.TITLE_WEIGHT,
        context_window=recommender_settings.CONTEXT_WINDOW,
    )
    kinds = dict(Tag.objects.filter(slug__in=weights).values_list("slug", "kind"))
    topical = any(kinds.get(slug) in TOPIC_KINDS and tw.weight > 0 for slug, tw in weights.items())
    if weights and not topical and not has_health_context(f"{title}\n{text}"):
        return {}
    return weights


@transaction.atomic
def page_analyse(*, page: ContentPage, lexicon: Lexicon, force: bool = False) -> bool:
    """Store extracted page tags when the text changed; manual rows are left alone. True if it ran."""
    digest = content_hash(page.title, page.text)
    if not force and page.content_hash == digest and page.analysed_at:
        return False
    weights = page_extract(lexicon, title=page.title, text=page.text)
    tags = {t.slug: t for t in Tag.objects.filter(slug__in=weights)}
    manual = set(page.page_tags.filter(source=PageTag.Source.MANUAL).values_list("tag__slug", flat=True))
    page.page_tags.filter(source=PageTag.Source.EXTRACTED).delete()
    PageTag.objects.bulk_create(
        PageTag(page=page, tag=tags[slug], weight=tw.weight, mentions=tw.mentions, advised_against=tw.advised_against)
        for slug, tw in weights.items()
        if slug in tags and slug not in manual
    )
    page.content_hash, page.analysed_at = digest, timezone.now()
    page.save(update_fields=["content_hash", "analysed_at"])
    return True


def page_weights(page: ContentPage) -> dict[str, float]:
    """The page's stored tag weights (manual rows included)."""
    return dict(page.page_tags.values_list("tag__slug", "weight"))


def page_advised_against(page: ContentPage) -> frozenset[str]:
    """Tags the page advises against taking; no product containing them is listed."""
    return frozenset(page.page_tags.filter(advised_against=True).values_list("tag__slug", flat=True))


@transaction.atomic
def page_tags_override(*, page: ContentPage, rows: list[PageTag], deleted: list[PageTag]) -> None:
    """Marketing's edits to a page's tags: every saved row becomes manual, so extraction never overwrites it.

    Deleting a row hands the tag back to extraction: the page is marked for re-analysis.
    """
    for row in deleted:
        row.delete()
    for row in rows:
        row.page = page
        row.source = PageTag.Source.MANUAL
        row.save()
    if deleted:
        page.content_hash = ""
        page.save(update_fields=["content_hash"])
    pages_changed([page.pk])
