"""An index as bytes: a zip of ``.npy`` arrays (loaded with ``allow_pickle=False``) and one
JSON member, and the checks that refuse anything whose parts do not fit together.

Pure module: no Django import.
"""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

import numpy as np

FORMAT = "omm-retrieval"
FORMAT_VERSION = 3  # 2: codes of any scheme, BICs, script of each record; 3: grams per normal form
MAX_ARTIFACT_BYTES = 1 << 30  # a serialised index (and its unpacked members) stays below this

ARRAYS = {  # name -> dtype of every array an index holds ("U": text of any width)
    "bank_code": "U",
    "clearing_code": "U",
    "bic": "U",
    "bank_key": "U",  # codes as looked up (codes.code_key, codes.bic_key)
    "clearing_key": "U",
    "bic_key": "U",
    "code_order": "int32",  # record ids sorted by bank_key
    "clearing_order": "int32",  # by clearing_key
    "bic_order": "int32",  # by bic_key
    "bank_of": "int16",  # bank id of each record (-1: none known)
    "office": "int8",  # kind of office of each record (0: none)
    "cjk": "int8",  # 1: the record is named in Chinese characters
    "name_len": "int32",  # length of the name in the normal form (a city may follow)
    "alphabet": "int64",
    "sound_cps": "int64",
    "sound_ids": "int16",
    "vocab": "int64",  # gram keys, sorted; gram id = place here
    "weight": "float32",  # per gram
    "doc_offsets": "int64",  # record -> its gram ids
    "doc_grams": "int32",
    "doc_weight": "float32",  # w(D) per record
    "post_offsets": "int64",  # gram -> the records holding it, in record order
    "postings": "int32",
}
PER_RECORD = (
    "bank_code",
    "clearing_code",
    "bic",
    "bank_key",
    "clearing_key",
    "bic_key",
    "code_order",
    "clearing_order",
    "bic_order",
    "bank_of",
    "office",
    "cjk",
    "name_len",
    "doc_weight",
)
META_LISTS = ("names", "normal", "banks", "weak", "kept", "whole", "provinces")


def to_bytes(meta: dict[str, Any], arrays: dict[str, np.ndarray]) -> bytes:
    """``meta`` (JSON) and ``arrays`` as a zip of ``.npy`` members plus ``meta.json``."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        zf.writestr(
            "meta.json", json.dumps({"format": FORMAT, "version": FORMAT_VERSION, **meta}, ensure_ascii=False)
        )
        for name in ARRAYS:
            member = io.BytesIO()
            np.save(member, arrays[name], allow_pickle=False)
            zf.writestr(f"{name}.npy", member.getvalue())
    return buffer.getvalue()


def from_bytes(data: bytes) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """(meta, arrays) of what :func:`to_bytes` wrote, checked. Raises ValueError on anything else."""
    if not isinstance(data, bytes | bytearray | memoryview) or len(data) > MAX_ARTIFACT_BYTES:
        raise ValueError("not an OMM retrieval index: expected bytes under the size limit")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            infos = {info.filename: info for info in zf.infolist()}
            if "meta.json" in infos and infos["meta.json"].file_size < MAX_ARTIFACT_BYTES:
                _check_version(json.loads(zf.read("meta.json").decode("utf-8")))
            expected = {"meta.json", *(f"{name}.npy" for name in ARRAYS)}
            if set(infos) != expected:
                raise ValueError(f"unexpected members {sorted(set(infos) ^ expected)}")
            if sum(info.file_size for info in infos.values()) > MAX_ARTIFACT_BYTES:
                raise ValueError("members too large")
            meta = json.loads(zf.read("meta.json").decode("utf-8"))
            arrays = {
                name: np.load(io.BytesIO(zf.read(f"{name}.npy")), allow_pickle=False) for name in ARRAYS
            }
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, UnicodeDecodeError) as exc:
        raise ValueError(f"not an OMM retrieval index: {exc}") from exc
    except ValueError as exc:  # np.load refusing an object array, bad JSON, the checks above
        if str(exc).startswith("not an OMM retrieval index"):
            raise
        raise ValueError(f"not an OMM retrieval index: {exc}") from exc
    check(meta, arrays)
    return meta, arrays


def _fail(why: str) -> None:
    raise ValueError(f"not an OMM retrieval index: {why}")


def _check_version(meta: Any) -> None:
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        _fail("wrong format")
    if meta.get("version") != FORMAT_VERSION:
        version = meta.get("version")
        _fail(f"format version {version!r}, this OMM reads {FORMAT_VERSION}: build the QA model again")


def check(meta: Any, arrays: dict[str, np.ndarray]) -> None:
    """Refuse an index whose parts do not fit together, so that no lookup can go out of bounds."""
    _check_version(meta)
    n = meta.get("records")
    if not isinstance(n, int) or not all(isinstance(meta.get(key), list) for key in META_LISTS):
        _fail("bad metadata")
    names, normal, banks = meta["names"], meta["normal"], meta["banks"]
    if len(names) != n or len(normal) != n or not all(isinstance(s, str) for s in (*names, *normal)):
        _fail("names do not match the record count")
    aliases = meta.get("aliases")
    if not isinstance(aliases, dict):
        _fail("bad alias table")
    lists = (meta[key] for key in ("banks", "weak", "kept", "whole", "provinces"))
    if not all(isinstance(x, str) for x in (*aliases, *aliases.values(), *(s for lst in lists for s in lst))):
        _fail("bad alias table")
    for name, dtype in ARRAYS.items():
        array = arrays[name]
        if array.ndim != 1 or (array.dtype.kind != "U" if dtype == "U" else array.dtype != np.dtype(dtype)):
            _fail(f"{name} is {array.dtype}, expected {dtype}")
    if any(arrays[name].size != n for name in PER_RECORD):
        _fail("a per-record array does not match the record count")
    v = arrays["vocab"].size
    if (
        arrays["weight"].size != v
        or arrays["post_offsets"].size != v + 1
        or arrays["doc_offsets"].size != n + 1
    ):
        _fail("offsets do not match")
    if arrays["sound_cps"].size != arrays["sound_ids"].size:
        _fail("sound table does not match")
    for offsets, values, bound in (
        (arrays["doc_offsets"], arrays["doc_grams"], v),
        (arrays["post_offsets"], arrays["postings"], n),
    ):
        if offsets[0] != 0 or offsets[-1] != values.size or (np.diff(offsets) < 0).any():
            _fail("offsets are not monotone")
        if values.size and (values.min() < 0 or values.max() >= bound):
            _fail("an index points outside its table")
    for name in ("vocab", "alphabet", "sound_cps"):
        if (np.diff(arrays[name]) <= 0).any():
            _fail(f"{name} is not sorted")
    for name in ("code_order", "clearing_order", "bic_order"):
        if n and (np.sort(arrays[name]) != np.arange(n)).any():
            _fail(f"{name} is not a permutation")
    if n and (arrays["bank_of"].min() < -1 or arrays["bank_of"].max() >= len(banks)):
        _fail("bank ids out of range")
    lengths = np.fromiter(map(len, normal), dtype=np.int64, count=n)
    if n and ((arrays["name_len"] < 1) | (arrays["name_len"] > lengths)).any():
        _fail("name lengths out of range")
