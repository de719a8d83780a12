"""Page and product vectors over the tag space, expanded and L2-normalised."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from numpy.typing import NDArray

from recommender.scoring.space import TagSpace


def normalise_rows(matrix: NDArray[np.float32]) -> NDArray[np.float32]:
    """Unit-length rows (zero rows stay zero), so scores are cosines."""
    norms = np.linalg.norm(matrix, axis=-1, keepdims=True)
    return np.divide(matrix, norms, out=np.zeros_like(matrix), where=norms > 0)


def page_vector(
    space: TagSpace,
    weights: Mapping[str, float],
    kind_weights: Mapping[str, float] | None = None,
    topic_kinds: frozenset[str] = frozenset({"condition", "symptom"}),
) -> NDArray[np.float32]:
    """Expanded, normalised page vector over what products can carry.

    Tags the page speaks against contribute nothing. Conditions and symptoms pass their weight on
    to related nutrients and are then dropped: no product carries them, so keeping them would only
    shrink every score of a page about a condition.
    """
    kinds = kind_weights or {}
    positive = {
        slug: w * kinds.get(space.info(slug).kind, 1.0) for slug, w in weights.items() if w > 0 and slug in space.index
    }
    expanded = space.expand(space.vector(positive))
    expanded[[i for i, t in enumerate(space.tags) if t.kind in topic_kinds]] = 0.0
    return normalise_rows(expanded)


def page_matrix_of(
    space: TagSpace,
    pages: Sequence[Mapping[str, float]],
    kind_weights: Mapping[str, float] | None = None,
    topic_kinds: frozenset[str] = frozenset({"condition", "symptom"}),
) -> NDArray[np.float32]:
    """`page_vector` of many pages as the rows of one matrix, expanded in one product."""
    kinds = kind_weights or {}
    scale = np.array([kinds.get(t.kind, 1.0) for t in space.tags])
    raw = np.zeros((len(pages), space.size))  # weight x kind weight in double, as `page_vector` multiplies
    for row, weights in enumerate(pages):
        cols = [space.index[s] for s, w in weights.items() if w > 0 and s in space.index]
        raw[row, cols] = [weights[space.tags[c].slug] for c in cols]
    expanded = space.expand((raw * scale).astype(np.float32))
    expanded[:, [i for i, t in enumerate(space.tags) if t.kind in topic_kinds]] = 0.0
    return normalise_rows(expanded)


def product_matrix(
    space: TagSpace, products: Sequence[Mapping[str, float]], kind_weights: Mapping[str, float] | None = None
) -> NDArray[np.float32]:
    """One expanded, normalised row per product from its approved tag relevances.

    Kind weights apply as on pages, so a product line is as much of a product's identity as it is
    of a page that names it.
    """
    kinds = kind_weights or {}
    scale = np.array([kinds.get(t.kind, 1.0) for t in space.tags])
    index = space.index
    known = [[(index[slug], relevance) for slug, relevance in r.items() if slug in index] for r in products]
    lengths = np.fromiter((len(k) for k in known), dtype=np.intp, count=len(known))
    rows = np.repeat(np.arange(len(known)), lengths)
    entries = np.array([entry for k in known for entry in k], dtype=np.float64).reshape(-1, 2)
    cols, values = entries[:, 0].astype(np.intp), entries[:, 1]
    raw = np.zeros((len(products), space.size), dtype=np.float32)
    raw[rows, cols] = values * scale[cols]  # relevance x kind weight in double, stored as float32
    return normalise_rows(space.expand(raw))


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
