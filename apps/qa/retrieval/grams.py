"""Grams of normal forms (characters, pairs, sounds, sound pairs) as int64 keys, and the
numpy helpers they are made with.

Definitions are in the package docstring (apps.qa.retrieval). Pure module: no Django import.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import numpy as np

# --- grams -------------------------------------------------------------------------------

# Words that mark an administrative level (北京市, 海淀区, 管城回族区, 东城街道), which people
# add and drop freely: QUIET words are left out of the grams altogether, LEVEL characters
# out of the pairs (北京市海淀区 and 北京海淀 share their pairs) but not out of the characters.
_QUIET_RE = re.compile("回族区|回族|街道")
_LEVEL_RE = re.compile("[市区县省镇]")
CHAR_BITS = 18  # character ids (1 + place in the records' alphabet, 0: not in it) < 2**18
_TYPE = np.int64(1) << np.int64(2 * CHAR_BITS)  # gram type: 0 character, 1 pair, 2 sound, 3 sound pair
_NTH = np.int64(4) << np.int64(2 * CHAR_BITS)  # occurrence of the gram in its text: 0 first .. 3 fourth+
_DOC_SHIFT = np.int64(2 * CHAR_BITS + 4)


def _lookup(table: np.ndarray, cps: np.ndarray, values: np.ndarray | None = None) -> np.ndarray:
    """Per code point, ``values`` at its place in the sorted ``table`` (default 1 + place); 0 if absent."""
    if table.size == 0:
        return np.zeros(cps.size, np.int64)
    pos = np.minimum(np.searchsorted(table, cps), table.size - 1)
    hit = (pos + 1) if values is None else values[pos].astype(np.int64)
    return np.where(table[pos] == cps, hit, 0)


def _codepoints(texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """The code points of ``texts`` end to end, and the index of the text each belongs to."""
    lengths = np.fromiter((len(t) for t in texts), dtype=np.int64, count=len(texts))
    cps = np.frombuffer("".join(texts).encode("utf-32-le"), dtype=np.uint32).astype(np.int64)
    return cps, np.repeat(np.arange(len(texts), dtype=np.int64), lengths)


def _sorted_unique(values: np.ndarray) -> np.ndarray:
    """The distinct values of an already sorted array (np.unique hashes, which is slower here)."""
    keep = np.ones(values.size, dtype=bool)
    keep[1:] = values[1:] != values[:-1]
    return values[keep]


def _grams(texts: list[str], tables: Mapping[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """The gram keys of each text (see the module docstring) and the text each key belongs to.

    Keys are sorted by text. A gram that occurs again in the same text gets a distinct key
    per occurrence (up to the 4th), so 建设 in 中国建设银行建设路支行 counts twice. ``tables``
    holds the index's ``alphabet``, ``sound_cps`` and ``sound_ids``.
    """
    singles = [_QUIET_RE.sub("", t) for t in texts]
    cps, doc = _codepoints(singles)
    pcps, pdoc = _codepoints([_LEVEL_RE.sub("", t) for t in singles])
    sounds = _lookup(tables["sound_cps"], cps, tables["sound_ids"])
    keys, docs = [_lookup(tables["alphabet"], cps), sounds[sounds > 0] | (2 * _TYPE)], [doc, doc[sounds > 0]]

    def pairs(ids: np.ndarray, gap: int, kind: int) -> None:
        inside = (pdoc[:-gap] == pdoc[gap:]) & (ids[:-gap] > 0) & (ids[gap:] > 0)
        keys.append((ids[:-gap][inside] << np.int64(CHAR_BITS)) | ids[gap:][inside] | (kind * _TYPE))
        docs.append(pdoc[:-gap][inside])

    pchars = _lookup(tables["alphabet"], pcps)
    pairs(pchars, 1, 1)
    pairs(pchars, 2, 1)  # same type: a dropped or added character leaves its neighbours paired
    pairs(_lookup(tables["sound_cps"], pcps, tables["sound_ids"]), 1, 3)
    combined = np.sort((np.concatenate(docs) << _DOC_SHIFT) | np.concatenate(keys))
    docs_out, keys_out = combined >> _DOC_SHIFT, combined & (_NTH - 1)
    # Rank of each key within its run of equal (text, key): 0 for the first occurrence.
    start = np.ones(combined.size, dtype=bool)
    start[1:] = combined[1:] != combined[:-1]
    first = np.maximum.accumulate(np.where(start, np.arange(combined.size), 0))
    nth = np.minimum(np.arange(combined.size) - first, 3)
    return keys_out | (nth * _NTH), docs_out


def _alphabet(texts: list[str]) -> np.ndarray:
    """The sorted distinct code points of ``texts`` as grams see them."""
    cps = np.frombuffer("".join(_QUIET_RE.sub("", t) for t in texts).encode("utf-32-le"), dtype=np.uint32)
    return _sorted_unique(np.sort(cps)).astype(np.int64)
