"""The tag space: one index per tag and the expansion matrix that spreads weight along the graph.

A form passes weight to its nutrient (magnesium-glycinate -> magnesium); a condition passes weight
to the nutrients it supports at strength x evidence weight (restless-legs-syndrome -> magnesium).
"No benefit shown" and "avoid" relations pass nothing: they never promote a product.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray


@dataclass(frozen=True)
class TagInfo:
    """What scoring and explanations need to know about one tag."""

    slug: str
    name: str
    kind: str
    parent: str | None = None


SUPPORTS = "supports"
NO_BENEFIT = "no-benefit"
AVOID = "avoid"


@dataclass(frozen=True)
class Relation:
    """A condition -> nutrient edge with its polarity and evidence."""

    source: str
    target: str
    strength: float
    grade: str
    citations: tuple[str, ...] = ()
    polarity: str = SUPPORTS


@dataclass
class TagSpace:
    """Tags in a fixed order, with the expansion matrix E (row vector v -> v @ E)."""

    tags: list[TagInfo]
    relations: list[Relation]
    expansion: NDArray[np.float32]
    index: dict[str, int] = field(default_factory=dict)
    _chains: dict[str, tuple[str, ...]] = field(default_factory=dict, repr=False)
    _into: dict[tuple[str, str], list[tuple[int, Relation]]] = field(default_factory=dict, repr=False)
    _from: dict[str, list[Relation]] = field(default_factory=dict, repr=False)
    _families: NDArray[np.intp] | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self.index = {t.slug: i for i, t in enumerate(self.tags)}
        for position, rel in enumerate(self.relations):
            self._into.setdefault((rel.target, rel.polarity), []).append((position, rel))
            self._from.setdefault(rel.source, []).append(rel)

    @property
    def families(self) -> NDArray[np.intp]:
        """A family number per tag index: two tags share one exactly when their `ancestors` chains meet.

        Each tag has at most one parent, so chains meet exactly when the tags are connected by parent
        links (a tree's root, or a cycle a broken taxonomy might hold, is on both chains).
        """
        if self._families is None:
            family = list(range(self.size))

            def root(i: int) -> int:
                while family[i] != i:
                    family[i] = family[family[i]]
                    i = family[i]
                return i

            for i, tag in enumerate(self.tags):
                if tag.parent in self.index:
                    family[root(i)] = root(self.index[tag.parent])
            self._families = np.array([root(i) for i in range(self.size)], dtype=np.intp)
        return self._families

    def relations_into(self, slug: str, polarity: str) -> list[tuple[int, Relation]]:
        """(position in `relations`, relation) of this polarity that end at this tag: an index, since
        explanations ask for every listed item."""
        return self._into.get((slug, polarity), [])

    @property
    def size(self) -> int:
        return len(self.tags)

    def info(self, slug: str) -> TagInfo:
        return self.tags[self.index[slug]]

    def vector(self, weights: Mapping[str, float]) -> NDArray[np.float32]:
        """A dense vector from tag weights; unknown tags are ignored."""
        v = np.zeros(self.size, dtype=np.float32)
        for slug, w in weights.items():
            i = self.index.get(slug)
            if i is not None:
                v[i] = w
        return v

    def expand(self, vectors: NDArray[np.float32]) -> NDArray[np.float32]:
        """Spread weight along forms and relations; works on one vector or a matrix of rows."""
        return np.asarray(vectors @ self.expansion, dtype=np.float32)

    def relations_from(self, slug: str) -> list[Relation]:
        """The relations that start at this tag, in `relations` order (an index: every page asks)."""
        return self._from.get(slug, [])

    def avoided(self, condition: str) -> set[str]:
        """Nutrients a page about this condition must not list products of."""
        return {r.target for r in self.relations_from(condition) if r.polarity == AVOID}

    def only_avoids(self, condition: str) -> bool:
        """True for a condition the taxonomy links to nutrients only to say what to avoid (haemochromatosis)."""
        polarities = {r.polarity for r in self.relations_from(condition)}
        return polarities == {AVOID}

    def ancestors(self, slug: str) -> list[str]:
        """The tag and its parents, nearest first (remembered: the taxonomy of a snapshot does not change)."""
        chain = self._chains.get(slug)
        if chain is None:
            found: list[str] = []
            current: str | None = slug
            while current and current in self.index and current not in found:
                found.append(current)
                current = self.info(current).parent
            chain = self._chains[slug] = tuple(found)
        return list(chain)


def build_space(
    tags: Iterable[TagInfo],
    relations: Iterable[Relation],
    *,
    parent_weight: float,
    evidence_weights: Mapping[str, float],
    relation_weight: float = 1.0,
) -> TagSpace:
    """Order tags by slug and build E = I + parent edges + evidence-weighted relations."""
    ordered = sorted(tags, key=lambda t: t.slug)
    rels = list(relations)
    space = TagSpace(ordered, rels, np.eye(len(ordered), dtype=np.float32))
    for tag in ordered:
        for depth, ancestor in enumerate(space.ancestors(tag.slug)[1:], start=1):
            space.expansion[space.index[tag.slug], space.index[ancestor]] = parent_weight**depth
    for rel in rels:
        if rel.polarity == SUPPORTS and rel.source in space.index and rel.target in space.index:
            weight = relation_weight * rel.strength * evidence_weights.get(rel.grade, 0.0)
            i, j = space.index[rel.source], space.index[rel.target]
            space.expansion[i, j] = max(space.expansion[i, j], weight)
    return space
