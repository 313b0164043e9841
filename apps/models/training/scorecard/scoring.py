"""Scoring rows with a card: OMM's own numpy over the card's JSON (no binning library).

``compile_card(card)`` builds the per-feature lookups once; the ``card_*`` functions compile
on first use and keep the result in a small cache keyed on the card object (its ``id``,
checked against the object itself, so a new card at a recycled address is compiled anew).
A card is treated as immutable once scored: compile a changed card again.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

import numpy as np

from .binning import BinLookup

_CACHE_SIZE = 32
_cache: OrderedDict[int, tuple[dict[str, Any], CompiledCard]] = OrderedDict()
_cache_lock = threading.Lock()  # serving threads share the cache


class CompiledCard:
    """A card ready to score: per selected feature its X column, bin lookup, bin points and
    labels, and the best points any training row reached (for reasons)."""

    def __init__(self, card: dict[str, Any]):
        levels = card.get("categoricalLevels", {})
        self.names = [f["name"] for f in card["features"]]
        self.columns = [int(f["column"]) for f in card["features"]]
        features = card["features"]
        self.lookups = [
            BinLookup(f["bins"], levels[f["name"]] if f["kind"] == "categorical" else None) for f in features
        ]
        self.points_by_bin = [np.array([b["points"] for b in f["bins"]], np.float64) for f in features]
        self.labels = [[b["label"] for b in f["bins"]] for f in features]
        # The best bin is the best one training rows fell in: an empty bin's points (those of
        # WOE 0) are no target to lose points against.
        self.best = np.array(
            [max((b["points"] for b in f["bins"] if b["count"]), default=0.0) for f in features]
        )
        self.offset = float(card["scaling"]["offset"])
        self.factor = float(card["scaling"]["factor"])

    def bins(self, X: Any) -> np.ndarray:
        """(rows, selected features) bin index of every row in every selected feature."""
        X = np.asarray(X)
        if X.ndim == 1:
            X = X[None, :]
        out = np.empty((X.shape[0], len(self.lookups)), dtype=np.intp)
        for k, (col, lookup) in enumerate(zip(self.columns, self.lookups, strict=True)):
            out[:, k] = lookup.index(X[:, col])
        return out

    def feature_points(self, X: Any) -> np.ndarray:
        """(rows, selected features) points of every row in every selected feature."""
        idx = self.bins(X)
        out = np.empty(idx.shape, dtype=np.float64)
        for k, points in enumerate(self.points_by_bin):
            out[:, k] = points[idx[:, k]]
        return out

    def points(self, X: Any) -> np.ndarray:
        return self.feature_points(X).sum(axis=1)

    def probability(self, X: Any) -> np.ndarray:
        """P(event) from the total points: the inverse of points = offset - factor * logit(P),
        so points and probability rank rows identically."""
        with np.errstate(over="ignore"):
            return 1.0 / (1.0 + np.exp((self.points(X) - self.offset) / self.factor))

    def reasons(self, X: Any, k: int = 4) -> list[list[dict[str, Any]]]:
        """Per row the (at most ``k``) features that cost it the most points against their best
        bin, largest loss first (ties in model order), losses > 0 only."""
        idx = self.bins(X)
        points = np.empty(idx.shape, dtype=np.float64)
        for j, per_bin in enumerate(self.points_by_bin):
            points[:, j] = per_bin[idx[:, j]]
        lost = self.best[None, :] - points
        order = np.argsort(-lost, axis=1, kind="stable")[:, : max(k, 0)]
        out = []
        for r in range(idx.shape[0]):
            out.append(
                [
                    {
                        "feature": self.names[j],
                        "bin": self.labels[j][idx[r, j]],
                        "points": float(points[r, j]),
                        "lost": float(lost[r, j]),
                    }
                    for j in order[r]
                    if lost[r, j] > 0
                ]
            )
        return out


def compile_card(card: dict[str, Any]) -> CompiledCard:
    """The compiled form of ``card`` (cached: the same object compiles once)."""
    key = id(card)
    with _cache_lock:
        hit = _cache.get(key)
        if hit is not None and hit[0] is card:
            _cache.move_to_end(key)
            return hit[1]
    compiled = CompiledCard(card)
    with _cache_lock:
        _cache[key] = (card, compiled)
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    return compiled


def card_points(card: dict[str, Any], X: Any) -> np.ndarray:
    """Total points per row (float64)."""
    return compile_card(card).points(X)


def card_probability(card: dict[str, Any], X: Any) -> np.ndarray:
    """P(event) per row, from the total points (see ``CompiledCard.probability``)."""
    return compile_card(card).probability(X)


def card_feature_points(card: dict[str, Any], X: Any) -> np.ndarray:
    """(rows, selected features) points per feature, in the card's feature order."""
    return compile_card(card).feature_points(X)


def card_reasons(card: dict[str, Any], X: Any, k: int = 4) -> list[list[dict[str, Any]]]:
    """Per row the top-``k`` reason codes: {"feature", "bin", "points", "lost"}."""
    return compile_card(card).reasons(X, k)
