"""Row hashing (splitmix64 keys folded column by column) and duplicate rows and keys.

Pure module: no Django import.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from .common import _json_value

# splitmix64 constants: a cheap bijective mixer, so equal values give equal hashes and
# different values differ in about half of the bits.
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_FOLD = np.uint64(0x100000001B3)  # FNV-64 prime, odd: the fold stays a bijection per column
_SEED = np.uint64(0xCBF29CE484222325)
_NULL = np.uint64(0x9E3779B97F4A7C15)  # hash of "missing" in numeric columns
_S30, _S27, _S31 = np.uint64(30), np.uint64(27), np.uint64(31)


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
