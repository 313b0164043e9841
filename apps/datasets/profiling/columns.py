"""Column statistics: one column profiled by its kind (numerical, string, boolean,
datetime, other), with its row-hash keys and, for the label column, the class balance.

Pure module: no Django import.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .common import Thresholds, _is_string_like, _iso, _json_value, _share, column_kind
from .hashing import _mix
from .numeric import _numeric_stats, _numeric_values, _runs
from .times import _datetime_stats, _parse_times, _time_section

# --------------------------------------------------------------------------------------------
# One column


@dataclass
class _ColumnResult:
    report: dict
    row_keys: np.ndarray  # uint64 per row: the column's contribution to the row hash
    memory_bytes: int
    label: dict | None = None
    time: dict | None = None


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
# Label section


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
