"""Lists' JSON text joined from pieces (`services.list_text`), against serialising the items as dicts."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from recommender.fingerprint import dumped
from recommender.services.list_text import list_texts

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
    table, pieces = [], []
    for found in lists:
        for item in found:
            head = b'{"cautions":' + dumped(item["cautions"]) + b',"id":' + dumped(item["id"]) + b',"reasons":'
            tail = b',"score":' + dumped(item["score"]) + b"}"
            table += [head, dumped(item["reasons"]), tail]
            pieces.append([len(table) - 3, len(table) - 2, len(table) - 1])
    bounds = np.concatenate([[0], np.cumsum([len(found) for found in lists])]).astype(np.intp)
    shaped = np.array(pieces, dtype=np.intp).reshape(-1, 3)

    assert list_texts(table, shaped, bounds) == [dumped(found) for found in lists]


def test_pieces_are_shared_between_items_and_lists():
    table = [b'{"id":1,"reasons":', b'{"id":2,"reasons":', b"[]", b',"score":0.5}']
    pieces = np.array([[0, 2, 3], [1, 2, 3], [0, 2, 3]], dtype=np.intp)
    bounds = np.array([0, 2, 2, 3], dtype=np.intp)

    assert list_texts(table, pieces, bounds) == [
        dumped([{"id": 1, "reasons": [], "score": 0.5}, {"id": 2, "reasons": [], "score": 0.5}]),
        b"[]",
        dumped([{"id": 1, "reasons": [], "score": 0.5}]),
    ]
