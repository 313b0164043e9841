"""Time checks: strings parsed as dates, the time section (frequency, gaps, future
timestamps), calendar periods and the histogram of datetime columns.

Pure module: no Django import.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .common import _iso, _share
from .numeric import _runs

MAX_GAPS_LISTED = 20
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
