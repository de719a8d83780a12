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
    space: TagSpace, weights: Mapping[str, float], kind_weights: Mapping[str, float] | None = None
) -> NDArray[np.float32]:
    """Expanded, normalised page vector; tags the page speaks against contribute nothing."""
    kinds = kind_weights or {}
    positive = {
        slug: w * kinds.get(space.info(slug).kind, 1.0) for slug, w in weights.items() if w > 0 and slug in space.index
    }
    return normalise_rows(space.expand(space.vector(positive)))


def product_matrix(space: TagSpace, products: Sequence[Mapping[str, float]]) -> NDArray[np.float32]:
    """One expanded, normalised row per product from its approved tag relevances."""
    raw = np.zeros((len(products), space.size), dtype=np.float32)
    for row, relevances in enumerate(products):
        raw[row] = space.vector(relevances)
    return normalise_rows(space.expand(raw))
