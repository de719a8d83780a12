"""Nearest neighbours in the tag space: products like a product, articles that discuss a product.

The same vectors as the page lists, so there is one engine, not two.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray


def top_rows(
    scores: NDArray[np.float32], ids: NDArray[np.int64], *, min_score: float, limit: int
) -> list[tuple[int, float]]:
    """(row, score) of the best rows at least `min_score`, ties by id, without sorting the whole row."""
    n = len(scores)
    if n == 0:
        return []
    k = min(limit, n)
    kth = np.partition(scores, n - k)[n - k]
    chosen = np.flatnonzero(scores >= max(kth, min_score))
    order = np.lexsort((ids[chosen], -scores[chosen]))[:limit]
    return [(int(chosen[i]), float(scores[chosen[i]])) for i in order]
