"""Top-k over blocks of scores, sparse or dense: pages x products, products x products, products x pages.

Scores come from sparse matrix products (a page shares tags with a few thousand products, not all of
them), so each row is a short list of (column, score); only the best `limit` of a row are sorted, and
for a whole block of rows at once, the entries below each row's floor left out in one pass.
Ties break by id, as everywhere in ranking, so the same input always gives the same list.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

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


@dataclass
class BlockTop:
    """The best entries of every row of a block: row i's are `cols[bounds[i]:bounds[i + 1]]`, best first."""

    bounds: NDArray[np.intp]
    cols: NDArray[np.intp]
    scores: NDArray[np.float32]

    def row(self, i: int) -> tuple[NDArray[np.intp], NDArray[np.float32]]:
        start, end = self.bounds[i], self.bounds[i + 1]
        return self.cols[start:end], self.scores[start:end]


def block_top(
    block: sparse.csr_array,
    ids: NDArray[np.int64],
    *,
    floors: NDArray[np.float32],
    limit: int,
    allowed: Callable[[NDArray[np.intp], NDArray[np.intp]], NDArray[np.bool_]] | None = None,
) -> BlockTop:
    """The best `limit` stored entries of each row at or above the row's floor, highest score first, ties by
    the column's id: every row of a block in a few array passes. `allowed(rows, cols)` says which of the
    entries that reach the floor may be listed.

    A floor is the least score a row's last listed entry can have (see `row_floors`): most of a row's
    entries fall below it, and only one pass over the block looks at them.
    """
    n = block.shape[0]
    above = np.flatnonzero(block.data >= np.repeat(floors, np.diff(block.indptr)))
    rows = np.searchsorted(block.indptr, above, side="right") - 1
    cols, scores = block.indices[above].astype(np.intp), block.data[above]
    if allowed is not None:
        keep = allowed(rows, cols)
        rows, cols, scores = rows[keep], cols[keep], scores[keep]
    near = near_top(rows, scores, n, limit)
    if near is not None:
        rows, cols, scores = rows[near], cols[near], scores[near]
    order = ranked_order(rows, scores, id_ranks(ids)[cols])
    rows, cols, scores = rows[order], cols[order], scores[order]
    starts = np.searchsorted(rows, np.arange(n))
    listed = np.arange(len(rows)) - starts[rows] < limit
    rows, cols, scores = rows[listed], cols[listed], scores[listed]
    return BlockTop(np.searchsorted(rows, np.arange(n + 1)), cols, scores)


BUCKETS = 1 << 22  # at most this many (row, bucket) counts per block in `near_top`


def near_top(rows: NDArray[np.intp], scores: NDArray[np.float32], n: int, limit: int) -> NDArray[np.bool_] | None:
    """Which entries (by row, rows of a block of `n`) score at least about as much as their row's `limit`-th best:
    every entry that can be among a row's best `limit` and few others, so only those are sorted (a row's floor
    leaves a dozen times more). None when it cannot tell (scores not all non-negative float32) or nothing is saved.

    Non-negative float32 scores order as their bit patterns do; the high bits of a pattern are a bucket of
    scores within about 1% of each other. Counting entries per (row, bucket) finds the bucket of each row's
    `limit`-th best, and every entry from that bucket up is kept: ties and near ties stay whole.
    """
    if len(rows) <= n * limit or scores.dtype != np.float32 or np.signbit(scores).any():
        return None
    bits = scores.view(np.uint32)
    least_bits, most_bits = int(bits.min()), int(bits.max())
    shift = 16  # seven bits of mantissa: buckets 1/128 of a power of two wide
    while n * ((most_bits >> shift) - (least_bits >> shift) + 1) > BUCKETS:
        shift += 1  # scores spread over many powers of two: wider buckets
    low, width = least_bits >> shift, (most_bits >> shift) - (least_bits >> shift) + 1
    bucket = (bits >> np.uint32(shift)).astype(np.intp) - low
    counts = np.bincount(rows * width + bucket, minlength=n * width).reshape(n, width)
    at_or_above = np.cumsum(counts[:, ::-1], axis=1)[:, ::-1]  # entries in this bucket or a higher one
    reaches = at_or_above >= limit
    # The highest bucket that holds the row's `limit`-th best (0: a row with fewer keeps all).
    least = np.where(reaches.any(axis=1), width - 1 - np.argmax(reaches[:, ::-1], axis=1), 0)
    return bucket >= least[rows]


def block_group_top(
    block: sparse.csr_array,
    ids: NDArray[np.int64],
    groups: Groups,
    *,
    floors: NDArray[np.float32],
    limits: NDArray[np.intp],
    least: NDArray[np.float32] | None = None,
    allowed: Callable[[NDArray[np.intp], NDArray[np.intp]], NDArray[np.bool_]] | None = None,
) -> BlockTop:
    """`group_best` of every row of a block, at or above the row's floor for each group (`floors`: rows x
    groups, see `group_row_floors`), by row. `least`: per row, a score below which no entry can count (see
    `least_sure`), to leave most entries out in one comparison."""
    n = block.shape[0]
    # Below what a row's entries must reach first (one number a row), then each entry's own group's floor.
    lowest = floors.min(axis=1, initial=np.inf)
    if least is not None:
        lowest = np.maximum(lowest, least * TIE)
    above = np.flatnonzero(block.data >= np.repeat(lowest, np.diff(block.indptr)))
    rows = np.searchsorted(block.indptr, above, side="right") - 1
    cols, scores = block.indices[above].astype(np.intp), block.data[above]
    keep = scores >= floors[rows, groups.of[cols]]
    rows, cols, scores = rows[keep], cols[keep], scores[keep]
    if allowed is not None:
        keep = allowed(rows, cols)
        rows, cols, scores = rows[keep], cols[keep], scores[keep]
    keep = group_best(rows, cols, scores, id_ranks(ids)[cols], groups, limits)
    rows, cols, scores = rows[keep], cols[keep], scores[keep]
    order = np.argsort(rows, kind="stable")
    rows, cols, scores = rows[order], cols[order], scores[order]
    return BlockTop(np.searchsorted(rows, np.arange(n + 1)), cols, scores)


@dataclass(frozen=True)
class Groups:
    """Columns in groups: `of[column]` is the column's group, `caps[group]` how many of its best count, and
    `sure[group]` how many of its best surely reach a list (see `rank.cap_groups`)."""

    of: NDArray[np.intp]
    caps: NDArray[np.intp]
    sure: NDArray[np.intp]

    @property
    def count(self) -> int:
        return len(self.caps)


TIE = np.float32(1 - 1e-6)  # scores this close count as equal: sparse and dense sums differ in the last bits


def group_best(
    rows: NDArray[np.intp],
    cols: NDArray[np.intp],
    scores: NDArray[np.float32],
    ranks: NDArray[np.intp],
    groups: Groups,
    limits: NDArray[np.intp],
) -> NDArray[np.bool_]:
    """Which entries (row, column, score; `ranks`: the columns' id ranks) are among the best `caps` of their
    row and group, ties by id (and any as good as the last of them), leaving out those below the `limits[row]`-th
    best score the row's sure entries reach: no entry below that reaches the row's first `limits[row]` (0: keep
    them all, for a row whose rules can drop a sure entry)."""
    group = groups.of[cols]
    order = ranked_order(rows * groups.count + group, scores, ranks)
    keys, ordered, caps = (rows * groups.count + group)[order], scores[order], groups.caps[group[order]]
    place = run_places(keys)
    starts = np.flatnonzero(place == 0)
    lengths = np.diff(np.r_[starts, len(keys)])
    start, end = np.repeat(starts, lengths), np.repeat(starts + lengths, lengths)
    last = np.minimum(start + np.maximum(caps, 1) - 1, end - 1)  # the run's caps-th entry (or its last)
    keep = (caps > 0) & ((place < caps) | (ordered >= ordered[last] * TIE))
    sure = place < groups.sure[group[order]]
    floor = nth_best(rows[order][sure], ordered[sure], limits)
    keep &= ordered >= floor[rows[order]] * TIE
    found = np.zeros(len(order), dtype=bool)
    found[order[keep]] = True
    return found


def settled(top: BlockTop, groups: Groups, limits: NDArray[np.intp], limit: int) -> NDArray[np.bool_]:
    """Rows of a block whose best `limit` entries (`top`, from `block_top`) already hold every entry `group_best`
    could add: they hold their row's `limits[row]` best sure entries (the first of a group in `top` is the group's
    best), and every entry scoring that much. Only the other rows need the groups looked at."""
    n = len(top.bounds) - 1
    counts = np.diff(top.bounds)
    rows = np.repeat(np.arange(n), counts)
    keys = rows * groups.count + groups.of[top.cols]
    order = np.argsort(keys, kind="stable")  # within a row and group, best first as in `top`
    place = np.empty(len(keys), dtype=np.intp)
    place[order] = run_places(keys[order])
    sure = place < groups.sure[groups.of[top.cols]]
    least = nth_best(rows[sure], top.scores[sure], limits)
    last = np.zeros(n, dtype=np.float32)  # the best entry left out scores at most this
    full = counts >= limit
    last[full] = top.scores[top.bounds[1:][full] - 1]
    return (least > 0) & (least * TIE > last)


def nth_best(rows: NDArray[np.intp], scores: NDArray[np.float32], nth: NDArray[np.intp]) -> NDArray[np.float32]:
    """Per row, its `nth[row]` largest score, 0 where it has fewer (or `nth[row]` is 0)."""
    found = np.zeros(len(nth), dtype=np.float32)
    order = np.lexsort((-scores, rows))
    place = run_places(rows[order])
    hit = order[place == nth[rows[order]] - 1]
    found[rows[hit]] = scores[hit]
    return found


def run_places(keys: NDArray[np.intp]) -> NDArray[np.intp]:
    """Each entry's place in its run of equal keys (`keys` sorted): 0, 1, 2, ... from where each run starts."""
    at = np.arange(len(keys))
    if not len(keys):
        return at
    starts = np.empty(len(keys), dtype=bool)
    starts[0] = True
    np.not_equal(keys[1:], keys[:-1], out=starts[1:])
    return at - np.maximum.accumulate(np.where(starts, at, 0))


def group_floors(columns: sparse.csr_array, allowed: NDArray[np.bool_] | None, groups: Groups) -> NDArray[np.float32]:
    """`column_floors` per group: per dimension (a row of `columns`) and group, the `caps[group]`-th largest
    value among the group's allowed columns, 0 where fewer hold it (dimensions x groups)."""
    floors = np.zeros((columns.shape[0], groups.count), dtype=np.float32)
    if len(columns.data) and columns.data.min() < 0:
        return floors
    dims = np.repeat(np.arange(columns.shape[0]), np.diff(columns.indptr))
    cols, values = columns.indices, columns.data
    if allowed is not None:
        keep = allowed[cols]
        dims, cols, values = dims[keep], cols[keep], values[keep]
    group = groups.of[cols]
    keys = dims * groups.count + group
    order = np.lexsort((-values, keys))
    place = run_places(keys[order])
    last = order[place == groups.caps[group[order]] - 1]
    floors[dims[last], group[last]] = values[last]
    return floors


def least_sure(best_floors: NDArray[np.float32], groups: Groups, limits: NDArray[np.intp]) -> NDArray[np.float32]:
    """Per row, a score the row's `limits[row]` best sure entries all reach (see `group_best`), from the least
    score each group's best entry can have (`best_floors`: rows x groups, `group_row_floors` of floors with
    every cap 1); 0 where it cannot tell."""
    counted = np.sort(best_floors[:, groups.sure >= 1], axis=1)[:, ::-1]
    found = np.zeros(len(limits), dtype=np.float32)
    fits = (limits >= 1) & (limits <= counted.shape[1])
    rows = np.flatnonzero(fits)
    found[rows] = counted[rows, limits[rows] - 1]
    return found


def group_row_floors(block: sparse.csr_array, floors: NDArray[np.float32]) -> NDArray[np.float32]:
    """`row_floors` per group (`floors` from `group_floors`): rows x groups."""
    found = np.zeros((block.shape[0], floors.shape[1]), dtype=np.float32)
    if not len(block.data) or block.data.min() < 0 or floors.min() < 0:
        return found
    # A row's entries are one run of the block's data: the largest of each run in one reduction.
    held = np.flatnonzero(np.diff(block.indptr))
    found[held] = np.maximum.reduceat(block.data[:, np.newaxis] * floors[block.indices], block.indptr[held], axis=0)
    # Scores are float32 sums: stay a hair below, so rounding never drops an entry that ties the floor.
    return found * TIE


def id_ranks(ids: NDArray[np.int64]) -> NDArray[np.intp]:
    """Each id's place in ascending order (the ids of an engine's rows are in order already)."""
    if len(ids) < 2 or bool((ids[1:] > ids[:-1]).all()):
        return np.arange(len(ids), dtype=np.intp)
    ranks = np.empty(len(ids), dtype=np.intp)
    ranks[np.argsort(ids, kind="stable")] = np.arange(len(ids), dtype=np.intp)
    return ranks


def ranked_order(rows: NDArray[np.intp], scores: NDArray[np.float32], ranks: NDArray[np.intp]) -> NDArray[np.intp]:
    """The order of entries by row, then highest score, then id (`ranks`: each entry's id rank, unique in a
    row): `np.lexsort((ranks, -scores, rows))`, as one sort of 64-bit keys when the three fit.

    Non-negative float32 scores order as their bit patterns do, so a key is the row, the inverted score
    bits and the id rank side by side; several times quicker than sorting by three keys.
    """
    id_bits = int(ranks.max()).bit_length() if len(ranks) else 0
    row_bits = int(rows.max()).bit_length() if len(rows) else 0
    if scores.dtype != np.float32 or row_bits + id_bits > 32 or np.signbit(scores).any():
        return np.lexsort((ranks, -scores, rows))
    inverted = np.uint64(0xFFFFFFFF) - scores.view(np.uint32).astype(np.uint64)
    keys = rows.astype(np.uint64) << np.uint64(32 + id_bits)
    keys |= inverted << np.uint64(id_bits)
    keys |= ranks.astype(np.uint64)
    return np.argsort(keys)


def column_floors(columns: sparse.csr_array, allowed: NDArray[np.bool_] | None, rank: int) -> NDArray[np.float32]:
    """Per dimension (a row of `columns`, a matrix transposed), its `rank`-th largest value among the
    allowed columns, 0 where fewer hold it: `group_floors` with every column in one group."""
    one = Groups(np.zeros(columns.shape[1], dtype=np.intp), np.array([rank], dtype=np.intp), np.zeros(1, dtype=np.intp))
    return group_floors(columns, allowed, one)[:, 0]


@dataclass(frozen=True)
class HeavySplit:
    """The columns of a sparse product with its most common dimension held apart (`heavy_split`): `columns` keeps
    that dimension's entries only in the columns it alone can carry to a row's floor, `outside` holds its value in
    every other column (0 in those), for `split_product` to add to the entries another dimension makes."""

    dim: int
    columns: sparse.csr_array
    outside: NDArray[np.float32]


SPLIT_SHARE = 1 / 3  # `heavy_split` holds a dimension apart when pairs through it are at least this share of all


def heavy_split(columns: sparse.csr_array, floors: NDArray[np.float32]) -> HeavySplit | None:
    """`columns` (a matrix transposed) ready for `split_product`, when one dimension makes most of the work of
    `block @ columns` (magnesium on 40% of a store's products makes 70% of the pairs of products); None otherwise.

    `floors` are the columns' floors that the product's rows are cut at (`column_floors`, `row_floors`). A pair
    meeting in that dimension alone scores the row's weight times the column's value there, which stays below
    the row's floor unless the value reaches the dimension's floor: only the few columns that do keep it. A
    pair meeting in another dimension too is an entry anyway, and gets the held-apart term added.
    """
    counts = np.diff(columns.indptr).astype(np.float64)
    if not len(counts) or not len(columns.data) or columns.data.min() < 0:
        return None
    dim = int(np.argmax(counts))
    if counts[dim] ** 2 < SPLIT_SHARE * float((counts**2).sum()) or floors[dim] <= 0:
        return None
    start, end = columns.indptr[dim], columns.indptr[dim + 1]
    values = np.zeros(columns.shape[1], dtype=np.float32)
    values[columns.indices[start:end]] = columns.data[start:end]
    near = values >= floors[dim] * TIE * TIE  # below a floor by more than rounding: never a listed score
    kept = columns.copy()
    kept.data[start:end] = np.where(near[kept.indices[start:end]], kept.data[start:end], np.float32(0))
    kept.eliminate_zeros()
    return HeavySplit(dim, kept, np.where(near, np.float32(0), values))


def split_product(block: sparse.csr_array, columns: sparse.csr_array, split: HeavySplit | None) -> sparse.csr_array:
    """`block @ columns`, or by way of `split` (`heavy_split` of those columns): every entry that can reach its
    row's floor, with the same score up to the last bit (the held-apart term is added last, not in tag order)."""
    if split is None:
        return block @ columns
    scores = block @ split.columns
    weights = block[:, [split.dim]].toarray()[:, 0]
    scores.data += np.repeat(weights, np.diff(scores.indptr)) * split.outside[scores.indices]
    return scores


def scaled_columns(columns: sparse.csr_array, factors: NDArray[np.float32]) -> sparse.csr_array:
    """`columns` (a matrix transposed) with each column's entries times its factor."""
    scaled = columns.copy()
    scaled.data *= factors[scaled.indices]
    return scaled


def row_floors(block: sparse.csr_array, floors: NDArray[np.float32]) -> NDArray[np.float32]:
    """The least score the `rank`-th best entry of each row of `block @ columns` can have, from
    `column_floors(columns, ..., rank)`: for every dimension a row holds, `rank` columns score at least
    the row's weight times that dimension's floor (the other terms add nothing negative).

    Exact only when both sides are non-negative, as tag vectors are; a negative weight gives no floor
    (`group_row_floors` with one group).
    """
    return group_row_floors(block, floors[:, np.newaxis])[:, 0]


def sparse_rows(matrix: NDArray[np.float32]) -> sparse.csr_array:
    """A dense block of vectors as sparse rows (tag vectors hold a handful of non-zero weights)."""
    return sparse.csr_array(matrix)


def sparse_columns(matrix: NDArray[np.float32]) -> sparse.csr_array:
    """The transpose of a dense matrix, sparse, ready to multiply blocks of rows against: its sparse rows
    transposed (copying the dense transpose first walks the whole matrix across its rows, 3x slower)."""
    return sparse.csr_array(sparse_rows(matrix).T)
