"""Per-feature statistics and Information Value (IV) for registering features from a dataset.

Pure module: no Django import. ``feature_statistics`` reads a dataset's Parquet file one column
at a time and returns, per column, the descriptive statistics of the dataset quality profile
(``apps.datasets.profiling``: same definitions, same camelCase keys) plus the column's IV
against a binary label. ``iv_for_column`` computes the IV of one array.

Definitions:

* Label: bad = the positive class (label 1, or ``True``), good = label 0. A label with two
  other values (``"Y"``/``"N"``, ``1``/``2``) takes its minority class as bad (on a tie, the
  value that sorts first), as ``badRate`` in the quality profile. Rows whose label is missing
  (null, NaN) are left out; a label with more or fewer than two classes is a ``ValueError``.
* Missing feature values: null, and in float columns NaN and +/-inf, as in the profile. They
  always get a bin of their own (``__missing__``).
* Numeric bins: equal-frequency bins on the non-missing values. The cut points are the
  ``i / max_bins`` quantiles (i = 1 .. max_bins - 1) by the inverted empirical CDF (each cut
  is a value of the column), made unique; bins are right-closed, ``(left, right]``, the
  first from -inf and the last to +inf, so every bin holds at least one row. Then, while
  some bin holds fewer than ``min_bin_share`` of the non-missing rows, the smallest such
  bin is merged into its smaller neighbour.
* Categorical, text and boolean bins: one bin per category holding at least
  ``min_bin_share`` of the non-missing rows (largest first), the rest together in
  ``__other__`` (present only when some category was grouped). Categories are the values'
  Arrow string form (booleans ``"true"``/``"false"``).
* With ``s = WOE_SMOOTHING`` added to the good and bad counts of each of the ``k`` bins
  (empty cells would otherwise give an infinite WOE), the smoothed shares are
  ``g_i = (good_i + s) / (G + s*k)`` and ``b_i = (bad_i + s) / (B + s*k)``, where ``G`` and ``B``
  are the totals, and

      WOE_i = ln(g_i / b_i)             (goods over bads: a positive WOE is safer than average)
      IV    = sum_i (g_i - b_i) * WOE_i

  toad and some scorecard texts use bads over goods (the opposite sign of WOE); IV is the
  same either way, since both factors change sign. Only bins holding rows count in ``k``.
* Strength: IV < 0.02 useless, < 0.1 weak, < 0.3 medium, < 0.5 strong, else suspicious
  (too good to be true: often the label leaking into the feature).
"""

from __future__ import annotations

import itertools
import math
import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from apps.datasets import profiling

IV_VERSION = "1"
WOE_SMOOTHING = 0.5
DEFAULT_MAX_BINS = 10
DEFAULT_MIN_BIN_SHARE = 0.05
OTHER = "__other__"
MISSING = "__missing__"
# Upper bounds (exclusive) of the conventional IV strength classes; above the last: suspicious.
STRENGTH_CUTOFFS = (("useless", 0.02), ("weak", 0.1), ("medium", 0.3), ("strong", 0.5))
FEATURE_NAME_MAX_LENGTH = 100
FEATURE_TYPES = {
    "numerical": "numerical",
    "categorical": "categorical",
    "boolean": "categorical",
    "text": "text",
    "datetime": "datetime",
}
_CATEGORY_KINDS = ("categorical", "text", "boolean")


def _(text: str) -> str:
    """Marks a message for translation; the Django side shows ``gettext(template) % params``."""
    return text


class LabelError(ValueError):
    """The label cannot serve for IV (not a column, not two classes): a fault of the data, not
    of the caller. ``template % params`` is the English message."""

    def __init__(self, template: str, **params: Any):
        self.template, self.params = template, params
        super().__init__(template % params)


@dataclass(frozen=True)
class Binning:
    """How a column's values were cut into bins (see the module docstring).

    ``edges`` (``method="quantile"``): ascending bin edges from -inf to +inf; bin i is
    ``(edges[i], edges[i + 1]]``. ``categories`` (``method="category"``): the categories of
    each bin; ``["__other__"]`` stands for every category not listed in another bin.
    ``has_missing_bin``: missing values had a bin of their own (there were some).
    """

    method: str
    edges: list[float] | None
    categories: list[list[str]] | None
    has_missing_bin: bool

    def to_dict(self) -> dict:
        """JSON form. JSON has no infinity, so the unbounded ends of ``edges`` are null."""
        out: dict[str, Any] = {"method": self.method}
        if self.edges is not None:
            out["edges"] = [e if math.isfinite(e) else None for e in self.edges]
        if self.categories is not None:
            out["categories"] = [list(c) for c in self.categories]
        out["hasMissingBin"] = self.has_missing_bin
        return out

    @classmethod
    def from_dict(cls, data: dict) -> Binning:
        """Inverse of ``to_dict``."""
        edges = data.get("edges")
        if edges is not None:
            last = len(edges) - 1
            edges = [
                float(e) if e is not None else (-math.inf if i == 0 else math.inf)
                for i, e in enumerate(edges)
            ]
            # Only the two ends may be unbounded; a null inside would be a corrupt record.
            if any(not math.isfinite(e) for e in edges[1:last]):
                raise ValueError("Only the first and last bin edges may be unbounded.")
        categories = data.get("categories")
        return cls(
            method=data["method"],
            edges=edges,
            categories=[list(c) for c in categories] if categories is not None else None,
            has_missing_bin=bool(data["hasMissingBin"]),
        )


# --------------------------------------------------------------------------------------------
# Public API


def iv_for_column(
    values: pa.Array | pa.ChunkedArray | np.ndarray,
    label: np.ndarray,
    *,
    kind: str,
    max_bins: int = DEFAULT_MAX_BINS,
    min_bin_share: float = DEFAULT_MIN_BIN_SHARE,
) -> dict:
    """Information Value of ``values`` against the binary ``label`` (same length).

    ``kind`` is the profile's column kind: ``numerical`` gets quantile bins, ``categorical``,
    ``text`` and ``boolean`` one bin per frequent category; ``datetime`` is refused. Bins,
    label handling, WOE and IV are defined in the module docstring (WOE = ln of the goods'
    share over the bads' share, smoothed by ``WOE_SMOOTHING``).

    Returns ``{"iv", "ivVersion", "binning": Binning.to_dict(), "bins": [{"bin", "count",
    "bad", "good", "badRate", "woe", "iv"}], "strength"}``; the bins' counts sum to the rows
    with a label. Raises ``ValueError`` for a label that is not binary or not as long as
    ``values``, or for an unknown ``kind``.
    """
    _check_bin_options(max_bins, min_bin_share)
    n = len(values)
    y = _encode_label(label)
    if len(y) != n:
        raise ValueError(f"The label has {len(y)} rows but the values have {n}.")
    return _iv(values, y, kind=kind, max_bins=max_bins, min_bin_share=min_bin_share)


def feature_statistics(
    parquet_path: Path,
    columns: list[str] | None = None,
    *,
    label: str | None = None,
    max_bins: int = DEFAULT_MAX_BINS,
) -> dict[str, dict]:
    """Statistics of each column (default: every column but ``label``), keyed by column name.

    Each entry: ``kind`` and ``dataType`` (the Arrow type), ``count``, ``missing``,
    ``missingShare``, ``distinct``; for numerical columns ``mean``, ``std``, ``min``, ``max``,
    ``quantiles`` (``p1`` .. ``p99``) and ``histogram``; for categorical, text and boolean
    columns ``topValues``; for datetime columns ``min``, ``max`` and ``histogram`` - all with
    the quality profile's definitions. ``iv`` is ``iv_for_column``'s result (with
    ``max_bins`` and ``DEFAULT_MIN_BIN_SHARE``) when ``label`` is given, else None; it is also
    None for datetime columns and for the label column itself.

    Columns are read one at a time, so memory holds one column plus the label. Raises
    ``ValueError`` for unknown column names or a label that is not binary (before any feature
    column is read, so a caller can retry without the label at little cost).
    """
    _check_bin_options(max_bins, DEFAULT_MIN_BIN_SHARE)
    path = Path(parquet_path)
    schema = pq.read_schema(path)
    names = list(schema.names)
    if label is not None and label not in names:
        raise LabelError(_("The label column %(label)r is not in the dataset."), label=label)
    wanted = [c for c in names if c != label] if columns is None else list(columns)
    unknown = [c for c in wanted if c not in names]
    if unknown:
        raise ValueError(f"Unknown columns: {', '.join(map(repr, unknown))}.")

    # As profile_parquet: strings read straight as dictionaries, whose indices are the codes
    # both the profile and the category bins need.
    string_columns = [f.name for f in schema if profiling._is_string_like(f.type)]
    parquet = pq.ParquetFile(path, read_dictionary=string_columns)
    n = parquet.metadata.num_rows
    y = _encode_label(parquet.read(columns=[label]).column(0)) if label is not None else None

    thresholds = profiling.Thresholds()
    now = datetime.now(UTC).replace(tzinfo=None)  # only read for time columns; we ask for none
    out: dict[str, dict] = {}
    for name in wanted:
        data = parquet.read(columns=[name]).column(0)
        # The profile's own per-column function, not profile_parquet: it reads the column once
        # for both the description and the IV, and only the columns asked for, without the
        # dataset-wide row hashing, duplicate counts and alerts that features do not need.
        result = profiling._profile_column(
            name, data.type, data, n, thresholds, is_label=False, is_time=False, now=now
        )
        entry = _describe(result.report)
        del result
        kind = entry["kind"]
        if y is not None and name != label and kind != "datetime":
            entry["iv"] = _iv(data, y, kind=kind, max_bins=max_bins, min_bin_share=DEFAULT_MIN_BIN_SHARE)
        del data
        out[name] = entry
    return out


def infer_feature_type(kind: str) -> str:
    """The feature type (numerical, categorical, text, datetime) of a profile column kind.

    Booleans are categorical features with two categories.
    """
    try:
        return FEATURE_TYPES[kind]
    except KeyError:
        raise ValueError(
            f"Unknown column kind {kind!r}; expected one of {', '.join(FEATURE_TYPES)}."
        ) from None


def suggest_feature_name(column: str) -> str:
    """A valid feature name (``FEATURE_NAME_RE`` in ``apps.features.models``) from a column header.

    NFKC-normalised (full-width letters and digits, common in Chinese spreadsheets, become
    ASCII) and lower-cased; every run of characters that are not Unicode word characters
    becomes one ``_``, so Chinese characters stay as they are; underscores are collapsed and
    stripped from both ends. A name that would start with a digit gets the prefix ``f_``
    (``30天逾期`` -> ``f_30天逾期``: dropping the digits would lose meaning). At most 100
    characters; ``feature`` when nothing is left.
    """
    name = unicodedata.normalize("NFKC", column).lower()
    name = re.sub(r"\W+", "_", name)
    name = re.sub(r"_{2,}", "_", name).strip("_")
    if name[:1].isdigit():
        name = "f_" + name
    name = name[:FEATURE_NAME_MAX_LENGTH].rstrip("_")
    return name or "feature"


def iv_strength(iv: float) -> str:
    """The conventional strength class of an IV (``STRENGTH_CUTOFFS``)."""
    for strength, upper in STRENGTH_CUTOFFS:
        if iv < upper:
            return strength
    return "suspicious"


# --------------------------------------------------------------------------------------------
# Statistics


_NUMERIC_KEYS = ("mean", "std", "min", "max", "quantiles", "histogram")
_DATETIME_KEYS = ("min", "max", "histogram")


def _describe(report: dict) -> dict:
    """The feature statistics from one column of the quality profile."""
    kind = report["kind"]
    entry = {
        "kind": kind,
        "dataType": report["dtype"],
        "count": report["count"],
        "missing": report["missing"],
        "missingShare": report["missingShare"],
        "distinct": report["distinct"],
    }
    if kind == "numerical":
        entry.update({k: report[k] for k in _NUMERIC_KEYS})
    elif kind == "datetime":
        entry.update({k: report[k] for k in _DATETIME_KEYS})
    else:
        entry["topValues"] = report["topValues"]
    entry["iv"] = None
    return entry


# --------------------------------------------------------------------------------------------
# Label


def _encode_label(label: Any) -> np.ndarray:
    """int8 per row: 1 bad, 0 good, -1 missing (see the module docstring)."""
    arr = _to_arrow(label, what="label")
    if pa.types.is_dictionary(arr.type):
        arr = pc.cast(arr, arr.type.value_type)
    valid = pc.is_valid(arr)
    if pa.types.is_floating(arr.type):
        # is_nan(null) is null: fill it, or the null would spread through and_ and if_else.
        valid = pc.and_(valid, pc.invert(pc.fill_null(pc.is_nan(arr), True)))
    present = pc.filter(arr, valid)
    counts = pc.value_counts(present).to_pylist()
    if len(counts) != 2:
        shown = ", ".join(repr(c["values"]) for c in counts[:5]) + (", ..." if len(counts) > 5 else "")
        if not counts:
            raise LabelError(
                _("The label must have exactly two classes (0/1, booleans or two distinct values); it has 0.")
            )
        raise LabelError(
            _(
                "The label must have exactly two classes (0/1, booleans or two distinct values); "
                "it has %(count)s: %(values)s."
            ),
            count=len(counts),
            values=shown,
        )
    classes = [c["values"] for c in counts]
    if set(classes) == {0, 1}:  # also {False, True} and {0.0, 1.0}
        bad = next(c for c in classes if c == 1)  # in the label's own type, for the comparison
    else:
        # Minority class; on a tie the value that sorts first, so the choice is stable.
        (a, na), (b, nb) = sorted(((c["values"], c["counts"]) for c in counts), key=lambda t: t[0])
        bad = a if na <= nb else b
    is_bad = pc.equal(arr, pa.scalar(bad, type=arr.type))
    y = pc.if_else(valid, pc.cast(is_bad, pa.int8()), pa.scalar(-1, pa.int8()))
    return y.to_numpy(zero_copy_only=False).astype(np.int8, copy=False)


# --------------------------------------------------------------------------------------------
# Bins and IV


def _check_bin_options(max_bins: int, min_bin_share: float) -> None:
    if max_bins < 1:
        raise ValueError(f"max_bins must be at least 1, not {max_bins}.")
    if not 0.0 <= min_bin_share < 1.0:
        raise ValueError(f"min_bin_share must be in [0, 1), not {min_bin_share}.")


def _iv(values: Any, y: np.ndarray, *, kind: str, max_bins: int, min_bin_share: float) -> dict:
    """IV of ``values`` against an encoded label (``_encode_label``) of the same length."""
    labelled = y >= 0
    drop = not bool(labelled.all())
    if kind == "numerical":
        x = _as_float(values)
        if drop:
            x, y = x[labelled], y[labelled]
        binning, names, counts, bads = _quantile_bins(x, y, max_bins, min_bin_share)
    elif kind in _CATEGORY_KINDS:
        codes, dictionary = _as_codes(values)
        if drop:
            codes, y = codes[labelled], y[labelled]
        binning, names, counts, bads = _category_bins(codes, dictionary, y, min_bin_share)
    else:
        raise ValueError(
            f"IV is computed for numerical, categorical, text and boolean columns, not {kind!r}."
        )
    return _woe_table(binning, names, counts, bads)


def _woe_table(binning: Binning, names: list[str], counts: np.ndarray, bads: np.ndarray) -> dict:
    """WOE and IV per bin with smoothed shares (module docstring)."""
    used = counts > 0  # only an all-missing numeric column has an empty (value) bin
    names = [b for b, u in zip(names, used, strict=True) if u]
    counts, bads = counts[used].astype(np.int64), bads[used].astype(np.int64)
    goods = counts - bads
    k = len(counts)
    s = WOE_SMOOTHING
    g = (goods + s) / (goods.sum() + s * k)
    b = (bads + s) / (bads.sum() + s * k)
    woe = np.log(g / b)
    contrib = (g - b) * woe
    iv = float(contrib.sum())
    bins = [
        {
            "bin": name,
            "count": int(counts[i]),
            "bad": int(bads[i]),
            "good": int(goods[i]),
            "badRate": float(bads[i] / counts[i]),
            "woe": float(woe[i]),
            "iv": float(contrib[i]),
        }
        for i, name in enumerate(names)
    ]
    return {
        "iv": iv,
        "ivVersion": IV_VERSION,
        "binning": binning.to_dict(),
        "bins": bins,
        "strength": iv_strength(iv),
    }


def _quantile_bins(
    x: np.ndarray, y: np.ndarray, max_bins: int, min_bin_share: float
) -> tuple[Binning, list[str], np.ndarray, np.ndarray]:
    finite = np.isfinite(x)
    all_finite = bool(finite.all())
    values = x if all_finite else x[finite]
    bad_values = values[(y if all_finite else y[finite]) == 1]
    s = np.sort(values)
    n = len(s)
    if n:
        # Inverted empirical CDF, in integers: index ceil(i * n / max_bins) - 1.
        idx = (np.arange(1, max_bins, dtype=np.int64) * n + max_bins - 1) // max_bins - 1
        cuts = np.unique(s[idx])
        cuts = cuts[cuts < s[-1]]  # a cut at the maximum would leave the last bin empty
    else:
        cuts = np.empty(0)
    # Counting on sorted arrays: cumulative counts at each cut are insertion points, so no
    # per-row bin assignment is needed; only the bads (the minority, usually) are sorted again.
    counts = np.diff(np.concatenate(([0], np.searchsorted(s, cuts, side="right"), [n])))
    sb = np.sort(bad_values)
    bads = np.diff(np.concatenate(([0], np.searchsorted(sb, cuts, side="right"), [len(sb)])))
    cuts, counts, bads = _merge_small_bins(list(cuts), list(counts), list(bads), min_bin_share * n)

    edges = [-math.inf, *(float(c) for c in cuts), math.inf]
    names = [
        f"({_fmt(lo)}, {_fmt(hi)}{')' if math.isinf(hi) else ']'}" for lo, hi in itertools.pairwise(edges)
    ]
    missing = len(x) - n
    bins_counts, bins_bads = np.array(counts, dtype=np.int64), np.array(bads, dtype=np.int64)
    if missing:
        names.append(MISSING)
        bins_counts = np.append(bins_counts, missing)
        bins_bads = np.append(bins_bads, int(np.count_nonzero(y[~finite] == 1)))
    binning = Binning(method="quantile", edges=edges, categories=None, has_missing_bin=missing > 0)
    return binning, names, bins_counts, bins_bads


def _merge_small_bins(
    cuts: list[float], counts: list[int], bads: list[int], min_count: float
) -> tuple[list[float], list[int], list[int]]:
    """Merge the smallest bin below ``min_count`` into its smaller neighbour, until none is.

    Bin i lies between ``cuts[i - 1]`` and ``cuts[i]``; merging bins i and i + 1 removes
    ``cuts[i]``. Ties go to the leftmost bin and the left neighbour, so the result is stable.
    """
    while len(counts) > 1:
        i = int(np.argmin(counts))
        if counts[i] >= min_count:
            break
        if i == 0:
            j = 1
        elif i == len(counts) - 1:
            j = i - 1
        else:
            j = i - 1 if counts[i - 1] <= counts[i + 1] else i + 1
        lo = min(i, j)
        counts[lo] += counts.pop(lo + 1)
        bads[lo] += bads.pop(lo + 1)
        del cuts[lo]
    return cuts, counts, bads


def _category_bins(
    codes: np.ndarray, dictionary: pa.Array, y: np.ndarray, min_bin_share: float
) -> tuple[Binning, list[str], np.ndarray, np.ndarray]:
    size = len(dictionary) + 1
    # Codes shifted by one so that missing (-1) lands in slot 0: one bincount does it all.
    all_counts = np.bincount(codes + 1, minlength=size)
    all_bads = np.bincount(codes[y == 1] + 1, minlength=size)
    missing, missing_bad = int(all_counts[0]), int(all_bads[0])
    counts, bads = all_counts[1:], all_bads[1:]
    present = counts > 0
    frequent = present & (counts >= min_bin_share * counts.sum())
    kept = np.flatnonzero(frequent)
    kept = kept[np.argsort(-counts[kept], kind="stable")]  # largest first, ties by first seen
    rare = present & ~frequent

    # Text only for the kept categories: a free-text column may have a million others.
    names = [str(v) for v in dictionary.take(pa.array(kept, type=pa.int64())).to_pylist()]
    bin_counts = [int(c) for c in counts[kept]]
    bin_bads = [int(b) for b in bads[kept]]
    categories = [[name] for name in names]
    if rare.any():
        names.append(OTHER)
        categories.append([OTHER])
        bin_counts.append(int(counts[rare].sum()))
        bin_bads.append(int(bads[rare].sum()))
    if missing:
        names.append(MISSING)
        bin_counts.append(missing)
        bin_bads.append(missing_bad)
    binning = Binning(method="category", edges=None, categories=categories, has_missing_bin=missing > 0)
    return binning, names, np.array(bin_counts, dtype=np.int64), np.array(bin_bads, dtype=np.int64)


# --------------------------------------------------------------------------------------------
# Converting input


def _to_arrow(values: Any, *, what: str) -> pa.Array | pa.ChunkedArray:
    if isinstance(values, pa.Array | pa.ChunkedArray):
        return values
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise ValueError(f"The {what} must be one-dimensional, not of shape {arr.shape}.")
    try:
        # from_pandas: None and NaN are nulls, as in a DataFrame.
        return pa.array(arr, from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        # Mixed Python objects (1 and "1"): compare them through their text.
        return pa.array([None if _is_missing(v) else str(v) for v in arr], type=pa.string())


def _is_missing(v: Any) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v))


def _as_float(values: Any) -> np.ndarray:
    """float64 per row, NaN where missing (non-finite values count as missing downstream)."""
    if isinstance(values, np.ndarray) and values.dtype.kind in "biuf":
        return values.astype(np.float64, copy=False)
    data = _to_arrow(values, what="values")
    if pa.types.is_dictionary(data.type):
        data = pc.cast(data, data.type.value_type)
    if pa.types.is_duration(data.type):
        data = pc.cast(data, pa.int64())
    elif pa.types.is_boolean(data.type):
        data = pc.cast(data, pa.int8())
    if not (
        pa.types.is_integer(data.type) or pa.types.is_floating(data.type) or pa.types.is_decimal(data.type)
    ):
        raise ValueError(f"kind='numerical' needs numbers, not {data.type}.")
    # int64 beyond 2**53 loses precision here: harmless for cutting values into ~10 bins.
    data = pc.cast(data, pa.float64())
    if data.null_count:
        data = pc.fill_null(data, math.nan)
    return np.asarray(data.to_numpy(zero_copy_only=False), dtype=np.float64)


def _as_codes(values: Any) -> tuple[np.ndarray, pa.Array]:
    """int64 code per row (-1 missing) and the string dictionary the codes index."""
    data = _to_arrow(values, what="values")
    if pa.types.is_dictionary(data.type) and not profiling._is_string_like(data.type.value_type):
        data = pc.cast(data, data.type.value_type)
    value_type = data.type.value_type if pa.types.is_dictionary(data.type) else data.type
    if pa.types.is_floating(value_type):
        # NaN is missing, as in the profile, and not a category "nan".
        data = pc.if_else(pc.is_nan(data), pa.scalar(None, value_type), data)
    if not profiling._is_string_like(value_type):
        try:
            data = pc.cast(data, pa.string())
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            data = pa.array([None if v is None else repr(v) for v in data.to_pylist()], type=pa.string())
    if isinstance(data, pa.Array):
        data = pa.chunked_array([data])
    codes, dictionary, _uniques = profiling._dictionary_codes(data)
    return codes, dictionary


def _fmt(x: float) -> str:
    """Short text of a bin edge: integers without ``.0``, others as Python's shortest repr."""
    if math.isinf(x):
        return "-inf" if x < 0 else "+inf"
    if x.is_integer() and abs(x) < 1e15:
        return str(int(x))
    return repr(x)
