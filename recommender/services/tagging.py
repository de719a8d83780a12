"""Writes to product tags: from supplement facts, by hand, and from imports."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db import transaction

from recommender.adapters import NutrientFact, get_adapter
from recommender.conf import recommender_settings
from recommender.dirty import refresh_batch
from recommender.models import ProductTag, Synonym, Tag
from recommender.scoring.facts import centrality
from recommender.text.clean import normalise
from recommender.units import convert


@dataclass(frozen=True)
class FactTag:
    """A tag derived from one supplement-facts line."""

    tag: Tag
    ratio: float  # amount / reference intake (0 when unknown)
    form: Tag | None


def nutrient_code_index() -> dict[str, Tag]:
    """Tags by slug and by lower-cased synonym: how a supplement-facts code maps to a tag."""
    tags = {t.slug: t for t in Tag.objects.all()}
    for syn in Synonym.objects.select_related("tag"):
        tags.setdefault(syn.text.lower().replace(" ", "-"), syn.tag)
    return tags


def _form_tag(index: dict[str, Tag], nutrient: Tag, form: str) -> Tag | None:
    """'magnesium' + 'glycinate' -> magnesium-glycinate, if the taxonomy has it as a child."""
    if not form:
        return None
    key = form.lower().strip().replace(" ", "-")
    for candidate in (f"{nutrient.slug}-{key}", key):
        tag = index.get(candidate)
        if tag and tag.parent_id == nutrient.pk:
            return tag
    return None


def fact_tags(facts: Iterable[NutrientFact]) -> tuple[list[FactTag], list[str]]:
    """Map facts to tags; unknown codes come back as warnings (kept as facts, ignored by scoring)."""
    index = nutrient_code_index()
    found, unknown = [], []
    for fact in facts:
        tag = index.get(fact.code)
        if tag is None:
            unknown.append(fact.code)
            continue
        amount = convert(fact.amount, fact.unit, tag.unit or fact.unit, iu_per_unit=tag.iu_per_unit)
        ratio = amount / tag.reference_intake if amount is not None and tag.reference_intake else 0.0
        found.append(FactTag(tag, ratio, _form_tag(index, tag, fact.form)))
    return found, unknown


def group_tags(found: Iterable[FactTag]) -> dict[Tag, float]:
    """Group tags a product's facts earn: `trace-minerals` for a label listing several trace elements.

    A group tag (`Tag.members`, `Tag.min_members`) applies when the facts list at least `min_members`
    of its members at any amount, and the members make up most of the label's known nutrients
    (`GROUP_MIN_SHARE`), so a multivitamin that lists a few minerals among many vitamins is not a
    mineral concentrate. Relevance grows with the number of members listed.
    """
    listed = {f.tag.pk for f in found}
    if not listed:
        return {}
    groups = Tag.objects.filter(min_members__isnull=False).prefetch_related("members")
    earned = {}
    for group in groups:
        members = {m.pk for m in group.members.all()} & listed
        enough = bool(group.min_members) and len(members) >= (group.min_members or 0)
        if enough and len(members) / len(listed) >= recommender_settings.GROUP_MIN_SHARE:
            earned[group] = round(min(1.0, len(members) / ((group.min_members or 0) + 2)), 4)
    return earned


def product_line_tags(lexicon: Any, product: Any) -> set[Tag]:
    """Product-line tags whose name or synonym appears in the product's name or brand ("ConcenTrace")."""
    from recommender.text.extract import advises_against

    adapter = get_adapter()
    text = normalise(f"{adapter.name(product)}\n{adapter.brand(product)}")
    slugs = {m.tag for m in lexicon.finditer(text) if not m.excludes and not advises_against(text, m)}
    return set(Tag.objects.filter(slug__in=slugs, kind=Tag.Kind.PRODUCT_LINE))


@transaction.atomic
def product_name_tags_sync(*, product: Any, lexicon: Any = None) -> None:
    """Replace a product's name-derived product-line tags (approved, source "name"); rejected ones stay rejected."""
    from recommender.services.taxonomy import lexicon_build

    wanted = {t.pk: t for t in product_line_tags(lexicon or lexicon_build(), product)}
    existing = ProductTag.objects.filter(product=product, source=ProductTag.Source.NAME)
    with refresh_batch():
        existing.exclude(tag_id__in=wanted).delete()
        have = set(existing.values_list("tag_id", flat=True))
        ProductTag.objects.bulk_create(
            ProductTag(product=product, tag=tag, relevance=1.0, source=ProductTag.Source.NAME)
            for pk, tag in wanted.items()
            if pk not in have
        )


@transaction.atomic
def product_facts_tags_sync(*, product: Any) -> list[str]:
    """Replace a product's facts-derived tags; a tag a merchandiser rejected stays rejected.

    Facts give each nutrient (and its form) a relevance, and group tags such as `trace-minerals`;
    the product's name and brand give its product lines. Returns the nutrient codes the taxonomy
    does not know.
    """
    found, unknown = fact_tags(get_adapter().nutrients(product))
    relevance = centrality({f.tag.slug: f.ratio for f in found})
    wanted: dict[int, float] = {}
    for f in found:
        if f.tag.slug in relevance:
            wanted[f.tag.pk] = relevance[f.tag.slug]
            if f.form:
                wanted[f.form.pk] = relevance[f.tag.slug]
    for group, value in group_tags(found).items():
        wanted[group.pk] = max(wanted.get(group.pk, 0.0), value)
    product_name_tags_sync(product=product)
    status = ProductTag.Status.APPROVED if recommender_settings.AUTO_APPROVE_FACTS else ProductTag.Status.SUGGESTED
    existing = ProductTag.objects.filter(product=product, source=ProductTag.Source.FACTS)
    rejected = set(existing.filter(status=ProductTag.Status.REJECTED).values_list("tag_id", flat=True))
    with refresh_batch():
        existing.exclude(tag_id__in=wanted).delete()
        for tag_id, value in wanted.items():
            ProductTag.objects.update_or_create(
                product=product,
                tag_id=tag_id,
                source=ProductTag.Source.FACTS,
                defaults={"relevance": value, "status": ProductTag.Status.REJECTED if tag_id in rejected else status},
            )
    return unknown


@transaction.atomic
def product_tags_set(
    *,
    product: Any,
    tags: Iterable[tuple[Tag, float]],
    user: Any = None,
    source: str = ProductTag.Source.MANUAL,
) -> list[ProductTag]:
    """Replace the product's tags of one source (manual by default) with these, approved."""
    wanted = {tag.pk: (tag, relevance) for tag, relevance in tags}
    rows = []
    with refresh_batch():
        ProductTag.objects.filter(product=product, source=source).exclude(tag_id__in=wanted).delete()
        for tag, relevance in wanted.values():
            row, _ = ProductTag.objects.update_or_create(
                product=product,
                tag=tag,
                source=source,
                defaults={
                    "relevance": relevance,
                    "status": ProductTag.Status.APPROVED,
                    "created_by": user if getattr(user, "is_authenticated", False) else None,
                },
            )
            rows.append(row)
    return rows


def _user_or_none(user: Any) -> Any:
    return user if getattr(user, "is_authenticated", False) else None


@transaction.atomic
def product_tags_add(
    *,
    products: Iterable[Any],
    tag: Tag,
    relevance: float,
    user: Any = None,
    source: str = ProductTag.Source.MANUAL,
) -> int:
    """Give each product this tag at this relevance, approved (a merchandiser's bulk action).

    Re-adding updates the existing row of the same source; one refresh covers the whole batch.
    """
    if not 0.0 <= relevance <= 1.0:
        raise ValueError("relevance must be between 0 and 1")
    count = 0
    with refresh_batch():
        for product in products:
            ProductTag.objects.update_or_create(
                product=product,
                tag=tag,
                source=source,
                defaults={"relevance": relevance, "status": ProductTag.Status.APPROVED},
                create_defaults={
                    "relevance": relevance,
                    "status": ProductTag.Status.APPROVED,
                    "created_by": _user_or_none(user),
                },
            )
            count += 1
    return count


@transaction.atomic
def product_tags_review(*, rows: Iterable[ProductTag], status: str) -> list[ProductTag]:
    """Approve or reject suggested tags; returns the rows that changed (rows already so are left alone)."""
    if status not in (ProductTag.Status.APPROVED, ProductTag.Status.REJECTED):
        raise ValueError(f"cannot review a tag to {status!r}")
    changed = []
    with refresh_batch():
        for row in rows:
            if row.status != status:
                row.status = status
                row.save(update_fields=["status", "updated_at"])
                changed.append(row)
    return changed


def product_tags_approve(*, rows: Iterable[ProductTag]) -> list[ProductTag]:
    """Approve suggestions: only approved tags score."""
    return product_tags_review(rows=rows, status=ProductTag.Status.APPROVED)


def product_tags_reject(*, rows: Iterable[ProductTag]) -> list[ProductTag]:
    """Reject suggestions; a rejected facts tag stays rejected when the facts are synced again."""
    return product_tags_review(rows=rows, status=ProductTag.Status.REJECTED)


@transaction.atomic
def product_tags_remove(*, products: Iterable[Any], tag: Tag) -> list[ProductTag]:
    """Remove this tag from the products, whatever its source; returns the deleted rows (for the log)."""
    with refresh_batch():
        rows = list(ProductTag.objects.filter(product__in=list(products), tag=tag).select_related("tag"))
        for row in rows:
            row.delete()  # one by one, so the receivers see each product
    return rows


@transaction.atomic
def product_text_suggest(*, product: Any, lexicon: Any = None) -> list[ProductTag]:
    """Suggest tags found in the product's name and description; they wait for a merchandiser.

    Never approves: text says what a product mentions, not what it is ("iron-free" is caught by the
    negation rules, but a merchandiser still decides). A tag the product already carries from any
    source, or a text suggestion that was rejected, is not suggested again. Returns the new rows.
    """
    from recommender.services.taxonomy import lexicon_build
    from recommender.text.extract import extract_tags

    lexicon = lexicon or lexicon_build()
    found = extract_tags(lexicon, title="", text=get_adapter().text(product))
    wanted = {slug: tw.weight for slug, tw in found.items() if tw.weight > 0}
    have = set(ProductTag.objects.filter(product=product).values_list("tag__slug", flat=True))
    tags = Tag.objects.filter(slug__in=set(wanted) - have)
    with refresh_batch():
        return [
            ProductTag.objects.create(
                product=product,
                tag=tag,
                relevance=round(wanted[tag.slug], 2),
                source=ProductTag.Source.TEXT,
                status=ProductTag.Status.SUGGESTED,
            )
            for tag in tags
        ]


@transaction.atomic
def product_tag_rows_save(*, rows: Iterable[ProductTag], deleted: Iterable[ProductTag] = (), user: Any = None) -> None:
    """Save rows edited in the admin inline as one change: new rows record who made them."""
    with refresh_batch():
        for row in deleted:
            row.delete()
        for row in rows:
            if row.pk is None and row.created_by_id is None:
                row.created_by = _user_or_none(user)
            row.save()


@transaction.atomic
def products_text_suggest(*, products: Iterable[Any]) -> dict[Any, list[ProductTag]]:
    """Suggest tags from text for many products with one lexicon and one refresh."""
    from recommender.services.taxonomy import lexicon_build

    lexicon = lexicon_build()
    with refresh_batch():
        return {product: product_text_suggest(product=product, lexicon=lexicon) for product in products}
