"""Reasons of many pairs at once, built once per distinct list, against building each pair's on its own."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import sparse

from recommender.fingerprint import dumped
from recommender.scoring.explain import (
    NO_EVIDENCE,
    contributor_arrays,
    discusses_label,
    reason_entries,
    reason_text_pieces,
    rounded,
    shared_code,
    shared_label,
    simple_reasons_pairs,
)
from tests.recommender.scoring import space


def one_by_one(s, contributions, label, top):
    """Each entry's reason built for it alone, Python's `round` on each weight."""
    found = [[] for _ in range(contributions.shape[0])]
    at, tags, shares, _ = contributor_arrays(s, contributions, top=top)
    for row, tag, share in zip(at.tolist(), tags.tolist(), shares.tolist(), strict=True):
        slug = s.tags[tag].slug
        if label is shared_label:
            found[row].append({"tag": slug, "code": shared_code(s, slug)["code"], "weight": round(share, 3)})
        else:
            reason = {"tag": slug, "label": label(s, slug), "weight": round(share, 3), "evidence": dict(NO_EVIDENCE)}
            found[row].append(reason)
    return found


weights = st.sampled_from([0.0, 0.0, 0.0, 0.0625, 0.1235, 0.25, 0.3, 0.5, 0.5, 0.7, 1.0])
pairs = st.integers(1, 25).flatmap(
    lambda n: st.lists(st.lists(weights, min_size=8, max_size=8), min_size=n, max_size=n)
)


def pairs_of(rows, custom_label):
    """The test space, these rows of element-wise products on its first eight tags, and the label to word them."""
    s = space()
    dense = np.zeros((len(rows), s.size), dtype=np.float32)
    dense[:, :8] = np.asarray(rows, dtype=np.float32)
    label = (lambda _s, slug: f"About {slug}.") if custom_label else shared_label
    return s, sparse.csr_array(dense), label


@settings(max_examples=150, deadline=None)
@given(rows=pairs, top=st.integers(1, 3), custom_label=st.booleans())
def test_pairs_explained_at_once_match_one_by_one(rows, top, custom_label):
    s, contributions, label = pairs_of(rows, custom_label)
    assert simple_reasons_pairs(s, contributions, label, top=top) == one_by_one(s, contributions, label, top)


@settings(max_examples=100, deadline=None)
@given(rows=pairs, top=st.integers(1, 3), custom_label=st.booleans())
def test_pairs_reasons_as_text_are_their_lists_serialised(rows, top, custom_label):
    """The pieces a product page's list is joined from give what serialising each pair's reasons gives."""
    s, contributions, label = pairs_of(rows, custom_label)
    tags, weights = reason_entries(s, contributions, top=top)
    openings, closings = reason_text_pieces(s, label)
    texts = [
        b"["
        + b",".join(openings[t] + closings[w] for t, w in zip(pair_tags, pair_weights, strict=True) if t >= 0)
        + b"]"
        for pair_tags, pair_weights in zip(tags.tolist(), weights.tolist(), strict=True)
    ]
    assert texts == [dumped(reasons) for reasons in one_by_one(s, contributions, label, top)]
    assert all((row[list(row).index(-1) :] == -1).all() for row in tags if -1 in row)  # none after a missing one


def test_articles_label_words_its_own_code():
    s = space()
    contributions = sparse.csr_array(np.eye(3, s.size, dtype=np.float32))
    reasons = simple_reasons_pairs(s, contributions, discusses_label)
    assert [[r["tag"] for r in pair] for pair in reasons] == [[t.slug] for t in s.tags[:3]]
    assert all(pair[0]["weight"] == 1.0 and "code" in pair[0] for pair in reasons)


@given(st.lists(st.floats(0, 1, allow_nan=False), max_size=50))
def test_rounded_is_pythons_round(values):
    ties = [0.0005, 0.0625, 0.1235, 0.2345, 0.5555, 0.9995, 0.0015]
    values = np.array(values + ties, dtype=np.float64)
    assert rounded(values, 3).tolist() == [round(v, 3) for v in values.tolist()]
