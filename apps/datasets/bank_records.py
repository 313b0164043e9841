"""Checking bank-records files: one record per line, each valid or explained.

A bank-records table has three fields, found under English or Chinese header names:
``bank_name`` (银行名称), ``bank_code`` (联行号) and ``clearing_code`` (清算行行号). A record is
valid when, after stripping surrounding whitespace:

- bank_name is present and at most ``MAX_NAME_CHARS`` characters;
- bank_code and clearing_code are well-formed 12-digit codes: ASCII digits whose last
  digit is the check digit defined in :mod:`apps.datasets.cnaps` (its ``code_problem``
  messages are reused here);
- the bank category (first three digits) of clearing_code equals that of bank_code;
- its bank_code was not already used by an earlier line (the first use stays valid).

Lines the reader could not split into the header's fields become invalid records too.
Everything is vectorised with pyarrow.compute and numpy: 150,000 lines take tens of
milliseconds. Pure module: no Django import.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .readers import BadLine, IngestError

FIELDS = ("bank_name", "bank_code", "clearing_code")
MAX_NAME_CHARS = 200  # DatasetRecord.bank_name
MAX_CODE_CHARS = 50  # DatasetRecord.bank_code / clearing_code; longer values are cut when stored
CODE_DIGITS = 12
CATEGORY_DIGITS = 3

HEADER_ALIASES: dict[str, tuple[str, ...]] = {
    "bank_name": (
        "bank_name", "bank name", "bankname", "branch_name", "branch name", "name", "bank",
        "银行名称", "行名", "网点名称", "机构名称", "名称", "银行", "支行名称", "开户行名称", "开户行",
    ),
    "bank_code": (
        "bank_code", "bank code", "bank_no", "bank number", "cnaps", "cnaps_code", "cnaps code",
        "联行号", "行号", "银行代码", "支付行号", "银行行号", "大额行号", "支付系统行号", "网点行号",
    ),
    "clearing_code": (
        "clearing_code", "clearing code", "clearing_bank_code", "clearing bank code", "clearing_no",
        "清算行行号", "清算行号", "清算号", "清算代码", "清算行代码",
    ),
}  # fmt: skip

_EXAMPLES = {
    "bank_name": ("bank_name", "银行名称", "行名"),
    "bank_code": ("bank_code", "联行号", "行号"),
    "clearing_code": ("clearing_code", "清算行行号", "清算行号"),
}


def _normal(name: str) -> str:
    """A header name compared case-, space-, underscore- and hyphen-insensitively."""
    return "".join(name.split()).casefold().replace("_", "").replace("-", "")


# alias (normalised) -> (field, rank); a lower rank is a more specific name.
_ALIAS_INDEX: dict[str, tuple[str, int]] = {}
for _field, _aliases in HEADER_ALIASES.items():
    for _rank, _alias in enumerate(_aliases):
        _ALIAS_INDEX.setdefault(_normal(_alias), (_field, _rank))


def map_headers(columns: list[str]) -> dict[str, str]:
    """Which column holds each field: ``{"bank_name": "银行名称", ...}``.

    A column matches a field when its name equals one of the field's aliases ignoring
    case, whitespace, ``_`` and ``-``. When several columns match one field, the one
    matching the earliest alias in ``HEADER_ALIASES`` wins (then the leftmost).
    Raises IngestError("missing_columns") naming the fields not found and the columns seen.
    """
    best: dict[str, tuple[int, int, str]] = {}
    for position, column in enumerate(columns):
        hit = _ALIAS_INDEX.get(_normal(column))
        if hit is None:
            continue
        name, rank = hit
        if name not in best or (rank, position) < best[name][:2]:
            best[name] = (rank, position, column)
    missing = [f for f in FIELDS if f not in best]
    if missing:
        wanted = "; ".join(f"{f} (e.g. {', '.join(_EXAMPLES[f])})" for f in missing)
        found = ", ".join(columns) if columns else "(none)"
        raise IngestError("missing_columns", f"Missing column(s): {wanted}. Found: {found}.")
    return {f: best[f][2] for f in FIELDS}


@dataclass
class BankRecordsResult:
    """Every line of a bank-records file as a record, in line order.

    The per-record sequences are parallel: ``line_number[i]`` (1-based line in the file),
    the stripped field values, ``extra[i]`` (the line's other columns as text, ``{}`` for a
    line that could not be split; ``extra`` is None when the file has only the three
    fields), ``is_valid[i]`` and ``error_message[i]`` ("" when valid; several problems are
    joined with "; "). ``problems_by_kind`` counts the records having each kind of problem
    (only kinds that occur).
    """

    line_number: np.ndarray
    bank_name: list[str]
    bank_code: list[str]
    clearing_code: list[str]
    extra: list[dict] | None
    is_valid: np.ndarray
    error_message: list[str]
    total: int = 0
    valid: int = 0
    invalid: int = 0
    problems_by_kind: dict[str, int] = field(default_factory=dict)


def _text_column(table: pa.Table, name: str) -> pa.Array:
    """A column as stripped strings, nulls as ""."""
    column = table.column(name).combine_chunks() if table.num_rows else pa.array([], pa.string())
    if not pa.types.is_string(column.type):
        column = column.cast(pa.string())
    return pc.utf8_trim_whitespace(column.fill_null(""))


_DOUBLED = np.array([0, 2, 4, 6, 8, 1, 3, 5, 7, 9], np.int32)  # a Luhn-doubled digit: 2d, less 9 if > 9


def _fixed_width_bytes(strings: pa.Array, width: int) -> np.ndarray:
    """The UTF-8 bytes of strings that are all ``width`` bytes long, as an (n, width) matrix."""
    n = len(strings)
    if n == 0:
        return np.zeros((0, width), np.uint8)
    _, offsets_buf, data_buf = strings.buffers()
    offsets = np.frombuffer(offsets_buf, dtype=np.int32)[strings.offset : strings.offset + n + 1]
    data = np.frombuffer(data_buf, dtype=np.uint8)[offsets[0] : offsets[-1]]
    return data.reshape(n, width)


def _code_checks(codes: pa.Array) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Masks (missing, malformed, wrong check digit) and the (n, 12) digits, zero where malformed.

    Well-formed means exactly twelve ASCII digits (unlike Python's ``\\d``, full-width digits
    are not), checked on the raw bytes: twelve bytes, each between "0" and "9".
    """
    n = len(codes)
    nbytes = pc.binary_length(codes).to_numpy(zero_copy_only=False)
    missing = nbytes == 0
    twelve = nbytes == CODE_DIGITS
    digits = np.zeros((n, CODE_DIGITS), np.uint8)
    if twelve.all():
        digits[:] = _fixed_width_bytes(codes, CODE_DIGITS)
    elif twelve.any():
        digits[twelve] = _fixed_width_bytes(codes.filter(pa.array(twelve)), CODE_DIGITS)
    digits -= ord("0")  # bytes below "0" wrap around to large values, so one test suffices
    # Row-wise "all twelve <= 9", read as three 4-byte words per row (faster than .all(axis=1)).
    over = np.ascontiguousarray(digits > 9).view(np.uint32)
    well_formed = twelve & ((over[:, 0] | over[:, 1] | over[:, 2]) == 0)
    digits[~well_formed] = 0
    # Luhn over the first eleven digits (cnaps.luhn_digit): from the right, the digit next
    # to the check digit is doubled, i.e. positions 0, 2, ..., 10 counted from the left.
    terms = digits[:, :11].astype(np.int32)
    terms[:, 0::2] = _DOUBLED[digits[:, 0:11:2]]
    total = terms @ np.ones(11, np.int32)
    bad_digit = well_formed & ((10 - total % 10) % 10 != digits[:, 11])
    return missing, ~missing & ~well_formed, bad_digit, digits


def _first_rows(values: list[str], well_formed: np.ndarray, digits: np.ndarray) -> np.ndarray:
    """For each row, the first row holding the same value (itself if none earlier)."""
    # Well-formed codes are their own int64 keys; the few others get keys above 10**12.
    keys = digits.astype(np.int64) @ (10 ** np.arange(CODE_DIGITS - 1, -1, -1, dtype=np.int64))
    others: dict[str, int] = {}
    for i in np.flatnonzero(~well_formed).tolist():
        keys[i] = 10**CODE_DIGITS + others.setdefault(values[i], len(others))
    _, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
    return first[inverse]


@contextmanager
def _gc_paused() -> Iterator[None]:
    # Hundreds of thousands of new strings would trigger many useless collections.
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def validate_bank_records(
    table: pa.Table, line_numbers: np.ndarray | None, bad_lines: list[BadLine]
) -> BankRecordsResult:
    """Check every row of ``table`` and merge in the reader's ``bad_lines`` (see the module docstring).

    ``line_numbers`` gives each row's line in the file (None: row i is line i + 2, the
    header being line 1). Raises IngestError("missing_columns") if a field has no column.
    """
    with _gc_paused():
        return _validate(table, line_numbers, bad_lines)


def _validate(
    table: pa.Table, line_numbers: np.ndarray | None, bad_lines: list[BadLine]
) -> BankRecordsResult:
    columns = map_headers(table.column_names)
    n = table.num_rows
    lines = (
        np.arange(2, n + 2, dtype=np.int64) if line_numbers is None else np.asarray(line_numbers, np.int64)
    )
    if len(lines) != n:
        raise ValueError(f"{len(lines)} line numbers for {n} rows")

    name = _text_column(table, columns["bank_name"])
    code = _text_column(table, columns["bank_code"])
    clearing = _text_column(table, columns["clearing_code"])

    name_length = pc.utf8_length(name).to_numpy(zero_copy_only=False)
    code_missing, code_malformed, code_digit, code_digits = _code_checks(code)
    clear_missing, clear_malformed, clear_digit, clear_digits = _code_checks(clearing)
    both_formed = ~code_missing & ~code_malformed & ~clear_missing & ~clear_malformed
    category_differs = both_formed & (
        code_digits[:, :CATEGORY_DIGITS] != clear_digits[:, :CATEGORY_DIGITS]
    ).any(axis=1)

    code_values: list[str] = code.to_pylist()
    clearing_values: list[str] = clearing.to_pylist()
    first_row = _first_rows(code_values, ~code_missing & ~code_malformed, code_digits)
    duplicate = ~code_missing & (first_row != np.arange(n))

    def categories(i: int) -> str:
        return (
            f"clearing_code: bank category {clearing_values[i][:3]} differs from "
            f"bank_code's {code_values[i][:3]}"
        )

    checks: list[tuple[str, np.ndarray, object]] = [
        ("bank_name_missing", name_length == 0, "bank_name: missing"),
        (
            "bank_name_too_long",
            name_length > MAX_NAME_CHARS,
            f"bank_name: longer than {MAX_NAME_CHARS} characters",
        ),
        ("bank_code_missing", code_missing, "bank_code: missing"),
        ("bank_code_format", code_malformed, "bank_code: must be 12 digits"),
        ("bank_code_check_digit", code_digit, "bank_code: check digit does not match"),
        ("clearing_code_missing", clear_missing, "clearing_code: missing"),
        ("clearing_code_format", clear_malformed, "clearing_code: must be 12 digits"),
        ("clearing_code_check_digit", clear_digit, "clearing_code: check digit does not match"),
        ("category_mismatch", category_differs, categories),
        (
            "duplicate_bank_code",
            duplicate,
            lambda i: f"duplicate bank_code, first on line {lines[first_row[i]]}",
        ),
    ]
    invalid = np.zeros(n, bool)
    for _, mask, _ in checks:
        invalid |= mask
    parts: dict[int, list[str]] = {i: [] for i in np.flatnonzero(invalid).tolist()}
    by_kind: dict[str, int] = {}
    for kind, mask, message in checks:
        rows = np.flatnonzero(mask).tolist()
        if not rows:
            continue
        by_kind[kind] = len(rows)
        for i in rows:
            parts[i].append(message if isinstance(message, str) else message(i))  # type: ignore[operator]
    error_message = [""] * n
    for i, texts in parts.items():
        error_message[i] = "; ".join(texts)

    extra_names = [c for c in table.column_names if c not in columns.values()]
    extra = _extra_values(table, extra_names) if extra_names else None
    bank_name: list[str] = _capped(name, MAX_NAME_CHARS, name_length).to_pylist()
    bank_code = _capped_list(code, code_values)
    clearing_code = _capped_list(clearing, clearing_values)
    is_valid = ~invalid

    if bad_lines:
        by_kind["bad_line"] = len(bad_lines)
        lines, bank_name, bank_code, clearing_code, extra, is_valid, error_message = _merge_bad_lines(
            bad_lines, lines, bank_name, bank_code, clearing_code, extra, is_valid, error_message
        )
    total = len(lines)
    valid = int(is_valid.sum())
    return BankRecordsResult(
        line_number=lines,
        bank_name=bank_name,
        bank_code=bank_code,
        clearing_code=clearing_code,
        extra=extra,
        is_valid=is_valid,
        error_message=error_message,
        total=total,
        valid=valid,
        invalid=total - valid,
        problems_by_kind=by_kind,
    )


def _capped(values: pa.Array, limit: int, lengths: np.ndarray) -> pa.Array:
    """Values cut to ``limit`` characters (what the record table can hold)."""
    return pc.utf8_slice_codeunits(values, 0, limit) if lengths.size and lengths.max() > limit else values


def _capped_list(values: pa.Array, as_list: list[str]) -> list[str]:
    lengths = pc.utf8_length(values).to_numpy(zero_copy_only=False)
    if not lengths.size or lengths.max() <= MAX_CODE_CHARS:
        return as_list
    return _capped(values, MAX_CODE_CHARS, lengths).to_pylist()


def _extra_values(table: pa.Table, names: list[str]) -> list[dict]:
    """The other columns of each row as text (JSON-safe), nulls as None."""
    arrays = []
    for name in names:
        column = table.column(name)
        arrays.append(column if pa.types.is_string(column.type) else column.cast(pa.string()))
    return pa.table(arrays, names=names).to_pylist()


def _merge_bad_lines(
    bad_lines: list[BadLine],
    lines: np.ndarray,
    bank_name: list[str],
    bank_code: list[str],
    clearing_code: list[str],
    extra: list[dict] | None,
    is_valid: np.ndarray,
    error_message: list[str],
) -> tuple[np.ndarray, list[str], list[str], list[str], list[dict] | None, np.ndarray, list[str]]:
    """Insert the unsplittable lines as invalid records with empty fields, keeping line order."""
    bad_at = np.array([b.line for b in bad_lines], np.int64)
    order = np.argsort(np.concatenate((lines, bad_at)), kind="stable")
    k = len(bad_lines)

    def merged(values: list, filler: list) -> list:
        joined = values + filler
        return [joined[i] for i in order.tolist()]

    empty = [""] * k
    return (
        np.concatenate((lines, bad_at))[order],
        merged(bank_name, empty),
        merged(bank_code, empty),
        merged(clearing_code, empty),
        merged(extra, [{} for _ in range(k)]) if extra is not None else None,
        np.concatenate((is_valid, np.zeros(k, bool)))[order],
        merged(error_message, [f"line could not be read: {b.message}" for b in bad_lines]),
    )
