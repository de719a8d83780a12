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


@transaction.atomic
def product_facts_tags_sync(*, product: Any) -> list[str]:
    """Replace a product's facts-derived tags; a tag a merchandiser rejected stays rejected.

    Returns the nutrient codes the taxonomy does not know.
    """
    found, unknown = fact_tags(get_adapter().nutrients(product))
    relevance = centrality({f.tag.slug: f.ratio for f in found})
    wanted: dict[int, float] = {}
    for f in found:
        if f.tag.slug in relevance:
            wanted[f.tag.pk] = relevance[f.tag.slug]
            if f.form:
                wanted[f.form.pk] = relevance[f.tag.slug]
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
