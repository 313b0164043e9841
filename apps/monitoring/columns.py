"""Feature columns from decision-log inputs, as the period figures read them (pure: Arrow
and NumPy, no Django).

The log keeps each record's inputs as a JSON object. Read as JSON text, one per line, the
whole period is parsed by Arrow's JSON reader in C; a column Arrow will not type (numbers
and text mixed) falls back to Python for that column only.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.json as pajson

from .figures import _as_float


def columns_from_json(texts: Sequence[str], kinds: Mapping[str, str]) -> dict[str, np.ndarray]:
    """``{name: column}`` for each feature of ``kinds`` (name -> "numeric" or another kind)
    from the records' JSON texts: numeric columns as float64 (NaN when missing or not a
    number), the others as objects (None when missing)."""
    if not texts:
        return {name: missing_column(0, kind == "numeric") for name, kind in kinds.items()}
    body = "\n".join(t if t and t != "null" else "{}" for t in texts).encode("utf-8")
    try:
        table = pajson.read_json(io.BytesIO(body), read_options=pajson.ReadOptions(block_size=1 << 24))
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        # A column of mixed types: parse in Python, and type it column by column.
        return columns_from_dicts([json.loads(t) if t else {} for t in texts], kinds)
    return {name: _typed(table, name, kind == "numeric", len(texts)) for name, kind in kinds.items()}


def columns_from_dicts(
    inputs: Sequence[Mapping[str, Any] | None], kinds: Mapping[str, str]
) -> dict[str, np.ndarray]:
    """As ``columns_from_json``, from records already parsed."""
    try:
        struct = pa.array([i or {} for i in inputs]) if inputs else None
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        struct = None
    out = {}
    for name, kind in kinds.items():
        numeric = kind == "numeric"
        column = _typed(struct, name, numeric, len(inputs)) if struct is not None else None
        if column is None:
            out[name] = _python_column([(i or {}).get(name) for i in inputs], numeric)
        else:
            out[name] = column
    return out


def _typed(data: pa.Table | pa.StructArray, name: str, numeric: bool, n: int) -> np.ndarray:
    names: Iterable[str] = data.column_names if isinstance(data, pa.Table) else [f.name for f in data.type]
    if name not in names:
        return missing_column(n, numeric)
    field = data.column(name) if isinstance(data, pa.Table) else data.field(name)
    kind = field.type
    if numeric:
        if pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_null(kind):
            return np.asarray(field.cast(pa.float64()).to_numpy(zero_copy_only=False), dtype=np.float64)
        return _python_column(field.to_pylist(), numeric=True)  # numbers written as text
    return np.asarray(field.to_numpy(zero_copy_only=False), dtype=object)


def _python_column(values: list[Any], numeric: bool) -> np.ndarray:
    return _as_float(values) if numeric else np.asarray(values, dtype=object)


def missing_column(n: int, numeric: bool) -> np.ndarray:
    """A feature no record carries: NaN (numeric) or None."""
    return np.full(n, np.nan) if numeric else np.full(n, None, dtype=object)
