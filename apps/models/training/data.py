"""The data path: a table to the float feature matrix (categorical codes over sorted levels),
the encoded label and the (train, valid) row order of a split.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from sklearn.model_selection import train_test_split

from .spec import Problem, SpecError, TrainingSpec, _

# --------------------------------------------------------------------------- data path


def _to_table(data: Any) -> pa.Table:
    if isinstance(data, pa.Table):
        return data
    if isinstance(data, pa.RecordBatch):
        return pa.Table.from_batches([data])
    try:
        import pandas as pd
    except ImportError:  # pragma: no cover - pandas is a platform dependency
        pd = None
    if pd is not None and isinstance(data, pd.DataFrame):
        return pa.Table.from_pandas(data, preserve_index=False)
    raise TypeError(f"expected a pyarrow.Table or pandas.DataFrame, got {type(data).__name__}")


def _is_categorical_type(t: pa.DataType) -> bool:
    return pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_dictionary(t)


def _as_strings(col: pa.ChunkedArray) -> pa.ChunkedArray:
    if pa.types.is_dictionary(col.type):
        col = col.cast(col.type.value_type)
    return (
        col if pa.types.is_string(col.type) or pa.types.is_large_string(col.type) else col.cast(pa.string())
    )


def _levels(col: pa.ChunkedArray) -> list[str]:
    values = pc.unique(_as_strings(col)).drop_null().to_pylist()
    return sorted(values)


def _codes(col: pa.ChunkedArray, levels: list[str]) -> np.ndarray:
    """Float codes of ``col`` over ``levels``; nulls and unseen levels become NaN."""
    idx = pc.index_in(_as_strings(col), value_set=pa.array(levels, pa.string()))
    return idx.to_numpy().astype(np.float64, copy=False)


def _numeric(col: pa.ChunkedArray) -> np.ndarray:
    if pa.types.is_boolean(col.type) or pa.types.is_decimal(col.type):
        col = col.cast(pa.float64())
    # Zero-copy for a single-chunk float column without nulls; one copy otherwise.
    return col.to_numpy()


def _matrix_dtype(table: pa.Table, features: list[str], categorical: set[str]) -> type:
    numeric_types = [table.schema.field(f).type for f in features if f not in categorical]
    if numeric_types and all(pa.types.is_float32(t) for t in numeric_types):
        # Codes up to 2**24 are exact in float32; a categorical with more levels would not be.
        return np.float32
    return np.float64


def _build_matrix(
    table: pa.Table,
    features: list[str],
    levels: dict[str, list[str]],
    dtype: Any,
    order: np.ndarray | None = None,
) -> np.ndarray:
    """The feature matrix (C order) with rows in ``order`` (all rows when None)."""
    n = table.num_rows if order is None else len(order)
    X = np.empty((n, len(features)), dtype=dtype)
    for j, name in enumerate(features):
        col = table.column(name)
        values = _codes(col, levels[name]) if name in levels else _numeric(col)
        X[:, j] = values if order is None else values[order]
    return X


# Label values read as "the event happened" when the caller names none (issue #18's list:
# 1, true, bad, default, 违约, 逾期 ...). Compared case-insensitively with each value's text.
EVENT_WORDS = frozenset(
    {
        "1", "true", "yes", "y", "t", "bad", "default", "defaulted", "delinquent", "event",
        "positive", "fraud", "churn", "违约", "逾期", "坏", "坏客户", "是", "欺诈",
    }
)  # fmt: skip


def _same_value(a: Any, b: Any) -> bool:
    """A label value equals a requested one: exactly, or by its text (``"1"`` names 1, ``"True"`` true)."""
    if a == b and type(a) is not bool and type(b) is not bool:
        return True
    return _value_text(a) == _value_text(b)


def _value_text(v: Any) -> str:
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    return str(v).strip().lower()


def event_class(classes: list[Any], counts: list[int], event_value: Any = None) -> Any:
    """The event (positive) class of a binary label: ``event_value`` when given (SpecError when
    the label does not hold it), else the one class whose text is an event word, else the
    minority class (the later one on a tie)."""
    if event_value is not None and event_value != "":
        for c in classes:
            if _same_value(c, event_value):
                return c
        raise SpecError(
            [
                Problem(
                    _("the event value %(value)s is not in the label; its values are %(values)s"),
                    value=repr(event_value),
                    values=", ".join(map(str, classes)),
                )
            ]
        )
    named = [c for c in classes if _value_text(c) in EVENT_WORDS]
    if len(named) == 1:
        return named[0]
    if len(classes) == 2 and counts[0] < counts[1]:
        return classes[0]
    return classes[-1]


def label_classes_of(column: pa.ChunkedArray | pa.Array) -> list[Any]:
    """The distinct non-null values of a label column, sorted."""
    if pa.types.is_dictionary(column.type):
        column = column.cast(column.type.value_type)
    values = pc.unique(column).drop_null().to_pylist()
    return sorted(v for v in values if not (isinstance(v, float) and v != v))


def _label_values(
    table: pa.Table, label: str, objective: str, event_value: Any = None
) -> tuple[np.ndarray, np.ndarray, list[Any]]:
    """(encoded label, mask of rows with a label, classes) — classes empty for regression.

    Classes are sorted; for a binary label the event class comes second (index 1), so every
    score is the probability of the event and every metric is oriented to it.
    """
    col = table.column(label)
    present = pc.is_valid(col).to_numpy(zero_copy_only=False)
    if objective == "regression":
        y = _numeric(col).astype(np.float64, copy=False)
        present &= np.isfinite(y)
        return y, present, []
    if pa.types.is_floating(col.type):
        present &= ~np.isnan(col.to_numpy())
    values = col.filter(pa.array(present)) if not present.all() else col
    if pa.types.is_dictionary(values.type):
        values = values.cast(values.type.value_type)
    counted = pc.value_counts(values).to_pylist()
    by_value = {item["values"]: item["counts"] for item in counted}
    classes = sorted(by_value)
    if objective == "binary" and len(classes) == 2:
        event = event_class(classes, [by_value[c] for c in classes], event_value)
        classes = [c for c in classes if c != event] + [event]
    elif objective == "binary" and event_value not in (None, "") and len(classes) == 1:
        event_class(classes, [by_value[classes[0]]], event_value)  # names a missing event value
    plain = col.cast(col.type.value_type) if pa.types.is_dictionary(col.type) else col
    encoded = pc.index_in(plain, value_set=pa.array(classes, values.type))
    y = encoded.to_numpy().astype(np.float64, copy=False)
    return y, present, classes


def _split_order(
    spec: TrainingSpec, table: pa.Table, rows: np.ndarray, y: np.ndarray
) -> tuple[np.ndarray, int]:
    """Row indices in (train, valid) order and the number of training rows."""
    n = len(rows)
    n_valid = max(1, round(n * spec.validation_share))
    n_train = n - n_valid
    if spec.split == "time":
        t = table.column(spec.time_column).take(pa.array(rows))
        # Stable sort, nulls first: an undated row counts as old, never as out-of-time.
        pos = pc.sort_indices(pa.table({"t": t}), sort_keys=[("t", "ascending", "at_start")])
        ordered = rows[pos.to_numpy()]
        return np.concatenate([np.sort(ordered[:n_train]), np.sort(ordered[n_train:])]), n_train
    if spec.split == "stratified":
        try:
            tr, va = train_test_split(rows, test_size=n_valid, stratify=y[rows], random_state=spec.seed)
        except ValueError as exc:
            raise SpecError(
                [Problem(_("stratified split is not possible: %(reason)s"), reason=str(exc))]
            ) from exc
    else:
        perm = np.random.default_rng(spec.seed).permutation(rows)
        va, tr = perm[:n_valid], perm[n_valid:]
    # Sorted indices keep the gather cache-friendly and the order independent of the shuffle.
    return np.concatenate([np.sort(tr), np.sort(va)]), n_train
