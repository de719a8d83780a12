"""The best entries of every row of a sparse block, in one pass, against a plain per-row sort."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import sparse

from recommender.scoring import related
from recommender.scoring.related import (
    block_top,
    column_floors,
    heavy_split,
    id_ranks,
    near_top,
    ranked_order,
    row_floors,
    sparse_rows,
    split_product,
)


def plain_top(scores: np.ndarray, ids: np.ndarray, allowed: np.ndarray, own: np.ndarray, min_score: float, limit: int):
    """Each row's best columns by a plain sort: highest score, then lowest id; allowed, not the row's own."""
    found = []
    for i, row in enumerate(scores):
        cols = [c for c in range(len(row)) if row[c] > 0 and row[c] >= min_score and allowed[c] and c != own[i]]
        cols.sort(key=lambda c: (-row[c], ids[c]))
        found.append(cols[:limit])
    return found


def normalised(vectors: list[list[float]]) -> np.ndarray:
    matrix = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return np.divide(matrix, norms, out=np.zeros_like(matrix), where=norms > 0)


@dataclass
class Rows:
    """Normalised rows scored against themselves: ids out of row order, some columns not allowed, the rows' floors."""

    matrix: np.ndarray
    ids: np.ndarray
    allowed: np.ndarray
    own: np.ndarray
    columns: sparse.csr_array
    block: sparse.csr_array
    column_floor: np.ndarray
    floors: np.ndarray

    def top(self, scores: sparse.csr_array, limit: int) -> related.BlockTop:
        own, allowed = self.own, self.allowed
        return block_top(
            scores,
            self.ids,
            floors=self.floors,
            limit=limit,
            allowed=lambda at, cols: (cols != own[at]) & allowed[cols],
        )


def rows_of(vectors: list[list[float]], limit: int, min_score: float, seed: int) -> Rows:
    rng = np.random.default_rng(seed)
    matrix = normalised(vectors)
    ids = rng.permutation(len(matrix) * 3)[: len(matrix)].astype(np.int64)  # not in row order
    allowed = rng.random(len(matrix)) > 0.2
    columns = sparse.csr_array(np.ascontiguousarray(matrix.T))
    block = sparse_rows(matrix)
    column_floor = column_floors(columns, allowed, limit + 1)
    floors = np.maximum(row_floors(block, column_floor), np.float32(min_score))
    return Rows(matrix, ids, allowed, np.arange(len(matrix)), columns, block, column_floor, floors)


vectors = st.integers(2, 30).flatmap(
    lambda n: st.lists(
        st.lists(st.sampled_from([0.0, 0.0, 0.0, 0.25, 0.5, 0.5, 1.0]), min_size=6, max_size=6), min_size=n, max_size=n
    )
)


@settings(max_examples=200, deadline=None)
@given(
    vectors=vectors,
    limit=st.integers(1, 5),
    min_score=st.sampled_from([0.0, 0.1, 0.3]),
    seed=st.integers(0, 1000),
)
def test_block_top_is_the_plain_sort_with_floors_that_drop_nothing(vectors, limit, min_score, seed):
    """Ties are the rule here (few distinct weights): the floors and the one-key sort keep the plain order."""
    rows = rows_of(vectors, limit, min_score, seed)
    scores = rows.block @ rows.columns

    top = rows.top(scores, limit)

    dense = scores.toarray()
    expected = plain_top(dense, rows.ids, rows.allowed, rows.own, min_score, limit)
    assert [list(top.row(i)[0]) for i in range(len(rows.matrix))] == expected
    for i, cols in enumerate(expected):
        assert list(top.row(i)[1]) == [dense[i, c] for c in cols]


# The first dimension held by most rows, as magnesium is by a supplement store's products.
heavy_vectors = st.integers(2, 30).flatmap(
    lambda n: st.lists(
        st.tuples(
            st.sampled_from([0.0, 0.25, 0.5, 1.0, 1.0, 1.0]),
            st.lists(st.sampled_from([0.0, 0.0, 0.0, 0.25, 0.5, 1.0]), min_size=5, max_size=5),
        ).map(lambda first_rest: [first_rest[0], *first_rest[1]]),
        min_size=n,
        max_size=n,
    )
)


@settings(max_examples=300, deadline=None)
@given(
    vectors=heavy_vectors,
    limit=st.integers(1, 5),
    min_score=st.sampled_from([0.0, 0.1, 0.3]),
    seed=st.integers(0, 1000),
)
def test_a_dimension_held_apart_lists_what_the_plain_sort_lists(vectors, limit, min_score, seed):
    """Pairs meeting only in the held-apart dimension are left out of the sparse product unless they can reach the
    row's floor: the lists are the plain sort's of every pair's score, and those scores are the plain product's up
    to rounding (the held-apart term is added last)."""
    rows = rows_of(vectors, limit, min_score, seed)
    block, columns = rows.block, rows.columns
    split = heavy_split(columns, rows.column_floor)

    top = rows.top(split_product(block, columns, split), limit)

    plain = (block @ columns).toarray()
    every_pair = plain
    if split is not None:  # each pair's score as the split sums it, those it leaves out of the product included
        held = block[:, [split.dim]].toarray()[:, 0]
        every_pair = (block @ split.columns).toarray() + np.outer(held, split.outside)
    expected = plain_top(every_pair, rows.ids, rows.allowed, rows.own, min_score, limit)
    assert [list(top.row(i)[0]) for i in range(len(rows.matrix))] == expected
    for i, cols in enumerate(expected):
        assert list(top.row(i)[1]) == [every_pair[i, c] for c in cols]
        np.testing.assert_allclose(top.row(i)[1], plain[i, cols], rtol=1e-6)


def test_the_most_common_dimension_is_held_apart_only_when_it_makes_most_pairs():
    """Held apart: the dimension most columns hold, kept only where it alone reaches the floor; with the work
    spread over the dimensions (or no floor to cut at) the product is left as it is."""
    skewed = normalised([[1, 0, 0], [1, 1, 0], [0.5, 0, 1], [1, 0, 0], [0.25, 1, 0], [0, 0, 1]])
    columns = sparse.csr_array(np.ascontiguousarray(skewed.T))
    split = heavy_split(columns, column_floors(columns, None, 2))
    assert split is not None and split.dim == 0
    near = split.outside == 0
    assert near[[0, 3]].all() and not near[[1, 2, 4]].any()  # the two pure rows lead the first dimension
    assert split.columns.nnz < columns.nnz
    spread = sparse.csr_array(np.eye(4, dtype=np.float32))
    assert heavy_split(spread, column_floors(spread, None, 2)) is None
    assert heavy_split(columns, np.zeros(3, dtype=np.float32)) is None  # no floor: every pair could count


@settings(max_examples=200, deadline=None)
@given(
    rows=st.integers(1, 12),
    width=st.integers(1, 60),
    limit=st.integers(1, 6),
    spread=st.sampled_from([1.0, 1e-30, 1e30]),  # scores a few apart, or many powers of two apart
    seed=st.integers(0, 1000),
)
def test_near_top_keeps_every_entry_a_rows_best_can_hold(rows, width, limit, spread, seed):
    """Ties, near ties (one bit apart) and scores far apart: whatever it leaves out, the plain sort never lists."""
    rng = np.random.default_rng(seed)
    values = rng.choice(np.array([0.0, 0.1, 0.3, 0.3, 0.7], dtype=np.float32), size=(rows, width))
    values *= np.where(rng.random((rows, width)) < 0.3, np.float32(spread), np.float32(1.0))
    nudged = rng.random((rows, width)) < 0.3
    values[nudged] = np.nextafter(values[nudged], np.float32(1e38))
    scores = sparse.csr_array(values)
    ids = rng.permutation(width).astype(np.int64)

    top = block_top(scores, ids, floors=np.zeros(rows, dtype=np.float32), limit=limit)

    expected = plain_top(values, ids, np.ones(width, dtype=bool), np.full(rows, -1), 0.0, limit)
    assert [list(top.row(i)[0]) for i in range(rows)] == expected


def test_near_top_leaves_out_what_sorts_below_the_best():
    """A row of a hundred distinct scores keeps the few near its best, not the hundred."""
    scores = np.linspace(0.01, 1.0, 100, dtype=np.float32)
    keep = near_top(np.zeros(100, dtype=np.intp), scores, 1, 3)
    assert keep is not None and keep[-3:].all() and 3 <= keep.sum() <= 5
    assert near_top(np.zeros(2, dtype=np.intp), scores[:2], 1, 3) is None  # fewer than the limit: nothing to save
    assert near_top(np.zeros(100, dtype=np.intp), -scores, 1, 3) is None  # negative scores do not order as bits


def test_near_top_with_coarser_buckets_keeps_the_same_lists(monkeypatch):
    """Scores across many powers of two, counted in few buckets: wider buckets, the same lists."""
    monkeypatch.setattr(related, "BUCKETS", 64)
    rng = np.random.default_rng(5)
    values = (rng.random((8, 40)) * 10.0 ** rng.integers(-20, 20, size=(8, 40))).astype(np.float32)
    ids = rng.permutation(40).astype(np.int64)

    top = block_top(sparse.csr_array(values), ids, floors=np.zeros(8, dtype=np.float32), limit=4)

    expected = plain_top(values, ids, np.ones(40, dtype=bool), np.full(8, -1), 0.0, 4)
    assert [list(top.row(i)[0]) for i in range(8)] == expected


def test_ranked_order_falls_back_to_three_keys_when_they_do_not_fit_in_one():
    rows = np.array([1, 0, 1, 0], dtype=np.intp)
    scores = np.array([0.5, 0.5, 0.9, -0.1], dtype=np.float32)  # a negative score: bit patterns do not order
    ranks = np.array([3, 2, 1, 0], dtype=np.intp)
    assert ranked_order(rows, scores, ranks).tolist() == np.lexsort((ranks, -scores, rows)).tolist() == [1, 3, 2, 0]
    big = np.array([0, 2**40], dtype=np.intp)  # ranks past 32 bits with the rows
    assert ranked_order(rows[:2], scores[:2], big).tolist() == [1, 0]


def test_id_ranks_of_unordered_ids():
    assert id_ranks(np.array([30, 10, 20], dtype=np.int64)).tolist() == [2, 0, 1]
    assert id_ranks(np.array([1, 5, 9], dtype=np.int64)).tolist() == [0, 1, 2]


def test_no_floor_from_negative_weights():
    """A negative weight can lower a score below any one dimension's share: no floor holds then."""
    block = sparse_rows(np.array([[0.5, -0.5]], dtype=np.float32))
    assert row_floors(block, np.array([1.0, 1.0], dtype=np.float32)).tolist() == [0.0]
    columns = sparse.csr_array(np.array([[1.0, -1.0]], dtype=np.float32))
    assert column_floors(columns, None, 1).tolist() == [0.0]
