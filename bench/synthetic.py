"""Synthetic data for benchmarks: long articles and large catalogs from the demo taxonomy."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

ROOT = Path(__file__).resolve().parent.parent
FILLER = (
    "The body keeps many processes in balance through the day, and a varied diet supplies most of what it "
    "needs. Researchers continue to study how sleep, movement and food interact. "
)


def long_article(size_bytes: int, seed: int = 7) -> str:
    """About `size_bytes` of text: the demo articles shuffled with neutral filler between them."""
    rng = random.Random(seed)
    paragraphs = [
        line
        for path in sorted((ROOT / "fixtures" / "articles").glob("*.md"))
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    out: list[str] = []
    total = 0
    while total < size_bytes:
        chunk = rng.choice(paragraphs) if rng.random() < 0.6 else FILLER
        out.append(chunk)
        total += len(chunk.encode()) + 1
    return "\n".join(out)


def random_matrix(rows: int, cols: int, density: float, seed: int) -> NDArray[np.float32]:
    """Sparse-ish non-negative rows, like tag relevances."""
    rng = np.random.default_rng(seed)
    values = rng.random((rows, cols), dtype=np.float32)
    values[rng.random((rows, cols)) > density] = 0.0
    return values
