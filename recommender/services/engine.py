"""The bridge from the database to pure scoring: one snapshot of tags and products per run.

A full refresh builds the snapshot once and scores every page against it; a single-page
refresh builds it too (it is a few queries), so both give identical lists.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from recommender.adapters import get_adapter
from recommender.conf import recommender_settings
from recommender.models import ArticleLink, Placement, ProductTag, Tag, TagRelation
from recommender.scoring.explain import explain, in_sentence
from recommender.scoring.rank import ProductMeta, RankParams, Rule, rank
from recommender.scoring.space import NO_BENEFIT, Relation, TagInfo, TagSpace, build_space
from recommender.scoring.vectors import normalise_rows, page_vector, product_matrix
from recommender.services.tagging import nutrient_code_index
from recommender.services.taxonomy import lexicon_build
from recommender.text.extract import TOPIC_KINDS
from recommender.text.lexicon import Lexicon
from recommender.units import amount_words, canonical_unit, convert

PIN_REASON = "Featured by the store alongside this article."


@dataclass
class Item:
    """One computed list item, ready to be stored as a Recommendation row."""

    product_id: int
    rank: int
    score: float
    reasons: list[dict[str, Any]]
    cautions: list[dict[str, str]]
    link_params: dict[str, str]


@dataclass
class Engine:
    """Tag space, lexicon and the product matrix with the rules' view of each product."""

    space: TagSpace
    lexicon: Lexicon
    products: NDArray[np.float32]
    metas: list[ProductMeta]
    cautions: dict[int, list[dict[str, str]]] = field(default_factory=dict)
    skus: dict[int, str] = field(default_factory=dict)
    guard_tags: frozenset[str] = frozenset()  # guarded nutrients (iron) and their forms
    plain: NDArray[np.float32] | None = None  # the product matrix without product-line dimensions

    def matrix_for(self, weights: Mapping[str, float]) -> NDArray[np.float32]:
        """Product lines count only on a page that names one; elsewhere they would only dilute a
        product's nutrient profile (a line says who makes it, not what is in it)."""
        names_a_line = any(
            w > 0 and s in self.space.index and self.space.info(s).kind == Tag.Kind.PRODUCT_LINE
            for s, w in weights.items()
        )
        return self.products if names_a_line or self.plain is None else self.plain

    def params(self, limit: int) -> RankParams:
        s = recommender_settings
        return RankParams(
            limit=limit,
            min_score=s.MIN_SCORE,
            max_per_nutrient=s.MAX_PER_NUTRIENT,
            max_per_brand=s.MAX_PER_BRAND,
            dose_penalty=s.DOSE_PENALTY,
            lead_share=s.LEAD_SHARE,
            guarded_in_top=s.GUARDED_IN_TOP,
        )

    def compute(
        self,
        weights: Mapping[str, float],
        *,
        advised: frozenset[str] = frozenset(),
        rules: Sequence[Rule] = (),
        limit: int,
        campaign: str = "",
    ) -> list[Item]:
        """The ranked, explained list for a page with these tag weights.

        `advised` holds the tags the page advises against taking: no product containing them is listed.
        """
        if not self.metas:
            return []
        page = page_vector(self.space, weights, recommender_settings.KIND_WEIGHTS)
        if is_safety_page(self.space, weights):
            page = np.zeros_like(page)  # nothing to recommend; pins that pass the avoid rules still show
        against = advised | avoided(self.space, weights, subject_weight=recommender_settings.AVOID_SUBJECT_WEIGHT)
        subject = page_subject(self.space, weights)
        products = self.matrix_for(weights)
        ranked = rank(
            page,
            products,
            self.metas,
            rules=rules,
            against=against,
            unwanted=frozenset(slug for slug, w in weights.items() if w < 0),
            subject=subject,
            held_back=no_benefit(self.space, weights, topic_weight=recommender_settings.AVOID_SUBJECT_WEIGHT),
            open_page=without(self.space, page, self.guard_tags - {subject}),
            params=self.params(limit),
        )
        items = []
        for position, r in enumerate(ranked, start=1):
            reasons = explain(self.space, weights, page, products[r.index])
            if r.pinned and not reasons:
                reasons = [
                    {"tag": None, "label": PIN_REASON, "weight": 1.0, "evidence": {"grade": None, "citations": []}}
                ]
            params = {
                "utm_source": recommender_settings.UTM_SOURCE,
                "utm_medium": recommender_settings.UTM_MEDIUM,
                "utm_campaign": campaign,
                "utm_content": self.skus.get(r.product_id, ""),
            }
            params.update({k: v for k, v in r.link_params.items() if v})
            items.append(
                Item(r.product_id, position, round(r.score, 4), reasons, self.cautions.get(r.product_id, []), params)
            )
        return items


def avoided(space: TagSpace, weights: Mapping[str, float], *, subject_weight: float) -> frozenset[str]:
    """Nutrients no listed product may contain: the "avoid" relations of every condition the page is
    about (weight at least `subject_weight`), whatever else the page says."""
    against: set[str] = set()
    for slug, w in weights.items():
        if w >= subject_weight and slug in space.index:
            against |= space.avoided(slug)
    return frozenset(against)


def no_benefit(space: TagSpace, weights: Mapping[str, float], *, topic_weight: float) -> frozenset[str]:
    """Nutrients research found no benefit from for a condition the page is about (magnesium for leg
    cramps): their products may be listed where the page discusses them, but never lead."""
    return frozenset(
        r.target for r in space.relations if r.polarity == NO_BENEFIT and weights.get(r.source, 0.0) >= topic_weight
    )


def is_safety_page(space: TagSpace, weights: Mapping[str, float]) -> bool:
    """The page's main topic is a condition the taxonomy links only to nutrients to avoid
    (haemochromatosis, kidney disease): such a page discusses nothing the store should recommend."""
    positive = {slug: w for slug, w in weights.items() if w > 0 and slug in space.index}
    best = max(positive.values(), default=0.0)
    return any(space.only_avoids(slug) for slug, w in positive.items() if w >= best)


def without(space: TagSpace, page: NDArray[np.float32], slugs: frozenset[str]) -> NDArray[np.float32]:
    """The page vector with these tags' dimensions removed, normalised again."""
    dims = [space.index[s] for s in slugs if s in space.index]
    if not dims:
        return page
    trimmed = page.copy()
    trimmed[dims] = 0.0
    return normalise_rows(trimmed)


def without_kind(space: TagSpace, matrix: NDArray[np.float32], kind: str) -> NDArray[np.float32]:
    """The rows with every dimension of this tag kind removed, normalised again."""
    trimmed = matrix.copy()
    trimmed[:, [i for i, t in enumerate(space.tags) if t.kind == kind]] = 0.0
    return normalise_rows(trimmed)


def page_subject(space: TagSpace, weights: Mapping[str, float], *, topic_weight: float = 0.5) -> str:
    """The nutrient the page is about (an iron fact page), or "".

    The page's strongest tag must be the nutrient, one of its forms or its deficiency (a tag whose
    parent is the nutrient), and no other condition or symptom may be a main topic (`topic_weight`):
    a page about restless legs that names iron often is about restless legs.
    """
    positive = {slug: w for slug, w in weights.items() if w > 0 and slug in space.index}
    if not positive:
        return ""
    best = max(positive.values())
    top = {space.ancestors(slug)[-1] for slug, w in positive.items() if w >= best}
    if len(top) != 1:
        return ""
    (subject,) = top
    if space.info(subject).kind != Tag.Kind.NUTRIENT:
        return ""
    topics = [
        s for s, w in positive.items() if w >= topic_weight and space.info(s).kind in TOPIC_KINDS - {"product-line"}
    ]
    if any(space.ancestors(s)[-1] != subject for s in topics):
        return ""
    return subject


def _space() -> tuple[TagSpace, dict[str, Tag]]:
    tags = {t.slug: t for t in Tag.objects.select_related("parent")}
    infos = [TagInfo(t.slug, t.name, t.kind, t.parent.slug if t.parent else None) for t in tags.values()]
    relations = [
        Relation(r.source.slug, r.target.slug, r.strength, r.grade, tuple(r.citations), r.polarity)
        for r in TagRelation.objects.select_related("source", "target")
    ]
    space = build_space(
        infos,
        relations,
        parent_weight=recommender_settings.PARENT_WEIGHT,
        evidence_weights=recommender_settings.EVIDENCE_WEIGHTS,
        relation_weight=recommender_settings.RELATION_WEIGHT,
    )
    return space, tags


def tag_space() -> TagSpace:
    """The tag space alone (no products), e.g. to find the pages a change can reach."""
    return _space()[0]


def _approved_relevances() -> dict[int, dict[str, float]]:
    """Per product, the best approved relevance per tag."""
    relevances: dict[int, dict[str, float]] = defaultdict(dict)
    rows = ProductTag.objects.filter(status=ProductTag.Status.APPROVED).values_list(
        "product_id", "tag__slug", "relevance"
    )
    for product_id, slug, relevance in rows:
        current = relevances[product_id].get(slug, 0.0)
        relevances[product_id][slug] = max(current, relevance)
    return relevances


def _placed_product_ids() -> set[int]:
    """Products that marketing pins or links somewhere."""
    pinned = Placement.objects.filter(action=Placement.Action.PIN).values_list("product_id", flat=True)
    return set(pinned) | set(ArticleLink.objects.values_list("product_id", flat=True))


def dose_cautions(product: Any, tags: Mapping[str, Tag]) -> list[dict[str, str]]:
    """A caution for each nutrient whose single serving exceeds its supplemental upper limit."""
    cautions = []
    for fact in get_adapter().nutrients(product):
        tag = tags.get(fact.code)
        if tag is None or not tag.upper_limit:
            continue
        amount = convert(fact.amount, fact.unit, tag.unit or fact.unit, iu_per_unit=tag.iu_per_unit)
        if amount is not None and amount > tag.upper_limit:
            served = amount_words(fact.amount, fact.unit, amount, tag.unit)
            limit = (
                amount_words(tag.upper_limit * (tag.iu_per_unit or 0), "IU", tag.upper_limit, tag.unit)
                if canonical_unit(fact.unit) == "IU" and tag.iu_per_unit
                else amount_words(tag.upper_limit, tag.unit)
            )
            cautions.append(
                {
                    "code": f"dose-{tag.slug}",
                    "text": (
                        f"One serving provides {served} of {in_sentence(tag.name)}, above the {limit} daily upper "
                        "limit for supplemental intake. Check with your clinician before taking this amount."
                    ),
                }
            )
    return cautions


def tag_cautions(slugs: Sequence[str], tags: Mapping[str, Tag]) -> list[dict[str, str]]:
    """Cautions of the product's tags, strongest level first."""
    with_caution = [tags[s] for s in slugs if s in tags and tags[s].caution]
    with_caution.sort(key=lambda t: (t.caution_level != Tag.CautionLevel.GUARD, t.slug))
    return [{"code": t.slug, "text": t.caution} for t in with_caution]


def contained(space: TagSpace, codes: Mapping[str, Tag], product: Any) -> frozenset[str]:
    """Every taxonomy nutrient in the product's supplement facts, at any amount, with its parents."""
    found = (codes.get(fact.code) for fact in get_adapter().nutrients(product))
    return frozenset(a for tag in found if tag is not None for a in space.ancestors(tag.slug))


def _meta(
    space: TagSpace,
    tags: Mapping[str, Tag],
    product: Any,
    relevances: Mapping[str, float],
    *,
    over_limit: bool,
    contains: frozenset[str],
) -> ProductMeta:
    adapter = get_adapter()
    expanded = frozenset(a for slug in relevances for a in space.ancestors(slug))
    guards = frozenset(s for s in expanded | contains if s in tags and tags[s].caution_level == Tag.CautionLevel.GUARD)
    nutrients = {space.ancestors(slug)[-1]: rel for slug, rel in relevances.items() if slug in space.index}
    nutrients = {s: r for s, r in nutrients.items() if tags[s].kind == Tag.Kind.NUTRIENT}
    primary = max(sorted(nutrients), key=lambda s: nutrients[s], default="")
    return ProductMeta(
        id=product.pk,
        available=adapter.is_available(product),
        brand=adapter.brand(product),
        primary_nutrient=primary,
        guarded=bool(guards),
        over_limit=over_limit,
        tags=expanded,
        contains=contains,
        guards=guards,
    )


def engine_build() -> Engine:
    """Snapshot the taxonomy and every product that has approved tags."""
    space, tags = _space()
    relevances = _approved_relevances()
    adapter = get_adapter()
    # Pinned and linked products are loaded even without tags, so marketing's pins always apply.
    products = sorted(adapter.for_ids(set(relevances) | _placed_product_ids()).values(), key=lambda p: p.pk)
    doses = {p.pk: dose_cautions(p, tags) for p in products}
    codes = nutrient_code_index()
    metas = [
        _meta(
            space, tags, p, relevances.get(p.pk, {}), over_limit=bool(doses[p.pk]), contains=contained(space, codes, p)
        )
        for p in products
    ]
    cautions = {m.id: tag_cautions(sorted(m.tags | m.guards), tags) + doses[m.id] for m in metas}
    guard_roots = {s for s, t in tags.items() if t.caution_level == Tag.CautionLevel.GUARD}
    matrix = product_matrix(
        space, [relevances.get(p.pk, {}) for p in products], recommender_settings.PRODUCT_KIND_WEIGHTS
    )
    return Engine(
        plain=without_kind(space, matrix, Tag.Kind.PRODUCT_LINE),
        guard_tags=frozenset(s for s in tags if guard_roots & set(space.ancestors(s))),
        space=space,
        lexicon=lexicon_build(),
        products=matrix,
        metas=metas,
        cautions=cautions,
        skus={p.pk: adapter.sku(p) for p in products},
    )
