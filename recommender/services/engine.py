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
from recommender.scoring.explain import explain
from recommender.scoring.rank import ProductMeta, RankParams, Rule, rank
from recommender.scoring.space import Relation, TagInfo, TagSpace, build_space
from recommender.scoring.vectors import page_vector, product_matrix
from recommender.services.taxonomy import lexicon_build
from recommender.text.lexicon import Lexicon
from recommender.units import convert

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

    def params(self, limit: int) -> RankParams:
        s = recommender_settings
        return RankParams(
            limit=limit,
            min_score=s.MIN_SCORE,
            max_per_nutrient=s.MAX_PER_NUTRIENT,
            max_per_brand=s.MAX_PER_BRAND,
            dose_penalty=s.DOSE_PENALTY,
        )

    def compute(
        self, weights: Mapping[str, float], *, rules: Sequence[Rule] = (), limit: int, campaign: str = ""
    ) -> list[Item]:
        """The ranked, explained list for a page with these tag weights."""
        if not self.metas:
            return []
        page = page_vector(self.space, weights, recommender_settings.KIND_WEIGHTS)
        against = frozenset(slug for slug, w in weights.items() if w < 0)
        ranked = rank(page, self.products, self.metas, rules=rules, against=against, params=self.params(limit))
        items = []
        for position, r in enumerate(ranked, start=1):
            reasons = explain(self.space, weights, page, self.products[r.index])
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


def _space() -> tuple[TagSpace, dict[str, Tag]]:
    tags = {t.slug: t for t in Tag.objects.select_related("parent")}
    infos = [TagInfo(t.slug, t.name, t.kind, t.parent.slug if t.parent else None) for t in tags.values()]
    relations = [
        Relation(r.source.slug, r.target.slug, r.strength, r.grade, tuple(r.citations))
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
            cautions.append(
                {
                    "code": f"dose-{tag.slug}",
                    "text": (
                        f"One serving provides {fact.amount:g} {fact.unit} of {tag.name.lower()}, above the "
                        f"{tag.upper_limit:g} {tag.unit} daily upper limit for supplemental intake. "
                        "Check with your clinician before taking this amount."
                    ),
                }
            )
    return cautions


def tag_cautions(slugs: Sequence[str], tags: Mapping[str, Tag]) -> list[dict[str, str]]:
    """Cautions of the product's tags, strongest level first."""
    with_caution = [tags[s] for s in slugs if s in tags and tags[s].caution]
    with_caution.sort(key=lambda t: (t.caution_level != Tag.CautionLevel.GUARD, t.slug))
    return [{"code": t.slug, "text": t.caution} for t in with_caution]


def _meta(
    space: TagSpace, tags: Mapping[str, Tag], product: Any, relevances: Mapping[str, float], *, over_limit: bool
) -> ProductMeta:
    adapter = get_adapter()
    expanded = frozenset(a for slug in relevances for a in space.ancestors(slug))
    nutrients = {space.ancestors(slug)[-1]: rel for slug, rel in relevances.items() if slug in space.index}
    nutrients = {s: r for s, r in nutrients.items() if tags[s].kind == Tag.Kind.NUTRIENT}
    primary = max(sorted(nutrients), key=lambda s: nutrients[s], default="")
    return ProductMeta(
        id=product.pk,
        available=adapter.is_available(product),
        brand=adapter.brand(product),
        primary_nutrient=primary,
        guarded=any(tags[s].caution_level == Tag.CautionLevel.GUARD for s in expanded if s in tags),
        over_limit=over_limit,
        tags=expanded,
    )


def engine_build() -> Engine:
    """Snapshot the taxonomy and every product that has approved tags."""
    space, tags = _space()
    relevances = _approved_relevances()
    adapter = get_adapter()
    # Pinned and linked products are loaded even without tags, so marketing's pins always apply.
    products = sorted(adapter.for_ids(set(relevances) | _placed_product_ids()).values(), key=lambda p: p.pk)
    doses = {p.pk: dose_cautions(p, tags) for p in products}
    metas = [_meta(space, tags, p, relevances.get(p.pk, {}), over_limit=bool(doses[p.pk])) for p in products]
    cautions = {m.id: tag_cautions(sorted(m.tags), tags) + doses[m.id] for m in metas}
    return Engine(
        space=space,
        lexicon=lexicon_build(),
        products=product_matrix(
            space, [relevances.get(p.pk, {}) for p in products], recommender_settings.PRODUCT_KIND_WEIGHTS
        ),
        metas=metas,
        cautions=cautions,
        skus={p.pk: adapter.sku(p) for p in products},
    )
