"""Data-quality profile of a tabular dataset stored as Parquet.

Pure module: no Django import. ``profile_parquet`` reads one column at a time with
``pyarrow.parquet`` (never the whole table as pandas) and returns a JSON-serialisable dict
with camelCase keys, served as-is by the API. Memory stays bounded by one column plus two
``uint64`` row-hash arrays; the work per column is one sort (numbers, dates) or one
dictionary encoding (strings), from which every statistic is read.

Definitions used throughout (the report keys are in parentheses):

* Missing (``missing``): a null, and in float columns also NaN and +/-inf (they are not usable
  values; ``infinite`` counts the infinities among them). ``count`` = rows - missing.
  Empty strings are values, not missing.
* Distinct (``distinct``): exact number of different non-missing values.
* Top value share (``topValueShare``): rows holding the most frequent value / ``count``.
  A column is constant (``constant``) when it has at most one distinct value (an all-missing
  column is constant) and near-constant (``nearConstant``) when its top value share is at
  least ``Thresholds.near_constant_share``.
* Quantiles: numpy's default (linear interpolation between order statistics).
* Histogram: ``Thresholds.histogram_bins`` equal-width bins from min to max, each bin
  ``[left, right)`` except the last, which is closed, as ``numpy.histogram``.
* IQR outliers: values below ``p25 - 1.5*IQR`` or above ``p75 + 1.5*IQR`` (strictly), with
  ``IQR = p75 - p25``.
* z-score outliers: values with ``|x - mean| / std > 3``, ``std`` the sample standard
  deviation (ddof=1, as pandas); none when ``std`` is 0 or undefined.
* Binary numerical columns (at most 2 distinct values, e.g. 0/1 flags) are numerical but are
  not checked for outliers or near-constancy (``binary``: true): a 3 % rate of ones is not
  3 % outliers.
* Duplicate rows (``duplicateRows``): rows equal, across all columns, to an earlier row
  (rows - distinct rows). Rows are compared through a 64-bit hash combined column by column
  (null and NaN compare equal); a false duplicate needs a 64-bit collision, odds about
  n^2 / 2^65 (3e-8 for a million rows).
* Duplicate keys (``duplicateKeys``): the same over ``key_columns`` only.
* Dates: timestamps with a time zone are reported in UTC; ISO strings carry no offset.
* Time completeness (``time``): see ``_time_section``.
* Label balance (``label``): see ``_label_section``.
* Score (``score``): see ``quality_score``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

PROFILE_VERSION = "1"

# A string column is categorical when it repeats itself: at most this share of its values are
# distinct, and there are at most this many categories. Otherwise it is free text.
CATEGORICAL_MAX_DISTINCT_SHARE = 0.5
CATEGORICAL_MAX_DISTINCT = 1000
ZSCORE_THRESHOLD = 3.0
IQR_FACTOR = 1.5
QUANTILES = {"p1": 0.01, "p5": 0.05, "p25": 0.25, "p50": 0.5, "p75": 0.75, "p95": 0.95, "p99": 0.99}
MAX_GAPS_LISTED = 20
MAX_KEY_EXAMPLES = 5

# Formats tried, in order, on a string time column. The first that parses a value wins.
TIME_FORMATS = (
    "%Y-%m-%d",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y/%m/%d",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%Y%m%d",
    "%Y年%m月%d日",
)

# Score components: (weight in points, share at which half of the weight is lost).
SCORE_WEIGHTS: dict[str, tuple[float, float]] = {
    "missing": (30.0, 0.2),
    "duplicateRows": (20.0, 0.05),
    "duplicateKeys": (10.0, 0.05),
    "outliers": (10.0, 0.05),
    "constantColumns": (10.0, 0.25),
    "timeGaps": (10.0, 0.1),
    "futureTimestamps": (5.0, 0.005),
    "labelImbalance": (5.0, 0.5),
}

# splitmix64 constants: a cheap bijective mixer, so equal values give equal hashes and
# different values differ in about half of the bits.
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_FOLD = np.uint64(0x100000001B3)  # FNV-64 prime, odd: the fold stays a bijection per column
_SEED = np.uint64(0xCBF29CE484222325)
_NULL = np.uint64(0x9E3779B97F4A7C15)  # hash of "missing" in numeric columns
_S30, _S27, _S31 = np.uint64(30), np.uint64(27), np.uint64(31)

# Calendar periods, finest first, with their nominal length in seconds.
_PERIOD_SECONDS = {
    "second": 1.0,
    "minute": 60.0,
    "hour": 3600.0,
    "day": 86400.0,
    "week": 7 * 86400.0,
    "month": 30.436875 * 86400.0,
    "quarter": 91.310625 * 86400.0,
    "year": 365.2425 * 86400.0,
}
_SUB_DAILY = ("second", "minute", "hour")
_MAX_DENSE_PERIODS = 400


@dataclass(frozen=True)
class Thresholds:
    """Limits above (or below) which the profile raises an alert.

    ``min_minority_class_share`` goes beyond the platform spec: a label whose smallest class
    holds less than this share of the rows is reported as imbalanced.
    """

    max_missing_share: float = 0.2
    max_duplicate_row_share: float = 0.01
    max_outlier_share: float = 0.05
    min_quality_score: float = 70.0
    near_constant_share: float = 0.99
    max_categories_listed: int = 20
    histogram_bins: int = 20
    min_minority_class_share: float = 0.01


def column_kind(arrow_type: pa.DataType, distinct: int, count: int) -> str:
    """The analytic kind of a column from its Arrow type and value counts.

    Numbers (integers, floats, decimals, durations) are ``numerical``; booleans ``boolean``;
    timestamps and dates ``datetime``; strings ``categorical`` when ``distinct / count <= 0.5``
    and ``distinct <= 1000`` (or the column has no values), else ``text``. Dictionary types
    follow their value type; any other type is ``text``. A string time column that parses as
    dates is promoted to ``datetime`` by ``profile_parquet``, not here.
    """
    if pa.types.is_dictionary(arrow_type):
        return column_kind(arrow_type.value_type, distinct, count)
    if pa.types.is_boolean(arrow_type):
        return "boolean"
    if (
        pa.types.is_integer(arrow_type)
        or pa.types.is_floating(arrow_type)
        or pa.types.is_decimal(arrow_type)
        or pa.types.is_duration(arrow_type)
    ):
        return "numerical"
    if pa.types.is_timestamp(arrow_type) or pa.types.is_date(arrow_type):
        return "datetime"
    if _is_string_like(arrow_type):
        if count == 0 or (
            distinct / count <= CATEGORICAL_MAX_DISTINCT_SHARE and distinct <= CATEGORICAL_MAX_DISTINCT
        ):
            return "categorical"
        return "text"
    return "text"


def quality_score(components: dict[str, float]) -> tuple[float, dict[str, float]]:
    """The quality score (0..100) and the points lost per component.

    The score starts at 100. Each component is a share in [0, 1] and loses
    ``weight * (1 - 2 ** (-share / half))`` points (``SCORE_WEIGHTS``: weight, half): nothing
    at 0, half the weight at ``half``, three quarters at twice that, and so on. The curve
    never flattens, so a worse dataset always scores lower, and the weights sum to 100.

    ======================  ====================================================  ======  =====
    component               share                                                 weight  half
    ======================  ====================================================  ======  =====
    ``missing``             mean ``missingShare`` over columns                    30      0.2
    ``duplicateRows``       duplicate rows / rows                                 20      0.05
    ``duplicateKeys``       duplicate keys / rows                                 10      0.05
    ``outliers``            mean IQR outlier share over numerical columns         10      0.05
                            (binary columns excluded)
    ``constantColumns``     constant columns / columns                            10      0.25
    ``timeGaps``            missing periods / expected periods                    10      0.1
    ``futureTimestamps``    future timestamps / non-missing timestamps            5       0.005
    ``labelImbalance``      ``1 - minorityShare / min_minority_class_share``       5       0.5
                            when the label is imbalanced, else 0 (mild)
    ======================  ====================================================  ======  =====

    The result is rounded to 2 decimals and clamped to [0, 100]. An empty dataset scores 0
    (``profile_parquet``).
    """
    lost: dict[str, float] = {}
    for name, (weight, half) in SCORE_WEIGHTS.items():
        share = max(0.0, float(components.get(name, 0.0)))
        lost[name] = round(weight * (1.0 - 2.0 ** (-share / half)), 4)
    score = min(100.0, max(0.0, 100.0 - sum(lost.values())))
    return round(score, 2), lost


def profile_parquet(
    path: Path,
    *,
    label: str | None = None,
    time_column: str | None = None,
    key_columns: list[str] | None = None,
    now: datetime | None = None,
    thresholds: Thresholds = Thresholds(),  # frozen, so one shared default is safe
) -> dict:
    """Profile the Parquet file at ``path`` column by column (see the module docstring).

    ``label`` names the target column (class balance), ``time_column`` the date column
    (completeness, future timestamps; a string column is parsed with ``TIME_FORMATS`` and an
    integer column holding ``yyyymmdd`` values as dates), ``key_columns`` the columns that
    should identify a row. ``now`` (default: the current UTC time; an aware datetime is
    converted to UTC, naive timestamps in the file are taken as UTC) separates future
    timestamps. Unknown column names give an error alert, not an exception.
    """
    path = Path(path)
    schema = pq.read_schema(path)
    names = list(schema.names)
    # Strings are read straight as dictionaries: cheaper than materialising every string, and
    # the dictionary indices are exactly what counting and hashing need.
    string_columns = [f.name for f in schema if _is_string_like(f.type)]
    parquet = pq.ParquetFile(path, read_dictionary=string_columns)
    n = parquet.metadata.num_rows
    now_naive = _naive_utc(now if now is not None else datetime.now(UTC))

    alerts: list[dict] = []
    for role, wanted in (("label", [label]), ("time", [time_column]), ("key", key_columns or [])):
        for name in wanted:
            if name is not None and name not in names:
                alerts.append(
                    _alert(
                        "error", "unknown_column", f"The {role} column {name!r} is not in the dataset.", name
                    )
                )
    keys = [k for k in (key_columns or []) if k in names]

    row_hash = np.full(n, _SEED, dtype=np.uint64)
    key_hash = np.full(n, _SEED, dtype=np.uint64) if keys else None
    columns: list[dict] = []
    label_section: dict | None = None
    time_section: dict | None = None
    memory_bytes = 0

    for fld in schema:
        data = parquet.read(columns=[fld.name], use_threads=True).column(0)
        result = _profile_column(
            fld.name,
            fld.type,
            data,
            n,
            thresholds,
            is_label=fld.name == label,
            is_time=fld.name == time_column,
            now=now_naive,
        )
        del data
        memory_bytes += result.memory_bytes
        columns.append(result.report)
        _fold(row_hash, result.row_keys)
        if key_hash is not None and fld.name in keys:
            _fold(key_hash, result.row_keys)
        if result.label is not None:
            label_section = result.label
        if result.time is not None:
            time_section = result.time

    if time_section is None and time_column in names:
        # A boolean or nested column cannot hold dates: every value is unparseable.
        time_section = _time_section(time_column, np.array([], "M8[s]"), 0, now_naive, is_date=False)
        time_section["unparseable"] = next(c["count"] for c in columns if c["name"] == time_column)

    duplicate_rows = _duplicate_count(row_hash)
    del row_hash
    duplicate_keys: dict | None = None
    if key_columns:
        duplicate_keys = {"columns": list(key_columns), "count": 0, "share": 0.0, "examples": []}
        if key_hash is not None:
            count, example_rows = _duplicate_groups(key_hash, MAX_KEY_EXAMPLES)
            duplicate_keys.update(
                count=count,
                share=_share(count, n),
                examples=_key_examples(parquet, keys, example_rows),
            )

    report: dict[str, Any] = {
        "profileVersion": PROFILE_VERSION,
        "rowCount": n,
        "columnCount": len(names),
        "memoryBytes": memory_bytes,
        "duplicateRows": {"count": duplicate_rows, "share": _share(duplicate_rows, n)},
        "duplicateKeys": duplicate_keys,
        "columns": columns,
        "label": label_section,
        "time": time_section,
    }
    report["score"], report["scoreBreakdown"] = _score(report, thresholds)
    report["alerts"] = alerts + _alerts(report, thresholds)
    return report


# --------------------------------------------------------------------------------------------
# One column


@dataclass
class _ColumnResult:
    report: dict
    row_keys: np.ndarray  # uint64 per row: the column's contribution to the row hash
    memory_bytes: int
    label: dict | None = None
    time: dict | None = None


@dataclass
class _Values:
    """A column reduced to sorted non-missing values plus what hashing needs."""

    sorted: np.ndarray  # non-missing values, ascending (int64, uint64 or float64)
    row_keys: np.ndarray
    infinite: int = 0


def _profile_column(
    name: str,
    arrow_type: pa.DataType,
    data: pa.ChunkedArray,
    n: int,
    thresholds: Thresholds,
    *,
    is_label: bool,
    is_time: bool,
    now: datetime,
) -> _ColumnResult:
    value_type = arrow_type.value_type if pa.types.is_dictionary(arrow_type) else arrow_type
    # The logical type: dictionary encoding is how Parquet stores strings, not what they are.
    base = {"name": name, "dtype": str(value_type)}
    if _is_string_like(value_type):
        return _string_column(base, data, n, thresholds, is_label=is_label, is_time=is_time, now=now)
    if pa.types.is_boolean(value_type):
        return _boolean_column(base, data, n, thresholds, is_label=is_label)
    if pa.types.is_timestamp(value_type) or pa.types.is_date(value_type):
        return _datetime_column(base, data, n, thresholds, is_label=is_label, is_time=is_time, now=now)
    if column_kind(value_type, 0, 0) == "numerical":
        return _numerical_column(base, data, n, thresholds, is_label=is_label, is_time=is_time, now=now)
    return _other_column(base, data, n, thresholds, is_label=is_label)


def _common(base: dict, kind: str, n: int, count: int, distinct: int, top_count: int, t: Thresholds) -> dict:
    missing = n - count
    top_share = _share(top_count, count) if count else None
    return {
        **base,
        "kind": kind,
        "count": count,
        "missing": missing,
        "missingShare": _share(missing, n),
        "distinct": distinct,
        "constant": distinct <= 1,
        "nearConstant": top_share is not None and top_share >= t.near_constant_share,
        "topValueShare": top_share,
    }


def _numerical_column(
    base: dict,
    data: pa.ChunkedArray,
    n: int,
    t: Thresholds,
    *,
    is_label: bool,
    is_time: bool,
    now: datetime,
) -> _ColumnResult:
    memory = data.nbytes
    if pa.types.is_decimal(data.type):
        data = pc.cast(data, pa.float64())
    elif pa.types.is_duration(data.type):
        data = pc.cast(data, pa.int64())
    elif pa.types.is_dictionary(data.type):
        data = pc.cast(data, data.type.value_type)
    values = _numeric_values(data)
    s = values.sorted
    uniques, counts = _runs(s)
    distinct = len(uniques)
    report = _common(base, "numerical", n, len(s), distinct, int(counts.max()) if distinct else 0, t)
    report["infinite"] = values.infinite
    binary = distinct <= 2
    report["binary"] = binary
    if binary:
        report["nearConstant"] = False
    report.update(_numeric_stats(s, t, check_outliers=not binary))
    result = _ColumnResult(report, values.row_keys, memory)
    if is_label:
        result.label = _label_section(base["name"], uniques, counts, n, t, numeric=True)
    if is_time:
        # Bank extracts often keep dates as yyyymmdd integers (20240131). Parsing the distinct
        # values and repeating them by their counts avoids formatting every row as text.
        plausible = np.flatnonzero(
            (uniques >= 10000101) & (uniques <= 99991231) & (uniques == np.round(uniques))
        )
        parsed = _parse_times(pa.array(uniques[plausible].astype(np.int64).astype(str)))
        ok = parsed.is_valid().to_numpy(zero_copy_only=False)
        seconds = parsed.cast(pa.int64()).fill_null(0).to_numpy()[ok]
        dates = np.repeat(seconds, counts[plausible[ok]]).astype("M8[s]")
        result.time = _time_section(base["name"], dates, len(s), now, is_date=True)
        result.time["unparseable"] = len(s) - len(dates)
    return result


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


def _string_column(
    base: dict,
    data: pa.ChunkedArray,
    n: int,
    t: Thresholds,
    *,
    is_label: bool,
    is_time: bool,
    now: datetime,
) -> _ColumnResult:
    codes, dictionary, memory = _dictionary_codes(data)
    # Codes are shifted by one so that null (-1) lands in bin 0: one bincount does it all.
    counts = np.bincount(codes + 1, minlength=len(dictionary) + 1)[1:]
    count = int(counts.sum())
    used = np.flatnonzero(counts)
    distinct = len(used)
    top = int(counts.max()) if distinct else 0
    kind = column_kind(data.type, distinct, count)

    time = None
    datetime_stats = None
    if is_time:
        parsed_dict = _parse_times(dictionary)
        parsed_valid = parsed_dict.is_valid().to_numpy(zero_copy_only=False)
        parsed_rows = int(counts[parsed_valid].sum())
        seconds = parsed_dict.cast(pa.int64()).fill_null(0).to_numpy()
        # Expand per row only where the code parsed; unparseable and null rows drop out.
        ok = codes >= 0
        ok[ok] = parsed_valid[codes[ok]]
        row_seconds = seconds[codes[ok]]
        # Strings holding plain dates ("2024-01-31") are reported and compared as dates.
        as_dates = not np.any(row_seconds % 86400)
        time = _time_section(base["name"], row_seconds.astype("M8[s]"), count, now, is_date=as_dates)
        time["unparseable"] = count - parsed_rows
        if count and parsed_rows / count >= 0.5:
            kind = "datetime"
            datetime_stats = _datetime_stats(np.sort(row_seconds).astype("M8[s]"), is_date=as_dates)

    report = _common(base, kind, n, count, distinct, top, t)
    if datetime_stats is not None:
        report.update(datetime_stats)
    else:
        report["topValues"] = _top_values(dictionary, counts, count, t.max_categories_listed)
        report["cardinality"] = distinct

    keys = codes.astype(np.uint64)
    _mix(keys)
    result = _ColumnResult(report, keys, memory, time=time)
    if is_label:
        result.label = _label_section(base["name"], dictionary.take(pa.array(used)), counts[used], n, t)
    return result


def _dictionary_codes(data: pa.ChunkedArray) -> tuple[np.ndarray, pa.Array, int]:
    """Per-row int64 codes (-1 for missing), the dictionary they index, and the plain size.

    The size is what the column would take as a plain Arrow string array (offsets + bytes +
    validity), so ``memoryBytes`` matches ``pyarrow.parquet.read_table(path).nbytes``.
    """
    if not pa.types.is_dictionary(data.type):
        data = pc.dictionary_encode(data.combine_chunks() if data.num_chunks > 1 else data)
        data = data if isinstance(data, pa.ChunkedArray) else pa.chunked_array([data])
    if data.num_chunks > 1:
        data = data.unify_dictionaries()
    if data.num_chunks == 0:
        return np.zeros(0, dtype=np.int64), pa.array([], type=data.type.value_type), 0
    dictionary = data.chunk(0).dictionary
    codes = np.concatenate(
        [pc.fill_null(chunk.indices, -1).to_numpy(zero_copy_only=False) for chunk in data.chunks]
    ).astype(np.int64, copy=False)
    # Arrow allows repeated or null dictionary entries; fold them so codes identify values.
    if dictionary.null_count or pc.count_distinct(dictionary).as_py() < len(dictionary):
        encoded = pc.dictionary_encode(dictionary)
        remap = pc.fill_null(encoded.indices, -1).to_numpy(zero_copy_only=False).astype(np.int64)
        remap = np.append(remap, -1)  # so that code -1 maps to -1
        codes = remap[codes]
        dictionary = encoded.dictionary
    n = len(codes)
    value_bytes = pc.binary_length(dictionary).fill_null(0).to_numpy(zero_copy_only=False)
    counts = np.bincount(codes + 1, minlength=len(dictionary) + 1)
    offset_width = (
        8 if pa.types.is_large_string(dictionary.type) or pa.types.is_large_binary(dictionary.type) else 4
    )
    memory = int(value_bytes @ counts[1:]) + offset_width * (n + 1) + (-(-n // 8) if counts[0] else 0)
    return codes, dictionary, memory


def _top_values(dictionary: pa.Array, counts: np.ndarray, count: int, limit: int) -> list[dict]:
    k = min(limit, int(np.count_nonzero(counts)))
    if k == 0:
        return []
    # Largest counts first; ties keep dictionary (first-seen) order, for a stable report.
    top = np.argsort(-counts, kind="stable")[:k]
    values = dictionary.take(pa.array(top)).to_pylist()
    return [
        {"value": _json_value(v), "count": int(counts[i]), "share": _share(int(counts[i]), count)}
        for v, i in zip(values, top, strict=True)
    ]


def _boolean_column(
    base: dict, data: pa.ChunkedArray, n: int, t: Thresholds, *, is_label: bool
) -> _ColumnResult:
    memory = data.nbytes
    if pa.types.is_dictionary(data.type):
        data = pc.cast(data, pa.bool_())
    codes = pc.fill_null(pc.cast(data, pa.int8()), -1).to_numpy().astype(np.int64)
    counts = np.bincount(codes + 1, minlength=3)[1:]
    return _coded_result(
        base, "boolean", pa.array([False, True]), codes, counts, n, memory, t, is_label=is_label
    )


def _datetime_column(
    base: dict, data: pa.ChunkedArray, n: int, t: Thresholds, *, is_label: bool, is_time: bool, now: datetime
) -> _ColumnResult:
    memory = data.nbytes
    arrow_type = data.type.value_type if pa.types.is_dictionary(data.type) else data.type
    if pa.types.is_dictionary(data.type):
        data = pc.cast(data, arrow_type)
    if pa.types.is_timestamp(arrow_type):
        unit, is_date = arrow_type.unit, False
    elif pa.types.is_date32(arrow_type):
        unit, is_date = "D", True
    else:  # date64: milliseconds at midnight
        unit, is_date = "ms", True
    ints = pc.cast(data, pa.int32() if unit == "D" else pa.int64())
    values = _numeric_values(ints)
    s = values.sorted.astype(np.int64, copy=False)
    uniques, counts = _runs(s)
    report = _common(base, "datetime", n, len(s), len(uniques), int(counts.max()) if len(s) else 0, t)
    stamps = s.view(f"M8[{unit}]")
    report.update(_datetime_stats(stamps, is_date=is_date))
    result = _ColumnResult(report, values.row_keys, memory)
    if is_time:
        result.time = _time_section(base["name"], stamps, len(s), now, is_date=is_date)
    if is_label:
        labels = pa.array([_iso(v, is_date=is_date) for v in uniques.view(f"M8[{unit}]")], pa.string())
        result.label = _label_section(base["name"], labels, counts, n, t)
    return result


def _datetime_stats(stamps: np.ndarray, *, is_date: bool) -> dict:
    """Min, max and a histogram by calendar period of sorted ``datetime64`` values.

    The period is the day when the values span at most 62 days, the month up to 5 years, the
    year beyond. Empty periods are listed (zero counts) so holes show, unless there are more
    than 400 periods (nonsense dates such as year 1), where only non-empty ones are listed.
    """
    if len(stamps) == 0:
        return {"min": None, "max": None, "histogram": {"period": None, "labels": [], "counts": []}}
    span_days = (stamps[-1] - stamps[0]) / np.timedelta64(1, "D")
    period = "day" if span_days <= 62 else "month" if span_days <= 5 * 366 else "year"
    ids = _period_ids(stamps, period)
    uniques, counts = _runs(ids)
    if uniques[-1] - uniques[0] + 1 <= _MAX_DENSE_PERIODS:
        dense = np.zeros(int(uniques[-1] - uniques[0] + 1), dtype=np.int64)
        dense[uniques - uniques[0]] = counts
        uniques, counts = np.arange(uniques[0], uniques[-1] + 1), dense
    labels = [_period_label(int(i), period) for i in uniques]
    return {
        "min": _iso(stamps[0], is_date=is_date),
        "max": _iso(stamps[-1], is_date=is_date),
        "histogram": {"period": period, "labels": labels, "counts": counts.tolist()},
    }


def _other_column(
    base: dict, data: pa.ChunkedArray, n: int, t: Thresholds, *, is_label: bool
) -> _ColumnResult:
    """Nested or binary types: compared through their text form, counted like categories."""
    memory = data.nbytes
    valid = data.is_valid().to_numpy(zero_copy_only=False) if len(data) else np.zeros(0, dtype=bool)
    try:
        as_text = pc.cast(data, pa.string())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        as_text = pa.chunked_array(
            [pa.array([None if v is None else repr(v) for v in data.to_pylist()], type=pa.string())]
        )
    codes, dictionary, _ = _dictionary_codes(as_text)
    codes[~valid] = -1
    counts = np.bincount(codes + 1, minlength=len(dictionary) + 1)[1:]
    return _coded_result(base, "text", dictionary, codes, counts, n, memory, t, is_label=is_label)


def _coded_result(
    base: dict,
    kind: str,
    dictionary: pa.Array,
    codes: np.ndarray,
    counts: np.ndarray,
    n: int,
    memory: int,
    t: Thresholds,
    *,
    is_label: bool,
) -> _ColumnResult:
    """Report, row keys and label section of a column given as dictionary codes + counts."""
    count = int(counts.sum())
    distinct = int(np.count_nonzero(counts))
    report = _common(base, kind, n, count, distinct, int(counts.max()) if distinct else 0, t)
    report["topValues"] = _top_values(dictionary, counts, count, t.max_categories_listed)
    report["cardinality"] = distinct
    keys = codes.astype(np.uint64)
    _mix(keys)
    result = _ColumnResult(report, keys, memory)
    if is_label:
        used = np.flatnonzero(counts)
        result.label = _label_section(base["name"], dictionary.take(pa.array(used)), counts[used], n, t)
    return result


# --------------------------------------------------------------------------------------------
# Label and time sections


def _label_section(
    name: str, values: Any, counts: np.ndarray, n: int, t: Thresholds, *, numeric: bool = False
) -> dict:
    """Class balance of the label column.

    ``classes`` lists the most frequent classes (shares of the non-missing labels), at most
    ``max_categories_listed``. For a binary label, ``badRate`` is the share of the positive
    class: 1 (or True) when the classes are {0, 1}, else the minority class. ``imbalanced``
    is true when there are 2..``max_categories_listed`` classes and the smallest holds less
    than ``min_minority_class_share``; ``minorityShare`` is that smallest share. A label with
    more classes than that (a continuous target) gets neither.
    """

    def value(i: int) -> Any:
        return _json_value(values[i] if numeric else values[i].as_py())

    total = int(counts.sum())
    order = np.argsort(-counts, kind="stable")
    classes = [
        {"value": value(i), "count": int(counts[i]), "share": _share(int(counts[i]), total)}
        for i in order[: t.max_categories_listed]
    ]
    class_count = len(values)
    bad_rate = None
    minority = None
    if 2 <= class_count <= t.max_categories_listed:
        minority = _share(int(counts.min()), total)
    if class_count == 2:
        pair = [value(0), value(1)]
        # {0, 1} also matches {False, True} and {0.0, 1.0}; otherwise the minority is "bad".
        positive = pair.index(1) if set(pair) == {0, 1} else int(np.argmin(counts))
        bad_rate = _share(int(counts[positive]), total)
    return {
        "column": name,
        "classes": classes,
        "classCount": class_count,
        "missing": n - total,
        "badRate": bad_rate,
        "minorityShare": minority,
        "imbalanced": minority is not None and minority < t.min_minority_class_share,
    }


def _time_section(name: str, stamps: np.ndarray, count: int, now: datetime, *, is_date: bool) -> dict:
    """Completeness of the time column.

    ``stamps`` are the parsed non-missing values as ``datetime64`` (any order). Timestamps
    after ``now`` are counted in ``futureCount`` and left out of the gap analysis (one typo
    such as 2099 would otherwise turn the whole range into a gap). ``frequency`` is the
    calendar period nearest, on a log scale, to the median gap between sorted unique
    timestamps; irregular event times (a sub-daily median gap shared by fewer than half of the
    gaps) are analysed by day instead. ``expectedPeriods`` counts periods from the first to
    the last one present, ``presentPeriods`` those holding at least one row, and ``gaps``
    lists the first runs of missing periods (``from``/``to``: start of the first and last
    missing period). ``min``/``max`` cover all timestamps, future ones included.
    """
    section: dict[str, Any] = {
        "column": name,
        "min": None,
        "max": None,
        "frequency": None,
        "expectedPeriods": 0,
        "presentPeriods": 0,
        "missingPeriods": 0,
        "gaps": [],
        "gapCount": 0,
        "futureCount": 0,
        "futureShare": 0.0,
        "unparseable": 0,
    }
    if len(stamps) == 0:
        return section
    unit = np.datetime_data(stamps.dtype)[0]
    limit = np.datetime64(now.date() if is_date else now, unit if unit != "D" else "D")
    future = stamps > limit
    future_count = int(future.sum())
    section["futureCount"] = future_count
    section["futureShare"] = _share(future_count, count)
    section["min"] = _iso(stamps.min(), is_date=is_date)
    section["max"] = _iso(stamps.max(), is_date=is_date)
    past = stamps[~future] if future_count else stamps
    unique = _runs(np.sort(past))[0]
    if len(unique) < 2:
        section["expectedPeriods"] = section["presentPeriods"] = len(unique)
        return section
    gaps = np.diff(unique)
    median_seconds = float(np.median(gaps) / np.timedelta64(1, "s"))
    frequency = min(_PERIOD_SECONDS, key=lambda p: abs(math.log(median_seconds / _PERIOD_SECONDS[p])))
    if frequency in _SUB_DAILY:
        regular = np.count_nonzero(gaps == np.median(gaps)) >= 0.5 * len(gaps)
        if not regular:
            frequency = "day"
    ids = _runs(_period_ids(unique, frequency))[0]
    steps = np.diff(ids)
    holes = np.flatnonzero(steps > 1)
    section.update(
        frequency=frequency,
        expectedPeriods=int(ids[-1] - ids[0] + 1),
        presentPeriods=len(ids),
        missingPeriods=int(ids[-1] - ids[0] + 1 - len(ids)),
        gapCount=len(holes),
        gaps=[
            {
                "from": _period_start(int(ids[i]) + 1, frequency),
                "to": _period_start(int(ids[i + 1]) - 1, frequency),
                "missingPeriods": int(steps[i] - 1),
            }
            for i in holes[:MAX_GAPS_LISTED]
        ],
    )
    return section


def _parse_times(values: pa.Array) -> pa.Array:
    """Parse strings to ``timestamp[s]`` with the first matching ``TIME_FORMATS`` entry."""
    values = pc.utf8_trim_whitespace(values.cast(pa.string()))
    parsed = pa.nulls(len(values), type=pa.timestamp("s"))
    for fmt in TIME_FORMATS:
        todo = pc.and_(parsed.is_null(), values.is_valid())
        if not pc.any(todo).as_py():
            break
        attempt = pc.strptime(values, format=fmt, unit="s", error_is_null=True)
        parsed = pc.coalesce(parsed, attempt)
    return parsed


def _period_ids(stamps: np.ndarray, period: str) -> np.ndarray:
    """Integer id of each timestamp's calendar period; consecutive periods differ by 1."""
    if period == "second":
        return stamps.astype("M8[s]").astype(np.int64)
    if period == "minute":
        return stamps.astype("M8[m]").astype(np.int64)
    if period == "hour":
        return stamps.astype("M8[h]").astype(np.int64)
    if period == "day":
        return stamps.astype("M8[D]").astype(np.int64)
    if period == "week":
        # 1970-01-01 was a Thursday; +3 days makes weeks start on Monday.
        return (stamps.astype("M8[D]").astype(np.int64) + 3) // 7
    months = stamps.astype("M8[M]").astype(np.int64)
    if period == "month":
        return months
    if period == "quarter":
        return months // 3
    return stamps.astype("M8[Y]").astype(np.int64)


def _period_start(period_id: int, period: str) -> str:
    """ISO start of a period id from ``_period_ids``."""
    if period in _SUB_DAILY:
        unit = {"second": "s", "minute": "m", "hour": "h"}[period]
        return str(np.datetime64(period_id, unit).astype("M8[s]"))
    if period == "day":
        return str(np.datetime64(period_id, "D"))
    if period == "week":
        return str(np.datetime64(period_id * 7 - 3, "D"))
    if period == "quarter":
        return str(np.datetime64(period_id * 3, "M").astype("M8[D]"))
    unit = "M" if period == "month" else "Y"
    return str(np.datetime64(period_id, unit).astype("M8[D]"))


def _period_label(period_id: int, period: str) -> str:
    if period == "month":
        return str(np.datetime64(period_id, "M"))
    if period == "year":
        return str(np.datetime64(period_id, "Y"))
    return _period_start(period_id, period)


# --------------------------------------------------------------------------------------------
# Row hashing and duplicates


def _mix(x: np.ndarray) -> None:
    """splitmix64 finaliser, in place on a uint64 array (numpy wraps on overflow)."""
    x ^= x >> _S30
    x *= _MIX1
    x ^= x >> _S27
    x *= _MIX2
    x ^= x >> _S31


def _fold(acc: np.ndarray, keys: np.ndarray) -> None:
    """Combine one column's mixed keys into the running row hash: ``acc * P + keys``.

    A polynomial hash over already-mixed (pseudo-random) keys: two different rows collide
    only if a random-looking 64-bit combination of their differences is 0, and swapping
    values between columns changes the hash.
    """
    acc *= _FOLD
    acc += keys


def _duplicate_count(hashes: np.ndarray) -> int:
    """Rows whose hash equals an earlier row's: len - distinct."""
    if len(hashes) < 2:
        return 0
    s = np.sort(hashes)
    return int(np.count_nonzero(s[1:] == s[:-1]))


def _duplicate_groups(hashes: np.ndarray, limit: int) -> tuple[int, list[tuple[int, int]]]:
    """Duplicate count and up to ``limit`` groups as (first row, rows in group), largest first."""
    if len(hashes) < 2:
        return 0, []
    order = np.argsort(hashes, kind="stable")
    s = hashes[order]
    same = s[1:] == s[:-1]
    count = int(np.count_nonzero(same))
    if count == 0:
        return 0, []
    starts = np.flatnonzero(np.concatenate(([True], ~same)))
    sizes = np.diff(np.append(starts, len(s)))
    repeated = np.flatnonzero(sizes > 1)
    # Largest groups first, then the earliest first row (stable sort kept rows in order).
    first_rows = order[starts[repeated]]
    pick = np.lexsort((first_rows, -sizes[repeated]))[:limit]
    return count, [(int(first_rows[i]), int(sizes[repeated][i])) for i in pick]


def _key_examples(parquet: pq.ParquetFile, keys: list[str], groups: list[tuple[int, int]]) -> list[dict]:
    if not groups:
        return []
    table = parquet.read(columns=keys).take(pa.array([row for row, _ in groups]))
    rows = table.to_pylist()
    return [
        {"key": {k: _json_value(row[k]) for k in keys}, "count": size}
        for row, (_, size) in zip(rows, groups, strict=True)
    ]


# --------------------------------------------------------------------------------------------
# Score and alerts


def _score(report: dict, t: Thresholds) -> tuple[float, dict[str, float]]:
    n = report["rowCount"]
    columns = report["columns"]
    if n == 0:
        return 0.0, {"empty": 100.0}
    numeric = [c for c in columns if c["kind"] == "numerical" and not c.get("binary")]
    label = report["label"]
    time = report["time"]
    keys = report["duplicateKeys"]
    imbalance = 0.0
    if label and label["imbalanced"]:
        imbalance = 1.0 - label["minorityShare"] / t.min_minority_class_share
    components = {
        "missing": _mean([c["missingShare"] for c in columns]),
        "duplicateRows": report["duplicateRows"]["share"],
        "duplicateKeys": keys["share"] if keys else 0.0,
        "outliers": _mean([c["outliers"]["iqr"]["share"] for c in numeric]),
        "constantColumns": _mean([1.0 if c["constant"] else 0.0 for c in columns]),
        "timeGaps": _share(time["missingPeriods"], time["expectedPeriods"]) if time else 0.0,
        "futureTimestamps": time["futureShare"] if time else 0.0,
        "labelImbalance": imbalance,
    }
    return quality_score(components)


def _alerts(report: dict, t: Thresholds) -> list[dict]:
    """Alerts for every threshold crossed; a clean dataset gets none."""
    out: list[dict] = []
    n = report["rowCount"]
    if n == 0:
        return [_alert("error", "empty_dataset", "The dataset has no rows.")]
    dup = report["duplicateRows"]
    if dup["share"] > t.max_duplicate_row_share:
        out.append(
            _alert(
                "warning",
                "duplicate_rows",
                f"{dup['count']} duplicate rows ({dup['share']:.1%}), above {t.max_duplicate_row_share:.1%}.",
            )
        )
    keys = report["duplicateKeys"]
    if keys and keys["count"]:
        out.append(
            _alert(
                "error",
                "duplicate_keys",
                f"{keys['count']} rows repeat a key of {', '.join(keys['columns'])}.",
            )
        )
    for c in report["columns"]:
        name = c["name"]
        if c["missingShare"] > t.max_missing_share:
            out.append(
                _alert(
                    "warning",
                    "high_missing",
                    f"{c['missingShare']:.1%} of {name!r} is missing, above {t.max_missing_share:.1%}.",
                    name,
                )
            )
        if c["constant"]:
            out.append(_alert("warning", "constant_column", f"{name!r} holds a single value or none.", name))
        elif c["nearConstant"]:
            out.append(
                _alert(
                    "warning",
                    "near_constant_column",
                    f"One value covers {c['topValueShare']:.1%} of {name!r}.",
                    name,
                )
            )
        if c["kind"] == "numerical":
            share = c["outliers"]["iqr"]["share"]
            if share > t.max_outlier_share:
                out.append(
                    _alert(
                        "warning",
                        "outliers",
                        f"{share:.1%} of {name!r} lies outside the 1.5 IQR fences, above "
                        f"{t.max_outlier_share:.1%}.",
                        name,
                    )
                )
    time = report["time"]
    if time:
        col = time["column"]
        if time["futureCount"]:
            out.append(
                _alert(
                    "error", "future_timestamps", f"{time['futureCount']} timestamps are in the future.", col
                )
            )
        if time["gapCount"]:
            out.append(
                _alert(
                    "warning",
                    "time_gaps",
                    f"{time['missingPeriods']} of {time['expectedPeriods']} {time['frequency']} periods "
                    f"have no rows ({time['gapCount']} gaps).",
                    col,
                )
            )
        if time["unparseable"]:
            out.append(
                _alert(
                    "warning", "unparseable_timestamps", f"{time['unparseable']} values are not dates.", col
                )
            )
    label = report["label"]
    if label:
        col = label["column"]
        if label["classCount"] < 2:
            out.append(
                _alert("error", "label_single_class", f"The label {col!r} has fewer than 2 classes.", col)
            )
        elif label["imbalanced"]:
            out.append(
                _alert(
                    "warning",
                    "label_imbalance",
                    f"The smallest class of {col!r} holds {label['minorityShare']:.1%} of the rows.",
                    col,
                )
            )
    if report["score"] < t.min_quality_score:
        out.append(
            _alert(
                "error",
                "low_quality_score",
                f"Quality score {report['score']:.1f} is below {t.min_quality_score:.1f}.",
            )
        )
    return out


# --------------------------------------------------------------------------------------------
# Small helpers


def _alert(level: str, code: str, message: str, column: str | None = None) -> dict:
    return {"level": level, "code": code, "message": message, "column": column}


def _is_string_like(arrow_type: pa.DataType) -> bool:
    return (
        pa.types.is_string(arrow_type)
        or pa.types.is_large_string(arrow_type)
        or pa.types.is_string_view(arrow_type)
    )


def _share(part: int, whole: int) -> float:
    return part / whole if whole else 0.0


def _mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else 0.0


def _finite(x: float | None) -> float | None:
    """JSON has no NaN or infinity."""
    return x if x is not None and math.isfinite(x) else None


def _naive_utc(moment: datetime) -> datetime:
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment


def _iso(stamp: np.datetime64, *, is_date: bool) -> str:
    return str(stamp.astype("M8[D]")) if is_date else str(stamp.astype("M8[s]"))


def _json_value(v: Any) -> Any:
    """A Python value from Arrow/numpy as something ``json.dumps`` accepts."""
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float):
        return _finite(v)
    if isinstance(v, datetime | date | time):
        return v.isoformat()
    if isinstance(v, Decimal):
        return str(v)
    if isinstance(v, bytes):
        return v.decode("utf-8", errors="replace")
    if v is None or isinstance(v, bool | int | str):
        return v
    return str(v)
