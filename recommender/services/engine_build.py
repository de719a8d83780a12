"""Building an engine from the database (the taxonomy and every product with approved tags), and patching one
when only some products changed (`snapshot.py` keeps an engine between refreshes that way)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from itertools import chain
from typing import Any

import numpy as np
from numpy.typing import NDArray

from recommender.adapters import ProductRecord, get_adapter
from recommender.conf import recommender_settings
from recommender.models import ArticleLink, Placement, ProductTag, Synonym, Tag, TagRelation
from recommender.scoring.rank import ProductMeta
from recommender.scoring.space import Relation, TagInfo, TagSpace, build_space
from recommender.scoring.vectors import product_matrix, without_kind
from recommender.services.cautions import dose_cautions, tag_cautions
from recommender.services.engine import Catalog, Engine, Taxonomy, meta_arrays
from recommender.services.tagging import nutrient_code_index
from recommender.services.taxonomy import lexicon_build
from recommender.text.lexicon import Lexicon


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


def taxonomy_rows() -> tuple[Any, ...]:
    """Every row a taxonomy snapshot and the lexicon are built from (tags, their groups' members, synonyms and
    relations, in full) and the settings that weigh them: equal rows, an equal snapshot."""
    models = (Tag, Tag.members.through, Synonym, TagRelation)
    rows = tuple(
        tuple(model._default_manager.order_by("pk").values_list(*(f.attname for f in model._meta.concrete_fields)))
        for model in models
    )
    names = ("PARENT_WEIGHT", "EVIDENCE_WEIGHTS", "RELATION_WEIGHT", "PRODUCT_KIND_WEIGHTS")
    return (*rows, repr([getattr(recommender_settings, name) for name in names]))


def taxonomy_snapshot(rows: tuple[Any, ...] | None = None) -> Taxonomy:
    """The tag space, the tags by slug and by nutrient code, and the guarded tags, as they are now (`rows`:
    `taxonomy_rows()` when the caller has read them already)."""
    rows = taxonomy_rows() if rows is None else rows
    space, tags = _space()
    guard_roots = {s for s, t in tags.items() if t.caution_level == Tag.CautionLevel.GUARD}
    guard_tags = frozenset(s for s in tags if guard_roots & set(space.ancestors(s)))
    return Taxonomy(space, tags, nutrient_code_index(), guard_tags, rows)


def _approved_relevances(product_ids: Collection[int] | None = None) -> dict[int, dict[str, float]]:
    """Per product (of these, or every product), the best approved relevance per tag."""
    relevances: dict[int, dict[str, float]] = defaultdict(dict)
    rows = ProductTag.objects.filter(status=ProductTag.Status.APPROVED)
    if product_ids is not None:
        rows = rows.filter(product_id__in=list(product_ids))
    for product_id, slug, relevance in rows.values_list("product_id", "tag__slug", "relevance"):
        current = relevances[product_id].get(slug, 0.0)
        relevances[product_id][slug] = max(current, relevance)
    return relevances


def _placed_product_ids() -> set[int]:
    """Products that marketing pins or links somewhere."""
    pinned = Placement.objects.filter(action=Placement.Action.PIN).values_list("product_id", flat=True)
    return set(pinned) | set(ArticleLink.objects.values_list("product_id", flat=True))


@dataclass(frozen=True)
class TagLookups:
    """What building a product's meta and cautions asks of each tag, worked out once per build instead of once
    per product (`meta_of` reads these for twenty thousand products)."""

    chains: Mapping[str, tuple[str, ...]]  # each tag with its parents, nearest first (`TagSpace.ancestors`)
    code_chains: Mapping[str, tuple[str, ...]]  # the same by supplement-facts code
    nutrient_roots: Mapping[str, str]  # a tag whose top ancestor is a nutrient -> that nutrient
    guarded: frozenset[str]  # tags of caution level GUARD
    cautioned: frozenset[str]  # tags with a caution of their own
    limited: frozenset[str]  # tags with a supplemental upper limit


def tag_lookups(taxonomy: Taxonomy) -> TagLookups:
    """The `TagLookups` of a taxonomy snapshot (a few hundred tags: a millisecond)."""
    space, tags = taxonomy.space, taxonomy.tags
    chains = {t.slug: tuple(space.ancestors(t.slug)) for t in space.tags}
    return TagLookups(
        chains=chains,
        code_chains={code: chains.get(tag.slug, ()) for code, tag in taxonomy.codes.items()},
        nutrient_roots={s: c[-1] for s, c in chains.items() if c and tags[c[-1]].kind == Tag.Kind.NUTRIENT},
        guarded=frozenset(s for s, t in tags.items() if t.caution_level == Tag.CautionLevel.GUARD),
        cautioned=frozenset(s for s, t in tags.items() if t.caution),
        limited=frozenset(s for s, t in tags.items() if t.upper_limit),
    )


def meta_of(
    lookups: TagLookups, product: ProductRecord, relevances: Mapping[str, float], *, over_limit: bool
) -> ProductMeta:
    """The rules' view of one product: its approved tags with their parents, every nutrient its facts hold
    (with their parents), the guarded ones among them, and its primary nutrient (the best relevance; of equals, the
    first by slug)."""
    chains = lookups.chains
    expanded = frozenset(chain.from_iterable(chains[s] for s in relevances if s in chains))
    code_chains = lookups.code_chains
    contains = frozenset(chain.from_iterable(code_chains.get(f.code, ()) for f in product.nutrients))
    guards = (expanded | contains) & lookups.guarded
    nutrients: dict[str, float] = {}
    for slug, relevance in relevances.items():
        if (root := lookups.nutrient_roots.get(slug)) is not None:
            nutrients[root] = relevance
    primary = max(sorted(nutrients), key=nutrients.__getitem__, default="")
    return ProductMeta(
        id=product.id,
        available=product.available,
        brand=product.brand,
        primary_nutrient=primary,
        guarded=bool(guards),
        over_limit=over_limit,
        tags=expanded,
        contains=contains,
        guards=guards,
    )


@dataclass
class ProductRows:
    """Products as an engine holds them: metas and matrix rows in id order, cautions and skus by id."""

    metas: list[ProductMeta]
    matrix: NDArray[np.float32]
    cautions: dict[int, list[dict[str, Any]]]
    skus: dict[int, str]


def product_rows(
    taxonomy: Taxonomy, records: Mapping[int, ProductRecord], relevances: Mapping[int, Mapping[str, float]]
) -> ProductRows:
    """The engine's rows of these products (their records and approved tag relevances), in id order."""
    space, tags = taxonomy.space, taxonomy.tags
    lookups = tag_lookups(taxonomy)
    products = [records[pk] for pk in sorted(records)]
    limited = lookups.limited
    doses = {
        p.id: dose_cautions(p.nutrients, tags) if any(f.code in limited for f in p.nutrients) else [] for p in products
    }
    metas = [meta_of(lookups, p, relevances.get(p.id, {}), over_limit=bool(doses[p.id])) for p in products]
    cautioned = lookups.cautioned
    return ProductRows(
        metas=metas,
        matrix=product_matrix(
            space, [relevances.get(p.id, {}) for p in products], recommender_settings.PRODUCT_KIND_WEIGHTS
        ),
        # Most products hold no tag with a caution: their tags are not sorted and looked at one by one.
        cautions={
            m.id: (tag_cautions(sorted(m.tags | m.guards), tags) if (m.tags | m.guards) & cautioned else [])
            + doses[m.id]
            for m in metas
        },
        skus={p.id: p.sku for p in products},
    )


def plain_rows(space: TagSpace, matrix: NDArray[np.float32]) -> NDArray[np.float32]:
    """Product rows without their product-line dimensions (see `Engine.matrix_for`)."""
    return without_kind(space, matrix, Tag.Kind.PRODUCT_LINE)


def engine_of(taxonomy: Taxonomy, lexicon: Lexicon, rows: ProductRows, catalog: Catalog | None) -> Engine:
    """An engine over these product rows (in id order, built from `catalog`), its arrays indexed from their
    metas."""
    return Engine(
        space=taxonomy.space,
        lexicon=lexicon,
        products=rows.matrix,
        metas=rows.metas,
        cautions=rows.cautions,
        skus=rows.skus,
        guard_tags=taxonomy.guard_tags,
        plain=plain_rows(taxonomy.space, rows.matrix),
        taxonomy=taxonomy,
        catalog=catalog,
    )


def catalog_read() -> Catalog:
    """Every product that has approved tags, with those tags."""
    relevances = _approved_relevances()
    # Pinned and linked products are loaded even without tags, so marketing's pins always apply.
    records = get_adapter().records(set(relevances) | _placed_product_ids())
    return Catalog(records, {pk: relevances.get(pk, {}) for pk in records})


def engine_build() -> Engine:
    """Snapshot the taxonomy and every product that has approved tags."""
    return engine_from(taxonomy_snapshot(), catalog_read())


def engine_from(taxonomy: Taxonomy, catalog: Catalog, lexicon: Lexicon | None = None) -> Engine:
    """A new engine of this taxonomy and catalog (and the taxonomy's lexicon, when built already)."""
    rows = product_rows(taxonomy, catalog.records, catalog.relevances)
    return engine_of(taxonomy, lexicon or lexicon_build(), rows, catalog)


def engine_rebuilt(kept: Engine) -> Engine:
    """What `engine_build()` gives now, for a full refresh in a process that keeps an engine: the taxonomy and
    the catalog are read again in full, as for a new engine (so the refresh still repairs anything its drains
    missed, such as a change made behind the plugin's back), but the products whose rows read the same keep
    theirs, and where none changed the kept engine's arrays go on (only what was built from the pages is built
    again). Building the rows of twenty thousand products is about half of building an engine, and each worker
    process of a fanned-out refresh does it once per run."""
    rows = taxonomy_rows()
    if kept.taxonomy is None or kept.catalog is None or kept.taxonomy.rows != rows:
        return engine_from(taxonomy_snapshot(rows), catalog_read())
    catalog = catalog_read()
    changed = catalog.changed_since(kept.catalog)
    if not changed:
        return kept.without_pages()
    if len(changed) > len(kept.metas) // REBUILT_SHARE:  # too many to replace row by row
        return engine_from(kept.taxonomy, catalog, kept.lexicon)
    return rows_patched(kept, changed, catalog)


REBUILT_SHARE = 4  # `engine_rebuilt` builds every row anew once more than a quarter of the products changed


def engine_patch(engine: Engine, product_ids: Collection[int]) -> Engine:
    """A new engine equal to a new `engine_build()`, when only these products changed since `engine` was
    built (tags, stock, facts, pins or links; added or deleted) and the taxonomy did not.

    Reads these products again (and any product pinned or linked since), and keeps every other row as it
    is: a stock feed's change costs a few queries and array copies instead of reading the whole catalog.
    Returns `engine` itself when there is nothing to read again.
    """
    if engine.taxonomy is None or engine.catalog is None:
        return engine_build()
    placed = _placed_product_ids()
    touched = set(product_ids) | (placed - engine.row_of.keys())
    if not touched:
        return engine
    relevances = _approved_relevances(touched)
    records = get_adapter().records((set(relevances) | placed) & touched)
    return rows_patched(engine, touched, engine.catalog.updated(touched, records, relevances))


def rows_patched(engine: Engine, touched: Collection[int], catalog: Catalog) -> Engine:
    """`engine` (which has a taxonomy) with the rows of the `touched` products built again from `catalog`, the
    catalog as it is now: those still in it replaced, those gone removed, those new added in id order."""
    taxonomy = engine.taxonomy
    assert taxonomy is not None
    fresh = product_rows(
        taxonomy, {pk: catalog.records[pk] for pk in touched if pk in catalog.records}, catalog.relevances
    )
    cautions = {k: v for k, v in engine.cautions.items() if k not in touched} | fresh.cautions
    skus = {k: v for k, v in engine.skus.items() if k not in touched} | fresh.skus
    if {m.id for m in fresh.metas} == touched & engine.row_of.keys():
        return rows_replaced(engine, fresh, cautions, skus, catalog)
    kept = [row for row, meta in enumerate(engine.metas) if meta.id not in touched]
    metas = [engine.metas[row] for row in kept] + fresh.metas
    order = np.argsort(np.array([m.id for m in metas], dtype=np.int64), kind="stable")
    matrix = np.vstack([engine.products[kept], fresh.matrix])[order]
    rows = ProductRows([metas[i] for i in order], matrix, cautions, skus)
    return engine_of(taxonomy, engine.lexicon, rows, catalog)


def rows_replaced(
    engine: Engine,
    fresh: ProductRows,
    cautions: dict[int, list[dict[str, Any]]],
    skus: dict[int, str],
    catalog: Catalog,
) -> Engine:
    """`engine` with the rows of the same products replaced by `fresh` ones (no product added or removed)."""
    rows = [engine.row_of[m.id] for m in fresh.metas]
    space = engine.space
    products = engine.products.copy()
    products[rows] = fresh.matrix
    plain = None
    if engine.plain is not None:
        plain = engine.plain.copy()
        plain[rows] = plain_rows(space, fresh.matrix)
    metas = list(engine.metas)
    for row, meta in zip(rows, fresh.metas, strict=True):
        metas[row] = meta
    arrays = meta_arrays(space, fresh.metas)
    available, primary, over_limit = engine.available.copy(), engine.primary.copy(), engine.over_limit.copy()
    holds, guards = engine.holds.copy(order="F"), engine.guards.copy(order="F")
    available[rows], primary[rows], holds[rows], guards[rows], over_limit[rows] = (
        arrays.available, arrays.primary, arrays.holds, arrays.guards, arrays.over_limit,
    )  # fmt: skip
    return Engine(
        space=space,
        lexicon=engine.lexicon,
        products=products,
        metas=metas,
        cautions=cautions,
        skus=skus,
        guard_tags=engine.guard_tags,
        plain=plain,
        available=available,
        holds=holds,
        guards=guards,
        primary=primary,
        ids=engine.ids,
        guard_count=guards.sum(axis=1),
        over_limit=over_limit,
        row_of=engine.row_of,
        taxonomy=engine.taxonomy,
        catalog=catalog,
    )
