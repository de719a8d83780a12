"""Stored lists' JSON text joined from pieces, without a Python object per item.

A product page's two lists hold 800,000 items at 20,000 products. Building a dict per item (and per reason) and
serialising each list took longer than scoring them. Here every item is a few pieces of JSON text, each serialised
once and shared: the opening of an item with its product's id and cautions, its reasons, and its score. A
chunk's lists are one join of those pieces, found by index arrays, then cut per list.

The text is the same, byte for byte, as `fingerprint.dumped` gives for the items as dicts. Their keys are in
sorted order, so the fingerprints and the stored text do not change.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

OPEN, SEPARATOR, CLOSE, NOTHING = b"[", b",", b"]", b""


def list_texts(table: Sequence[bytes], pieces: NDArray[np.intp], bounds: NDArray[np.intp]) -> list[bytes]:
    """The JSON text of each list: list `i` holds items `bounds[i]:bounds[i + 1]`, and item `e` is the pieces
    `table[pieces[e]]` joined (one JSON object each)."""
    lists, (items, width) = len(bounds) - 1, pieces.shape
    counts = np.diff(bounds)
    marks = len(table) + np.arange(4)  # OPEN, SEPARATOR, CLOSE and NOTHING, after the table
    pieces_of = np.concatenate(
        [np.asarray(table, dtype=object), np.array([OPEN, SEPARATOR, CLOSE, NOTHING], dtype=object)]
    )
    firsts, lasts = bounds[:-1][counts > 0], bounds[1:][counts > 0] - 1
    before = np.full(items, marks[3], dtype=np.intp)
    before[firsts] = marks[0]
    after = np.full(items, marks[1], dtype=np.intp)
    after[lasts] = marks[2]
    order = np.column_stack([before, pieces, after]).reshape(-1)
    text = b"".join(pieces_of[order].tolist())
    lengths = np.fromiter(map(len, pieces_of), dtype=np.intp, count=len(pieces_of))
    ends = np.concatenate([[0], np.cumsum(lengths[order].reshape(items, width + 2).sum(axis=1))])
    at = ends[bounds].tolist()
    return [text[at[i] : at[i + 1]] if counts[i] else b"[]" for i in range(lists)]
