"""Bins of one feature: finding them (optbinning), writing them as the card's JSON bins,
putting rows into them (the same code at fit and at scoring time), and their statistics.

optbinning is used only to find break points and category groups; everything kept on the
card is plain JSON written here, and rows are assigned to bins by ``BinLookup`` alone.
"""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np

from .params import _

# The order of a feature's bins on the card: intervals (or category groups) first, in
# order, then the special-values bin, the "other" bin, and the missing bin last.
INTERVAL, CATEGORIES, SPECIAL, OTHER, MISSING = "interval", "categories", "special", "other", "missing"


def fmt_number(value: float) -> str:
    """A break or special value as a card shows it: six significant digits, always a float."""
    return repr(float(f"{value:.6g}"))


def interval_label(lower: float | None, upper: float | None) -> str:
    left = "(-inf" if lower is None else "[" + fmt_number(lower)
    right = "inf)" if upper is None else fmt_number(upper) + ")"
    return f"{left}, {right}"


def _bin(label: str, kind: str, lower: float | None = None, upper: float | None = None,
         values: list[Any] | None = None) -> dict[str, Any]:  # fmt: skip
    return {"label": label, "kind": kind, "lower": lower, "upper": upper, "values": list(values or [])}


def numeric_bins(breaks: list[float], specials: list[float]) -> list[dict[str, Any]]:
    """Bins (without statistics) of a numeric feature: ``[lower, upper)`` intervals between
    ``breaks``, a special-values bin when there are special values, and the missing bin."""
    edges: list[float | None] = [None, *map(float, breaks), None]
    out = [_bin(interval_label(lo, hi), INTERVAL, lo, hi) for lo, hi in itertools.pairwise(edges)]
    if specials:
        label = _("special: %(values)s") % {"values": ", ".join(fmt_number(v) for v in specials)}
        out.append(_bin(label, SPECIAL, values=[float(v) for v in specials]))
    out.append(_bin(_("missing"), MISSING))
    return out


def categorical_bins(groups: list[list[str]], other: list[str]) -> list[dict[str, Any]]:
    """Bins (without statistics) of a categorical feature: one per group of levels, an
    "other" bin holding ``other`` levels when there are any, and the missing bin."""
    out = [_bin(", ".join(group), CATEGORIES, values=group) for group in groups]
    if other:
        out.append(_bin(_("other"), OTHER, values=other))
    out.append(_bin(_("missing"), MISSING))
    return out


def interval_breaks(bins: list[dict[str, Any]]) -> list[float]:
    """The break points of a numeric feature's bins (the lower edge of every interval but the first)."""
    return [b["lower"] for b in bins if b["kind"] == INTERVAL and b["lower"] is not None]


class BinLookup:
    """Puts column values into a feature's bins; built once from the card's bins.

    Numeric: NaN -> missing, a special value -> the special bin, else the interval
    ``[lower, upper)`` holding it (``searchsorted`` over the breaks, so -inf/+inf land in
    the first/last interval). Categorical: the column holds codes into ``levels``; a code
    whose level no bin names, NaN or an out-of-range code -> missing.
    """

    __slots__ = ("breaks", "lut", "missing", "special", "specials")

    def __init__(self, bins: list[dict[str, Any]], levels: list[str] | None):
        self.missing = next(i for i, b in enumerate(bins) if b["kind"] == MISSING)
        self.special = next((i for i, b in enumerate(bins) if b["kind"] == SPECIAL), -1)
        self.specials = np.asarray(bins[self.special]["values"] if self.special >= 0 else [], np.float64)
        self.breaks = np.asarray(interval_breaks(bins), np.float64)
        self.lut: np.ndarray | None = None
        if levels is not None:
            position = {level: k for k, level in enumerate(levels)}
            self.lut = np.full(len(levels), self.missing, dtype=np.intp)
            for i, b in enumerate(bins):
                if b["kind"] in (CATEGORIES, OTHER):
                    for level in b["values"]:
                        if level in position:
                            self.lut[position[level]] = i

    def index(self, column: np.ndarray) -> np.ndarray:
        """The bin index of every value of ``column`` (intp array)."""
        x = np.asarray(column, dtype=np.float64)
        if self.lut is not None:
            out = np.full(x.shape, self.missing, dtype=np.intp)
            ok = (x >= 0) & (x < len(self.lut))  # False for NaN
            out[ok] = self.lut[x[ok].astype(np.intp)]
            return out
        out = np.searchsorted(self.breaks, x, side="right")
        if self.specials.size:
            # A broadcast compare: special values are a handful, and np.isin costs more.
            out[(x[..., None] == self.specials).any(axis=-1)] = self.special
        out[np.isnan(x)] = self.missing
        return out


def fill_stats(bins: list[dict[str, Any]], idx: np.ndarray, y: np.ndarray, events: int, total: int) -> float:
    """Writes count, events, event rate, WOE and IV into ``bins`` and returns the feature's IV.

    WOE = ln(share of non-events / share of events) in the bin, positive for safer bins
    (optbinning's and Siddiqi's (2006, ch. 6) convention); IV = sum (share non-events -
    share of events) * WOE. An empty bin gets WOE 0 (scores as the average row). A bin with
    no events or no non-events would have an infinite WOE; as usual for an empty cell of a
    2x2 table, 0.5 is added to both of its counts (the Haldane-Anscombe correction).
    """
    n_bins = len(bins)
    count = np.bincount(idx, minlength=n_bins)
    bad = np.bincount(idx, weights=y, minlength=n_bins).round().astype(np.int64)
    nonevents = total - events
    iv_total = 0.0
    for i, b in enumerate(bins):
        c, e = int(count[i]), int(bad[i])
        woe = iv = 0.0
        if c:
            g = c - e
            if e == 0 or g == 0:
                e, g = e + 0.5, g + 0.5
            share_good, share_bad = g / nonevents, e / events
            woe = math.log(share_good / share_bad)
            iv = (share_good - share_bad) * woe
        b.update(count=c, events=int(bad[i]), eventRate=(int(bad[i]) / c) if c else 0.0, woe=woe, iv=iv)
        iv_total += iv
    return iv_total


def resolved_trend(bins: list[dict[str, Any]]) -> str:
    """The event-rate shape of a numeric feature's non-empty intervals: ascending,
    descending, peak (up then down), valley (down then up) or none."""
    rates = [b["eventRate"] for b in bins if b["kind"] == INTERVAL and b["count"]]
    signs = [s for s in np.sign(np.diff(rates)) if s != 0]
    changes = [s for k, s in enumerate(signs) if k == 0 or s != signs[k - 1]]
    return {(1.0,): "ascending", (-1.0,): "descending", (1.0, -1.0): "peak", (-1.0, 1.0): "valley"}.get(
        tuple(float(s) for s in changes), "none"
    )


# --------------------------------------------------------------------------- optbinning


def _optimal_binning(name: str, dtype: str, trend: str | None, params: dict[str, Any], **extra: Any) -> Any:
    from optbinning import OptimalBinning  # heavy import, needed only to fit

    share = params["min_bin_share"]
    return OptimalBinning(
        name=name,
        dtype=dtype,
        monotonic_trend=trend,
        max_n_bins=params["max_n_bins"],
        min_bin_size=share,
        # Pre-bins no coarser than the bins asked for, else a small min_bin_share is moot.
        min_prebin_size=min(0.05, share),
        **extra,
    )


def find_breaks(name: str, x: np.ndarray, y: np.ndarray, params: dict[str, Any], trend: str) -> list[float]:
    """Optimal break points of a numeric column (NaN = missing) under ``params``."""
    specials = params["special_values"]
    clean = ~np.isnan(x)
    if specials:
        clean &= ~np.isin(x, specials)
    if np.unique(x[clean]).size < 2:
        return []
    # The pre-binning trees ignore gaps below ~1e-7, so values on a tiny scale would get no
    # split: optbinning sees them times a power of two (exact both ways) that brings their
    # spread near 1.
    spread = float(np.std(x[clean]))
    scale = 2.0 ** round(math.log2(spread)) if spread > 0 and math.isfinite(spread) else 1.0
    # optbinning fits on all rows so that min_bin_size is a share of all training rows.
    ob = _optimal_binning(
        name,
        "numerical",
        None if trend == "none" else trend,
        params,
        special_codes=[v / scale for v in specials] or None,
    )
    ob.fit(np.asarray(x, np.float64) / scale, y.astype(np.int64))
    return [float(s) * scale for s in ob.splits]


def find_groups(
    name: str, codes: np.ndarray, levels: list[str], y: np.ndarray, params: dict[str, Any]
) -> tuple[list[list[str]], list[str]]:
    """Optimal groups of a categorical column's levels (codes into ``levels``) and the levels
    pooled as "other" (rarer than ``categorical_cutoff``); levels absent from the rows appear
    in neither (they score as missing)."""
    ok = ~np.isnan(codes)
    names = np.asarray(levels, dtype=object)
    x = np.full(codes.shape, np.nan, dtype=object)
    x[ok] = names[codes[ok].astype(np.intp)]
    # Categories sorted by event rate have no trend to choose: optbinning keeps them ascending.
    ob = _optimal_binning(name, "categorical", "ascending", params, cat_cutoff=params["categorical_cutoff"])
    ob.fit(x, y.astype(np.int64))
    other = sorted(str(v) for v in ob.binning_table.cat_others)
    groups = [sorted(str(v) for v in split) for split in ob.splits]
    return [g for g in groups if g and g != other], other
