"""Top-k over blocks of scores, sparse or dense: pages x products, products x products, products x pages.

Scores come from sparse matrix products (a page shares tags with a few thousand products, not all of
them), so each row is a short list of (column, score); only the best `limit` of a row are sorted.
Ties break by id, as everywhere in ranking, so the same input always gives the same list.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from scipy import sparse


def best(
    cols: NDArray[np.intp], scores: NDArray[np.float32], ids: NDArray[np.int64], limit: int
) -> tuple[NDArray[np.intp], NDArray[np.float32]]:
    """The best `limit` (column, score) pairs, highest score first, ties by id, without sorting them all."""
    n = len(cols)
    if n > limit:
        kth = np.partition(scores, n - limit)[n - limit]
        keep = scores >= kth
        cols, scores = cols[keep], scores[keep]
    order = np.lexsort((ids[cols], -scores))[:limit]
    return cols[order], scores[order]


def row_of(block: sparse.csr_array, i: int) -> tuple[NDArray[np.intp], NDArray[np.float32]]:
    """The stored (columns, scores) of one row of a sparse block."""
    start, end = block.indptr[i], block.indptr[i + 1]
    return block.indices[start:end].astype(np.intp), block.data[start:end]


def top_rows(
    scores: NDArray[np.float32], ids: NDArray[np.int64], *, min_score: float, limit: int
) -> list[tuple[int, float]]:
    """(row, score) of the best rows at least `min_score` of a dense score vector, ties by id."""
    cols = np.flatnonzero(scores >= min_score)
    chosen, values = best(cols, scores[cols], ids, limit)
    return [(int(c), float(v)) for c, v in zip(chosen, values, strict=True)]


def top_entries(
    cols: NDArray[np.intp],
    scores: NDArray[np.float32],
    ids: NDArray[np.int64],
    *,
    allowed: NDArray[np.bool_] | None,
    min_score: float,
    limit: int,
) -> list[tuple[int, float]]:
    """`top_rows` for one sparse row: columns not stored score 0 and never qualify; `allowed` (by
    column) leaves out what may not be listed."""
    keep = scores >= min_score
    if allowed is not None:
        keep &= allowed[cols]
    chosen, values = best(cols[keep], scores[keep], ids, limit)
    return [(int(c), float(v)) for c, v in zip(chosen, values, strict=True)]


def sparse_rows(matrix: NDArray[np.float32]) -> sparse.csr_array:
    """A dense block of vectors as sparse rows (tag vectors hold a handful of non-zero weights)."""
    return sparse.csr_array(matrix)


def sparse_columns(matrix: NDArray[np.float32]) -> sparse.csr_array:
    """The transpose of a dense matrix, sparse, ready to multiply blocks of rows against."""
    return sparse.csr_array(np.ascontiguousarray(matrix.T))
