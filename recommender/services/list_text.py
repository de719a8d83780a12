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

OPEN, SEPARATOR, CLOSE, NOTHING = 0, 1, 2, 3  # where every table keeps "[", ",", "]" and nothing


class PieceTable:
    """Pieces of JSON text that lists are joined from, each kept once with its length, by index.

    It starts with "[", ",", "]" and nothing (`OPEN`, `SEPARATOR`, `CLOSE`, `NOTHING`); `add` appends pieces and
    says where they start. A table lives as long as what its pieces describe (an engine's products, a page
    matrix's pages), so a chunk's lists cost only the join, not building the table again.
    """

    def __init__(self) -> None:
        self.pieces: NDArray[np.object_] = np.zeros(0, dtype=object)
        self.lengths: NDArray[np.intp] = np.zeros(0, dtype=np.intp)
        self.add([b"[", b",", b"]", b""])

    def add(self, pieces: Sequence[bytes]) -> int:
        """Append these pieces; the index of the first."""
        start = len(self.pieces)
        added = np.empty(len(pieces), dtype=object)
        added[:] = pieces
        self.pieces = np.concatenate([self.pieces, added])
        self.lengths = np.concatenate([self.lengths, np.fromiter(map(len, pieces), dtype=np.intp, count=len(pieces))])
        return start


def list_texts(table: PieceTable, pieces: NDArray[np.intp], bounds: NDArray[np.intp]) -> list[bytes]:
    """The JSON text of each list: list `i` holds items `bounds[i]:bounds[i + 1]`, and item `e` is the pieces
    `table.pieces[pieces[e]]` joined (one JSON object each)."""
    lists, (items, width) = len(bounds) - 1, pieces.shape
    counts = np.diff(bounds)
    firsts, lasts = bounds[:-1][counts > 0], bounds[1:][counts > 0] - 1
    before = np.full(items, NOTHING, dtype=np.intp)
    before[firsts] = OPEN
    after = np.full(items, SEPARATOR, dtype=np.intp)
    after[lasts] = CLOSE
    order = np.column_stack([before, pieces, after]).reshape(-1)
    text = b"".join(table.pieces[order].tolist())
    ends = np.concatenate([[0], np.cumsum(table.lengths[order].reshape(items, width + 2).sum(axis=1))])
    at = ends[bounds].tolist()
    return [text[at[i] : at[i + 1]] if counts[i] else b"[]" for i in range(lists)]
