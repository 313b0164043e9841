"""Optimal string alignment distance from one text to several, vectorised over the texts.

Pure module: no Django import.
"""

from __future__ import annotations

import numpy as np


def osa_distances(text: str, others: list[str]) -> np.ndarray:
    """Optimal string alignment distances from ``text`` to each of ``others``: insertions,
    deletions, substitutions and swaps of neighbours each cost one."""
    lengths = np.array([len(o) for o in others], dtype=np.int64)
    width = int(lengths.max(initial=0))
    points = np.full((len(others), max(width, 1)), -1, dtype=np.int64)
    for at, other in enumerate(others):
        points[at, : len(other)] = [ord(ch) for ch in other]
    return osa_distances_points(text, points, lengths)


def osa_distances_points(text: str, points: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """``osa_distances`` to texts given as rows of code ``points`` (padded with -1 past
    ``lengths``). Row by row over ``text``, every other text at once; a row's insertion
    chain is a running minimum (cur[j] = min over k <= j of best[k] + j - k)."""
    n, width = points.shape
    steps = np.arange(width + 1)
    before: np.ndarray | None = None
    row = np.broadcast_to(steps, (n, width + 1)).copy()
    for i, ch in enumerate(map(ord, text), start=1):
        best = np.minimum(row[:, :-1] + (points != ch), row[:, 1:] + 1)
        if before is not None and width > 1:
            swapped = (points[:, :-1] == ch) & (points[:, 1:] == ord(text[i - 2]))
            best[:, 1:] = np.where(swapped, np.minimum(best[:, 1:], before[:, :-2] + 1), best[:, 1:])
        full = np.concatenate((np.full((n, 1), i), best), axis=1)
        before, row = row, np.minimum.accumulate(full - steps, axis=1) + steps
    return row[np.arange(n), lengths]
