"""Nearest neighbours in the tag space: products like a product, articles that discuss a product.

The same vectors as the page lists, so there is one engine, not two.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray


def top_similar(
    matrix: NDArray[np.float32],
    query: NDArray[np.float32],
    ids: Sequence[int],
    *,
    min_score: float,
    limit: int,
    allowed: NDArray[np.bool_] | None = None,
    factors: NDArray[np.float32] | None = None,
) -> list[tuple[int, float]]:
    """(row, score) of the best rows by cosine (times `factors`), at least `min_score`, ties by id."""
    if not len(ids) or limit <= 0:
        return []
    scores = matrix @ query
    if factors is not None:
        scores = scores * factors
    if allowed is not None:
        scores = np.where(allowed, scores, -1.0)
    order = np.lexsort((np.asarray(ids), -scores)).tolist()
    return [(i, float(scores[i])) for i in order if scores[i] >= min_score][:limit]
