"""Lists' JSON text joined from pieces (`services.list_text`), against serialising the items as dicts."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from recommender.fingerprint import dumped
from recommender.services.list_text import PieceTable, list_texts
from recommender.services.related import ListPieces

items = st.fixed_dictionaries(
    {
        "cautions": st.lists(
            st.fixed_dictionaries({"code": st.text(max_size=5), "text": st.text(max_size=8)}), max_size=2
        ),
        "id": st.integers(1, 10**9),
        "reasons": st.lists(
            st.fixed_dictionaries(
                {"code": st.sampled_from(["shared", "tagged"]), "tag": st.text(max_size=6), "weight": st.floats(0, 1)}
            ),
            max_size=2,
        ),
        "score": st.floats(0, 2),
    }
)


@settings(max_examples=150, deadline=None)
@given(lists=st.lists(st.lists(items, max_size=5), max_size=6))
def test_lists_joined_from_pieces_are_the_lists_serialised(lists):
    """Each item is three pieces: its opening (cautions and id), its reasons, its score; empty lists included."""
    table, pieces = PieceTable(), []
    for found in lists:
        for item in found:
            head = b'{"cautions":' + dumped(item["cautions"]) + b',"id":' + dumped(item["id"]) + b',"reasons":'
            tail = b',"score":' + dumped(item["score"]) + b"}"
            at = table.add([head, dumped(item["reasons"]), tail])
            pieces.append([at, at + 1, at + 2])
    bounds = np.concatenate([[0], np.cumsum([len(found) for found in lists])]).astype(np.intp)
    shaped = np.array(pieces, dtype=np.intp).reshape(-1, 3)

    assert list_texts(table, shaped, bounds) == [dumped(found) for found in lists]


def test_pieces_are_shared_between_items_and_lists():
    table = PieceTable()
    at = table.add([b'{"id":1,"reasons":', b'{"id":2,"reasons":', b"[]", b',"score":0.5}'])
    pieces = at + np.array([[0, 2, 3], [1, 2, 3], [0, 2, 3]], dtype=np.intp)
    bounds = np.array([0, 2, 2, 3], dtype=np.intp)

    assert list_texts(table, pieces, bounds) == [
        dumped([{"id": 1, "reasons": [], "score": 0.5}, {"id": 2, "reasons": [], "score": 0.5}]),
        b"[]",
        dumped([{"id": 1, "reasons": [], "score": 0.5}]),
    ]


@settings(max_examples=100, deadline=None)
@given(batches=st.lists(st.lists(st.sampled_from([0.0, -0.0, 0.1234, 0.5, 1.0, 2.5]) | st.floats(0, 3), max_size=8)))
def test_score_closings_are_made_once_and_found_again_in_later_blocks(batches):
    """Each distinct score's closing joins the table once, by the float's bits (0.0 and -0.0 read differently)."""
    pieces = ListPieces(PieceTable(), heads=4, firsts=4, nexts=4, closings=4)
    for batch in batches:
        scores = np.array(batch, dtype=np.float64)
        found = pieces.tails(scores)
        assert pieces.table.pieces[found].tolist() == [b'],"score":' + dumped(score) + b"}" for score in batch]
    distinct = {np.float64(score).tobytes() for batch in batches for score in batch}
    assert len(pieces.table.pieces) == 4 + len(distinct)


def test_score_closings_added_from_threads_at_once_stay_where_they_are_found():
    """A worker's kept engine may serve two refreshes at once (a threads pool): closings added together are each
    added once, and every score finds its own."""
    pieces = ListPieces(PieceTable(), heads=4, firsts=4, nexts=4, closings=4)
    batches = [np.round(np.random.default_rng(seed).random(400), 4) for seed in range(16)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        found = list(pool.map(pieces.tails, batches))
    for batch, at in zip(batches, found, strict=True):
        assert pieces.table.pieces[at].tolist() == [b'],"score":' + dumped(score) + b"}" for score in batch.tolist()]
    assert len(pieces.table.pieces) == 4 + len(np.unique(np.concatenate(batches)))
