"""Numbers reduced to sorted values: mean, std, quantiles, histogram and outliers
(IQR fences and z-scores), read off one sort.

Pure module: no Django import.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .common import Thresholds, _finite, _share
from .hashing import _NULL, _mix

ZSCORE_THRESHOLD = 3.0
IQR_FACTOR = 1.5
QUANTILES = {"p1": 0.01, "p5": 0.05, "p25": 0.25, "p50": 0.5, "p75": 0.75, "p95": 0.95, "p99": 0.99}


@dataclass
class _Values:
    """A column reduced to sorted non-missing values plus what hashing needs."""

    sorted: np.ndarray  # non-missing values, ascending (int64, uint64 or float64)
    row_keys: np.ndarray
    infinite: int = 0


def _numeric_values(data: pa.ChunkedArray) -> _Values:
    nulls = data.null_count
    raw = (pc.fill_null(data, 0) if nulls else data).to_numpy()
    valid = data.is_valid().to_numpy() if nulls else None
    if raw.dtype.kind == "f":
        raw = raw.astype(np.float64, copy=False)
        finite = np.isfinite(raw)
        good = finite if valid is None else (finite & valid)
        infinite = int(np.isinf(raw).sum())
        s = raw[good]
        # Hash bit patterns; -0.0 + 0.0 is +0.0, so both zeros hash alike.
        keys = raw + 0.0
        keys = keys.view(np.uint64)
        _mix(keys)
        keys[np.isnan(raw) if valid is None else (np.isnan(raw) | ~valid)] = _NULL
    else:
        infinite = 0
        raw = raw.astype(np.int64 if raw.dtype.kind == "i" else np.uint64, copy=False)
        s = raw.copy() if valid is None else raw[valid]  # sorted in place below
        keys = raw.astype(np.uint64)
        _mix(keys)
        if valid is not None:
            keys[~valid] = _NULL
    s.sort()
    return _Values(s, keys, infinite)


def _numeric_stats(s: np.ndarray, t: Thresholds, *, check_outliers: bool) -> dict:
    count = len(s)
    empty_outliers = {
        "iqr": {"count": 0, "share": 0.0, "lower": None, "upper": None},
        "zscore": {"count": 0, "share": 0.0, "threshold": ZSCORE_THRESHOLD},
    }
    if count == 0:
        return {
            "mean": None,
            "std": None,
            "min": None,
            "max": None,
            "quantiles": dict.fromkeys(QUANTILES),
            "histogram": {"edges": [], "counts": []},
            "outliers": empty_outliers,
        }
    lo, hi = float(s[0]), float(s[-1])
    mean = float(np.mean(s, dtype=np.float64))
    std = float(np.std(s, dtype=np.float64, ddof=1)) if count > 1 else None
    quantiles = {k: _quantile_sorted(s, q) for k, q in QUANTILES.items()}

    if lo == hi:
        edges = [lo, hi]
        hist = [count]
    else:
        edge_arr = np.linspace(lo, hi, t.histogram_bins + 1)
        # On sorted data each bin count is a difference of insertion points: no pass over s.
        starts = np.searchsorted(s, edge_arr[:-1], side="left")
        hist = np.diff(np.append(starts, count)).tolist()
        edges = edge_arr.tolist()

    outliers = empty_outliers
    if check_outliers:
        q1, q3 = quantiles["p25"], quantiles["p75"]
        iqr = q3 - q1
        lower, upper = q1 - IQR_FACTOR * iqr, q3 + IQR_FACTOR * iqr
        iqr_count = _outside(s, lower, upper)
        z_count = 0
        if std:
            z_count = _outside(s, mean - ZSCORE_THRESHOLD * std, mean + ZSCORE_THRESHOLD * std)
        outliers = {
            "iqr": {"count": iqr_count, "share": _share(iqr_count, count), "lower": lower, "upper": upper},
            "zscore": {"count": z_count, "share": _share(z_count, count), "threshold": ZSCORE_THRESHOLD},
        }
    return {
        "mean": _finite(mean),
        "std": _finite(std),
        "min": _finite(lo),
        "max": _finite(hi),
        "quantiles": quantiles,
        "histogram": {"edges": edges, "counts": hist},
        "outliers": outliers,
    }


def _outside(s: np.ndarray, lower: float, upper: float) -> int:
    """Number of sorted values strictly below ``lower`` or strictly above ``upper``."""
    below = int(np.searchsorted(s, lower, side="left"))
    above = len(s) - int(np.searchsorted(s, upper, side="right"))
    return below + above


def _quantile_sorted(s: np.ndarray, q: float) -> float | None:
    """numpy's default ("linear") quantile of an already sorted array."""
    pos = q * (len(s) - 1)
    i = math.floor(pos)
    j = min(i + 1, len(s) - 1)
    a, b = float(s[i]), float(s[j])
    return _finite(a + (b - a) * (pos - i))


def _runs(s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Unique values of a sorted array and how often each occurs."""
    if len(s) == 0:
        return s[:0], np.zeros(0, dtype=np.int64)
    starts = np.flatnonzero(np.concatenate(([True], s[1:] != s[:-1])))
    counts = np.diff(np.append(starts, len(s)))
    return s[starts], counts
