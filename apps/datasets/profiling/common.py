"""What every part of the profile uses: Thresholds, column_kind and small helpers
(shares, means, JSON-safe values, ISO dates, alerts).

Pure module: no Django import.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any

import numpy as np
import pyarrow as pa

# A string column is categorical when it repeats itself: at most this share of its values are
# distinct, and there are at most this many categories. Otherwise it is free text.
CATEGORICAL_MAX_DISTINCT_SHARE = 0.5
CATEGORICAL_MAX_DISTINCT = 1000


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


# --------------------------------------------------------------------------------------------
# Small helpers


def _(text: str) -> str:
    """Marks ``text`` for the catalogue; it is translated where an alert is shown."""
    return text


def _alert(
    level: str, code: str, template: str, params: dict | None = None, column: str | None = None
) -> dict:
    """An alert keeps its English ``message`` and its template ``t`` with parameters ``p``, so
    a page shows it in the reader's language (apps.datasets.texts.message_text)."""
    params = params or {}
    return {
        "level": level,
        "code": code,
        "message": template % params,
        "t": template,
        "p": params,
        "column": column,
    }


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
