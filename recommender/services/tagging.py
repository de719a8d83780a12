"""Writes to product tags: from supplement facts, by hand, and from imports."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from recommender import dirty
from recommender.adapters import NutrientFact, get_adapter
from recommender.conf import recommender_settings
from recommender.dirty import refresh_batch
from recommender.labels import LabelIndex, form_slug, name_key
from recommender.models import ProductTag, Tag
from recommender.scoring.facts import centrality
from recommender.services.bulk import rows_insert
from recommender.services.taxonomy import label_index_build
from recommender.text.clean import normalise
from recommender.units import convert


@dataclass(frozen=True)
class FactTag:
    """A tag derived from one supplement-facts line."""

    tag: Tag
    ratio: float  # amount / reference intake (0 when unknown)
    form: Tag | None


@dataclass(frozen=True)
class Group:
    """A group tag (trace minerals) and the nutrients whose facts earn it."""

    tag_id: int
    members: frozenset[int]
    min_members: int


@dataclass(frozen=True)
class FactsTaxonomy:
    """The taxonomy loaded once for deriving tags from many products' facts."""

    index: LabelIndex
    tags: dict[str, Tag]
    groups: tuple[Group, ...] = ()


def facts_taxonomy() -> FactsTaxonomy:
    """Tags, their label names (slug, name, synonyms) and the group tags, loaded in a few queries."""
    tags = {t.slug: t for t in Tag.objects.select_related("parent")}
    groups = tuple(
        Group(t.pk, frozenset(m.pk for m in t.members.all()), t.min_members or 0)
        for t in Tag.objects.filter(min_members__gt=0).prefetch_related("members")
    )
    return FactsTaxonomy(index=label_index_build(tags.values()), tags=tags, groups=groups)


def nutrient_code_index() -> dict[str, Tag]:
    """Tags by normalised label name (`labels.name_key`): how a supplement-facts code maps to a tag."""
    taxonomy = facts_taxonomy()
    return {key: taxonomy.tags[slug] for key, slug in taxonomy.index.names.items()}


def _fact_tag(fact: NutrientFact, taxonomy: FactsTaxonomy) -> FactTag | None:
    """The nutrient tag (and form tag) of one fact, or None when it is not a scored taxonomy nutrient."""
    tag = taxonomy.tags.get(taxonomy.index.names.get(name_key(fact.code), ""))
    form = None
    if tag is not None and tag.kind == Tag.Kind.FORM and tag.parent is not None:
        form, tag = tag, tag.parent
        if form.upper_limit and fact.code == form.slug:
            return None  # a form's own line (folic acid beside folate): its nutrient line carries the tag
    if tag is None or tag.kind != Tag.Kind.NUTRIENT:
        return None
    amount = convert(fact.amount, fact.unit, tag.unit or fact.unit, iu_per_unit=tag.iu_per_unit)
    ratio = amount / tag.reference_intake if amount is not None and tag.reference_intake else 0.0
    form_tag_slug = form.slug if form else form_slug(fact.form, tag.slug, taxonomy.index)
    return FactTag(tag, ratio, taxonomy.tags.get(form_tag_slug or ""))


def fact_tags(facts: Iterable[NutrientFact], taxonomy: FactsTaxonomy | None = None) -> tuple[list[FactTag], list[str]]:
    """Map facts to tags; codes that name no taxonomy nutrient come back (kept as facts, never scored)."""
    taxonomy = taxonomy or facts_taxonomy()
    found, unknown = [], []
    for fact in facts:
        fact_tag = _fact_tag(fact, taxonomy)
        if fact_tag is None:
            if taxonomy.index.names.get(name_key(fact.code)) is None:
                unknown.append(fact.code)
            continue
        found.append(fact_tag)
    return found, unknown


def group_tags(found: Iterable[FactTag], groups: Iterable[Group]) -> dict[int, float]:
    """Group tags a product's facts earn: `trace-minerals` for a label listing several trace elements.

    A group tag (`Tag.members`, `Tag.min_members`) applies when the facts list at least `min_members`
    of its members at any amount, and the members make up most of the label's known nutrients
    (`GROUP_MIN_SHARE`), so a multivitamin that lists a few minerals among many vitamins is not a
    mineral concentrate. Relevance grows with the number of members listed.
    """
    listed = {f.tag.pk for f in found}
    if not listed:
        return {}
    earned = {}
    for group in groups:
        members = group.members & listed
        if len(members) >= group.min_members and len(members) / len(listed) >= recommender_settings.GROUP_MIN_SHARE:
            earned[group.tag_id] = round(min(1.0, len(members) / (group.min_members + 2)), 4)
    return earned


def product_line_tags(lexicon: Any, product: Any, lines: Mapping[str, Tag]) -> list[Tag]:
    """Product-line tags (`lines`, by slug) whose name or synonym appears in the product's name or brand."""
    from recommender.text.extract import advises_against

    adapter = get_adapter()
    text = normalise(f"{adapter.name(product)}\n{adapter.brand(product)}")
    found = {m.tag for m in lexicon.finditer(text) if not m.excludes and not advises_against(text, m)}
    return [lines[slug] for slug in sorted(found) if slug in lines]


def product_name_tags_sync(*, product: Any, lexicon: Any = None) -> None:
    """Replace a product's name-derived product-line tags (approved, source "name")."""
    products_name_tags_sync(products=[product], lexicon=lexicon)


@transaction.atomic
def products_name_tags_sync(*, products: Iterable[Any], lexicon: Any = None) -> None:
    """Product-line tags from many products' names and brands, with one lexicon and one announcement."""
    from recommender.services.taxonomy import lexicon_build

    lexicon = lexicon or lexicon_build()
    lines = {t.slug: t for t in Tag.objects.filter(kind=Tag.Kind.PRODUCT_LINE)}
    products_tags_replace(
        tags={p.pk: [(tag, 1.0) for tag in product_line_tags(lexicon, p, lines)] for p in products},
        source=ProductTag.Source.NAME,
    )


def _wanted_facts_tags(facts: Iterable[NutrientFact], taxonomy: FactsTaxonomy) -> dict[int, float]:
    """Tag id -> relevance derived from one product's facts (nutrients, their forms, and groups)."""
    found, _ = fact_tags(facts, taxonomy)
    relevance = centrality({f.tag.slug: f.ratio for f in found})
    wanted: dict[int, float] = {}
    for f in found:
        if f.tag.slug in relevance:
            wanted[f.tag.pk] = max(wanted.get(f.tag.pk, 0.0), relevance[f.tag.slug])
            if f.form:
                wanted[f.form.pk] = max(wanted.get(f.form.pk, 0.0), relevance[f.tag.slug])
    for tag_id, value in group_tags(found, taxonomy.groups).items():
        wanted[tag_id] = max(wanted.get(tag_id, 0.0), value)
    return wanted


def _chunks(ids: list[int], size: int = 500) -> Iterable[list[int]]:
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


@transaction.atomic
def products_facts_tags_sync(
    *, facts: Mapping[int, Iterable[NutrientFact]], taxonomy: FactsTaxonomy | None = None
) -> None:
    """Replace the facts-derived tags of many products (by id) in bulk; a rejected tag stays rejected.

    The taxonomy is read once for the batch and the change is announced once for all the products.
    """
    taxonomy = taxonomy or facts_taxonomy()
    wanted = {pid: _wanted_facts_tags(product_facts, taxonomy) for pid, product_facts in facts.items()}
    status = ProductTag.Status.APPROVED if recommender_settings.AUTO_APPROVE_FACTS else ProductTag.Status.SUGGESTED
    _tags_replace(wanted, source=ProductTag.Source.FACTS, status=status, keep_rejected=True)


def product_facts_tags_sync(*, product: Any) -> list[str]:
    """Replace one product's derived tags: from its facts (nutrients, forms, groups such as trace minerals)
    and from its name and brand (product lines). Returns the nutrient codes the taxonomy does not know."""
    taxonomy = facts_taxonomy()
    facts = get_adapter().nutrients(product)
    with refresh_batch():
        products_facts_tags_sync(facts={product.pk: facts}, taxonomy=taxonomy)
        product_name_tags_sync(product=product)
    return fact_tags(facts, taxonomy)[1]


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


@transaction.atomic
def products_tags_replace(*, tags: Mapping[int, Iterable[tuple[Tag, float]]], source: str) -> None:
    """Replace the tags of one source for many products (by id) in bulk, approved; one announcement.

    The bulk form of `product_tags_set`, for imports.
    """
    wanted = {pid: {tag.pk: relevance for tag, relevance in pairs} for pid, pairs in tags.items()}
    _tags_replace(wanted, source=source, status=ProductTag.Status.APPROVED, keep_rejected=False)


def _tags_replace(wanted: Mapping[int, Mapping[int, float]], *, source: str, status: str, keep_rejected: bool) -> None:
    """Make the products' rows of one source exactly `wanted` (product id -> tag id -> relevance), in bulk.

    With `keep_rejected`, a row a merchandiser rejected stays rejected. Announces one change for them all.
    """
    stale, changed, new = [], [], []
    for ids in _chunks(sorted(wanted)):
        existing = {
            (row.product_id, row.tag_id): row for row in ProductTag.objects.filter(product_id__in=ids, source=source)
        }
        for (pid, tag_id), row in existing.items():
            value = wanted[pid].get(tag_id)
            target = (
                ProductTag.Status.REJECTED if keep_rejected and row.status == ProductTag.Status.REJECTED else status
            )
            if value is None:
                stale.append(row.pk)
            elif row.relevance != value or row.status != target:
                row.relevance, row.status = value, target
                changed.append(row)
        new += [
            (pid, tag_id, value, source, status)
            for pid in ids
            for tag_id, value in wanted[pid].items()
            if (pid, tag_id) not in existing
        ]
    for pks in _chunks(stale):
        ProductTag.objects.filter(pk__in=pks).delete()
    ProductTag.objects.bulk_update(changed, ["relevance", "status", "updated_at"], batch_size=500)
    # An import adds a hundred thousand rows: plain tuples by COPY, not a model instance each.
    now = timezone.now()
    fields = ["product_id", "tag_id", "relevance", "source", "status", "created_at", "updated_at"]
    rows_insert(ProductTag, fields, [(*row, now, now) for row in new])
    if stale or changed or new:
        dirty.products_changed(wanted)


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
