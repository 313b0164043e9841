"""Checking bank-records files: one record per line, each valid or explained.

A register has these fields, found under English or Chinese header names
(``HEADER_ALIASES``): ``bank_name`` (银行名称) and ``bank_code`` (联行号) always;
``clearing_code`` (清算行行号), ``country`` (国家/地区), ``city`` (城市), ``bic`` (BIC, SWIFT代码)
and ``address`` (地址) when the file has them. A file with a BIC column and no bank-code
column uses its BICs as the codes.

Each code is read in a scheme (:mod:`apps.datasets.codes`): the dataset's declared one, or,
under ``auto``, the one each line reads as. A line is invalid only when it cannot be used
(the errors of :mod:`apps.datasets.bank_issues`): a missing or malformed field, a code used
by an earlier line (the first use stays valid), a line the reader could not split. What no
published standard states is a warning kept on the line; ``error_rules`` turns chosen
warning kinds into errors for one dataset.

The common case, a register of 12-digit CNAPS codes, is checked with pyarrow.compute and
numpy: 150,000 lines take tens of milliseconds. Other codes go one by one through
:func:`apps.datasets.codes.judge`. Pure module: no Django import.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from . import codes
from .bank_issues import ERRORS, WARNINGS, render_all
from .readers import BadLine, IngestError
from .readers.common import _, msg

REQUIRED = ("bank_name", "bank_code")
OPTIONAL = ("clearing_code", "country", "city", "bic", "address")
FIELDS = REQUIRED + OPTIONAL
MAX_NAME_CHARS = 200  # DatasetRecord.bank_name
MAX_CODE_CHARS = 50  # DatasetRecord.bank_code / clearing_code / bic; longer values are cut
MAX_CHARS = {"country": 60, "city": 100, "address": 300}  # the other DatasetRecord columns
CNAPS_DIGITS = codes.CNAPS_DIGITS
CATEGORY_DIGITS = 3
SCHEME_IDS = ("", codes.CNAPS, codes.BIC, codes.NATIONAL)  # scheme id -> name; 0: none

HEADER_ALIASES: dict[str, tuple[str, ...]] = {
    "bank_name": (
        "bank_name", "bank name", "bankname", "branch_name", "branch name", "name", "bank",
        "银行名称", "行名", "网点名称", "机构名称", "名称", "银行", "支行名称", "开户行名称", "开户行",
    ),
    "bank_code": (
        "bank_code", "bank code", "bank_no", "bank number", "cnaps", "cnaps_code", "cnaps code",
        "联行号", "行号", "银行代码", "支付行号", "银行行号", "大额行号", "支付系统行号", "网点行号",
        "sort code", "routing number", "national code", "branch code", "本国银行代码",
    ),
    "clearing_code": (
        "clearing_code", "clearing code", "clearing_bank_code", "clearing bank code", "clearing_no",
        "清算行行号", "清算行号", "清算号", "清算代码", "清算行代码",
    ),
    "country": (
        "country", "country_code", "country code", "国家/地区", "国家", "国家地区", "国别", "国家代码",
    ),
    "city": ("city", "city_name", "city name", "城市", "城市名称", "所在城市"),
    "bic": (
        "bic", "swift", "swift_code", "swift code", "bic_code", "bic code", "swift_bic", "bic/swift",
        "SWIFT代码", "SWIFT码", "BIC代码", "SWIFT编码",
    ),
    "address": (
        "address", "branch_address", "branch address", "地址", "网点地址", "详细地址", "行址", "营业地址",
    ),
}  # fmt: skip

_EXAMPLES = {
    "bank_name": ("bank_name", "银行名称", "行名"),
    "bank_code": ("bank_code", "联行号", "行号", "BIC"),
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
    """Which column holds each field found: ``{"bank_name": "银行名称", ...}``.

    A column matches a field when its name equals one of the field's aliases ignoring
    case, whitespace, ``_`` and ``-``. When several columns match one field, the one
    matching the earliest alias in ``HEADER_ALIASES`` wins (then the leftmost). A BIC
    column stands for the bank code when there is no bank-code column.
    Raises IngestError("missing_columns") naming the required fields not found and the
    columns seen.
    """
    best: dict[str, tuple[int, int, str]] = {}
    for position, column in enumerate(columns):
        hit = _ALIAS_INDEX.get(_normal(column))
        if hit is None:
            continue
        name, rank = hit
        if name not in best or (rank, position) < best[name][:2]:
            best[name] = (rank, position, column)
    if "bank_code" not in best and "bic" in best:
        best["bank_code"] = best.pop("bic")
    missing = [f for f in REQUIRED if f not in best]
    if missing:
        wanted = [
            msg(_("%(field)s (e.g. %(examples)s)"), field=f, examples=", ".join(_EXAMPLES[f]))
            for f in missing
        ]
        found = ", ".join(columns) if columns else msg(_("(none)"))
        raise IngestError(
            "missing_columns",
            _("Missing column(s): %(wanted)s. Found: %(found)s."),
            None,
            {"wanted": wanted, "found": found},
        )
    return {f: best[f][2] for f in FIELDS if f in best}


@dataclass
class BankRecordsResult:
    """Every line of a bank-records file as a record, in line order.

    The per-record sequences are parallel: ``line_number[i]`` (1-based line in the file),
    the field values (stripped; codes as read in their scheme; "" when absent), ``extra[i]``
    (the line's other columns as text, ``{}`` for a line that could not be split; ``extra``
    is None when the file has no other column), ``scheme[i]`` (the bank code's scheme, ""
    when it cannot be used), ``is_valid[i]``, ``problems[i]`` and ``warnings[i]`` (lists
    of ``[kind, params]``, see :mod:`apps.datasets.bank_issues`) and ``error_message[i]``
    (the problems in English, joined by "; "). The counts are of lines: per problem kind,
    per warning kind, per scheme (only what occurs).
    """

    line_number: np.ndarray
    bank_name: list[str]
    bank_code: list[str]
    clearing_code: list[str]
    extra: list[dict] | None
    is_valid: np.ndarray
    error_message: list[str]
    problems: list = field(default_factory=list)
    warnings: list = field(default_factory=list)
    scheme: list[str] = field(default_factory=list)
    country: list[str] = field(default_factory=list)
    city: list[str] = field(default_factory=list)
    bic: list[str] = field(default_factory=list)
    address: list[str] = field(default_factory=list)
    total: int = 0
    valid: int = 0
    invalid: int = 0
    warned: int = 0
    problems_by_kind: dict[str, int] = field(default_factory=dict)
    warnings_by_kind: dict[str, int] = field(default_factory=dict)
    schemes: dict[str, int] = field(default_factory=dict)
    main_scheme: str = ""
    columns: dict[str, str] = field(default_factory=dict)


def _text_column(table: pa.Table, name: str) -> pa.Array:
    """A column as stripped strings, nulls as ""."""
    column = table.column(name).combine_chunks() if table.num_rows else pa.array([], pa.string())
    if not pa.types.is_string(column.type):
        column = column.cast(pa.string())
    return pc.utf8_trim_whitespace(column.fill_null(""))


def _fixed_width_bytes(strings: pa.Array, width: int) -> np.ndarray:
    """The UTF-8 bytes of strings that are all ``width`` bytes long, as an (n, width) matrix."""
    n = len(strings)
    if n == 0:
        return np.zeros((0, width), np.uint8)
    _, offsets_buf, data_buf = strings.buffers()
    offsets = np.frombuffer(offsets_buf, dtype=np.int32)[strings.offset : strings.offset + n + 1]
    data = np.frombuffer(data_buf, dtype=np.uint8)[offsets[0] : offsets[-1]]
    return data.reshape(n, width)


def _twelve_digits(values: pa.Array, nbytes: np.ndarray) -> np.ndarray:
    """Which values are exactly twelve ASCII digits, checked on the raw bytes (unlike
    Python's ``\\d``, full-width digits are not)."""
    n = len(values)
    twelve = nbytes == CNAPS_DIGITS
    digits = np.zeros((n, CNAPS_DIGITS), np.uint8)
    if twelve.all():
        digits[:] = _fixed_width_bytes(values, CNAPS_DIGITS)
    elif twelve.any():
        digits[twelve] = _fixed_width_bytes(values.filter(pa.array(twelve)), CNAPS_DIGITS)
    digits -= ord("0")  # bytes below "0" wrap around to large values, so one test suffices
    # Row-wise "all twelve <= 9", read as three 4-byte words per row (faster than .all(axis=1)).
    over = np.ascontiguousarray(digits > 9).view(np.uint32)
    return twelve & ((over[:, 0] | over[:, 1] | over[:, 2]) == 0)


@dataclass
class _Codes:
    """One code column as read: values (normalised where read so), scheme ids, and the
    few lines that needed a closer look."""

    raw: pa.Array
    values: list[str]
    scheme: np.ndarray  # int8 index into SCHEME_IDS
    missing: np.ndarray
    main: str = ""
    problems: dict[int, tuple[str, dict]] = field(default_factory=dict)
    normalised: dict[int, str] = field(default_factory=dict)  # row -> the code as written
    country: dict[int, str] = field(default_factory=dict)  # row -> the code's country (not CNAPS)


def _read_codes(raw: pa.Array, declared: str, main: str | None = None) -> _Codes:
    """Read a code column under ``declared``; ``main`` None: this column's own main scheme."""
    n = len(raw)
    nbytes = pc.binary_length(raw).to_numpy(zero_copy_only=False)
    missing = nbytes == 0
    values: list[str] = raw.to_pylist()
    scheme = np.zeros(n, np.int8)
    if declared in (codes.AUTO, codes.CNAPS):
        clean = _twelve_digits(raw, nbytes)
        scheme[clean] = 1
    else:
        clean = np.zeros(n, bool)
    result = _Codes(raw, values, scheme, missing)
    verdicts = {
        i: codes.judge(values[i], declared, main or "") for i in np.flatnonzero(~missing & ~clean).tolist()
    }
    if declared == codes.AUTO and main is None:
        counts = np.bincount(scheme[clean], minlength=4)
        for v in verdicts.values():
            counts[SCHEME_IDS.index(v.scheme)] += 1
        counts[0] = -1
        main = SCHEME_IDS[int(np.argmax(counts))] if counts.max() > 0 else ""
        if main == codes.CNAPS:
            # Codes of digits only, of another length, read as CNAPS codes that lost digits.
            for i, v in verdicts.items():
                if v.scheme == codes.NATIONAL and codes.plain_digits(v.code):
                    verdicts[i] = codes.judge(values[i], declared, main)
    result.main = main or (declared if declared != codes.AUTO else "")
    for i, v in verdicts.items():
        scheme[i] = SCHEME_IDS.index(v.scheme)
        if v.problem:
            result.problems[i] = (v.problem, v.params)
        else:
            if v.normalised:
                result.normalised[i] = values[i]
            if v.country and v.scheme != codes.CNAPS:
                result.country[i] = v.country
            values[i] = v.code[:MAX_CODE_CHARS]
    for i in np.flatnonzero(nbytes > MAX_CODE_CHARS).tolist():
        if len(values[i]) > MAX_CODE_CHARS:  # more than the record can hold: unusable
            result.problems[i] = ("too_long", {"limit": MAX_CODE_CHARS})
            result.normalised.pop(i, None)
            result.country.pop(i, None)
            scheme[i] = 0
            values[i] = values[i][:MAX_CODE_CHARS]
    return result


def _first_rows(values: pa.Array) -> np.ndarray:
    """For each row, the first row holding the same value (itself if none earlier)."""
    n = len(values)
    if n == 0:
        return np.zeros(0, np.int64)
    # Arrow numbers a dictionary's entries in order of first appearance.
    idx = values.dictionary_encode().indices.to_numpy(zero_copy_only=False).astype(np.int64)
    seen = np.maximum.accumulate(idx)
    first = np.empty(n, bool)
    first[0] = True
    first[1:] = idx[1:] > seen[:-1]
    return np.flatnonzero(first)[idx]


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
    table: pa.Table,
    line_numbers: np.ndarray | None,
    bad_lines: list[BadLine],
    *,
    scheme: str = codes.AUTO,
    error_rules: tuple[str, ...] | list[str] | frozenset[str] = (),
) -> BankRecordsResult:
    """Check every row of ``table`` and merge in the reader's ``bad_lines`` (see the module docstring).

    ``line_numbers`` gives each row's line in the file (None: row i is line i + 2, the
    header being line 1). ``scheme`` is the dataset's code scheme (``auto``, ``cnaps``,
    ``bic``, ``national``); ``error_rules`` the warning kinds that count as errors.
    Raises IngestError("missing_columns") if a required field has no column.
    """
    if scheme != codes.AUTO and scheme not in codes.SCHEMES:
        raise ValueError(f"unknown code scheme {scheme!r}")
    with _gc_paused():
        return _Check(table, line_numbers, scheme, frozenset(error_rules)).run(bad_lines)


Issue = tuple[str, "np.ndarray | list[int]", "dict | Callable[[int], dict]"]


class _Check:
    """One validation: reads the columns, collects the issues, then builds the records."""

    def __init__(self, table: pa.Table, line_numbers, scheme: str, error_rules: frozenset[str]):
        self.columns = map_headers(table.column_names)
        self.table = table
        self.n = n = table.num_rows
        lines = (
            np.arange(2, n + 2, dtype=np.int64)
            if line_numbers is None
            else np.asarray(line_numbers, np.int64)
        )
        if len(lines) != n:
            raise ValueError(f"{len(lines)} line numbers for {n} rows")
        self.lines = lines
        self.scheme = scheme
        self.error_rules = error_rules
        self.issues: list[Issue] = []

    def text(self, name: str) -> pa.Array | None:
        column = self.columns.get(name)
        return _text_column(self.table, column) if column is not None else None

    def add(self, kind: str, rows, params) -> None:
        if len(rows):
            self.issues.append((kind, rows, params))

    def run(self, bad_lines: list[BadLine]) -> BankRecordsResult:
        n = self.n
        name = self.text("bank_name")
        name_length = pc.utf8_length(name).to_numpy(zero_copy_only=False)
        self.add("bank_name_missing", np.flatnonzero(name_length == 0), {"field": "bank_name"})
        too_long = np.flatnonzero(name_length > MAX_NAME_CHARS)
        self.add("bank_name_too_long", too_long, {"field": "bank_name", "limit": MAX_NAME_CHARS})
        first_name = _first_rows(name)
        same_name = np.flatnonzero((name_length > 0) & (first_name != np.arange(n)))
        self.add("duplicate_name", same_name, lambda i: {"line": int(self.lines[first_name[i]])})

        code = _read_codes(self.text("bank_code"), self.scheme)
        self._code_issues("bank_code", code)
        if self.scheme == codes.AUTO and code.main:
            main_id = SCHEME_IDS.index(code.main)
            mixed = np.flatnonzero((code.scheme != 0) & (code.scheme != main_id))
            self.add(
                "scheme_mixed",
                mixed,
                lambda i: {"field": "bank_code", "scheme": SCHEME_IDS[code.scheme[i]], "main": code.main},
            )
        clearing = None
        if "clearing_code" in self.columns:
            clearing = _read_codes(self.text("clearing_code"), self.scheme, code.main)
            self._code_issues("clearing_code", clearing)
            self._category_mismatch(code, clearing)
        bic = self._bic(code)
        country = self._country(code)

        first_code = _first_rows(
            pa.array(code.values, pa.string()) if code.problems or code.normalised else code.raw
        )
        duplicate = np.flatnonzero(~code.missing & (first_code != np.arange(n)))
        self.add("duplicate_bank_code", duplicate, lambda i: {"line": int(self.lines[first_code[i]])})

        problems, warnings, by_kind, warnings_by_kind = self._assemble()
        invalid = np.zeros(n, bool)
        invalid[list(problems)] = True
        empty: tuple = ()
        problem_lists: list = [empty] * n
        warning_lists: list = [empty] * n
        error_message = [""] * n
        for i, issues in problems.items():
            problem_lists[i] = issues
            error_message[i] = render_all(issues)
        for i, issues in warnings.items():
            warning_lists[i] = issues

        extra_names = [c for c in self.table.column_names if c not in self.columns.values()]
        scheme_names = np.array(SCHEME_IDS, dtype=object)[code.scheme]
        records = {
            "bank_name": _capped(name, MAX_NAME_CHARS, name_length).to_pylist(),
            "bank_code": code.values,
            "clearing_code": clearing.values if clearing is not None else [""] * n,
            "extra": _extra_values(self.table, extra_names) if extra_names else None,
            "error_message": error_message,
            "problems": problem_lists,
            "warnings": warning_lists,
            "scheme": scheme_names.tolist(),
            "country": country,
            "city": self._plain("city"),
            "bic": bic,
            "address": self._plain("address"),
        }
        lines, is_valid = self.lines, ~invalid
        if bad_lines:
            by_kind["bad_line"] = len(bad_lines)
            lines, is_valid = _merge_bad_lines(bad_lines, lines, is_valid, records)
        total, valid = len(lines), int(is_valid.sum())
        schemes = {
            s: int(c)
            for s, c in zip(SCHEME_IDS[1:], np.bincount(code.scheme, minlength=4)[1:], strict=True)
            if c
        }
        return BankRecordsResult(
            line_number=lines,
            is_valid=is_valid,
            total=total,
            valid=valid,
            invalid=total - valid,
            warned=len(warnings),
            problems_by_kind=by_kind,
            warnings_by_kind=warnings_by_kind,
            schemes=schemes,
            main_scheme=code.main,
            columns=dict(self.columns),
            **records,
        )

    def _code_issues(self, name: str, column: _Codes) -> None:
        self.add(f"{name}_missing", np.flatnonzero(column.missing), {"field": name})
        by_kind: dict[str, list[int]] = {}
        for i, (suffix, _params) in column.problems.items():
            by_kind.setdefault(f"{name}_{suffix}", []).append(i)
        for kind in ERRORS:  # in the catalogue's order, so a line's messages read alike
            if kind in by_kind:
                self.add(kind, by_kind[kind], lambda i, c=column: {"field": name, **c.problems[i][1]})
        self._normalised(name, column.normalised, column.values)

    def _normalised(self, name: str, written: dict[int, str], values: list[str]) -> None:
        self.add(
            "code_normalised",
            sorted(written),
            lambda i: {"field": name, "raw": written[i], "code": values[i]},
        )

    def _category_mismatch(self, code: _Codes, clearing: _Codes) -> None:
        both = (code.scheme == 1) & (clearing.scheme == 1)
        if not both.any():
            return
        head_a = pc.utf8_slice_codeunits(code.raw, 0, CATEGORY_DIGITS)
        head_b = pc.utf8_slice_codeunits(clearing.raw, 0, CATEGORY_DIGITS)
        differ = both & ~pc.equal(head_a, head_b).to_numpy(zero_copy_only=False)
        for i in set(code.normalised) | set(clearing.normalised):  # compare the codes as read
            if both[i]:
                differ[i] = code.values[i][:CATEGORY_DIGITS] != clearing.values[i][:CATEGORY_DIGITS]
        self.add(
            "category_mismatch",
            np.flatnonzero(differ),
            lambda i: {
                "clearing": clearing.values[i][:CATEGORY_DIGITS],
                "code": code.values[i][:CATEGORY_DIGITS],
            },
        )

    def _bic(self, code: _Codes) -> list[str]:
        """The BIC of each line: the bic column's (checked as a BIC), else a BIC bank code."""
        column = self.text("bic")
        if column is None:
            out = [""] * self.n
            for i in np.flatnonzero(code.scheme == 2).tolist():
                out[i] = code.values[i]
            return out
        out = column.to_pylist()
        problems: dict[str, list[int]] = {"bic_format": [], "bic_country": []}
        params: dict[int, dict] = {}
        written: dict[int, str] = {}
        for i, value in enumerate(out):
            if not value:
                continue
            v = codes.judge(value, codes.BIC)
            if v.problem:
                kind = "bic_country" if v.problem == "country" else "bic_format"
                problems[kind].append(i)
                params[i] = {"field": "bic", "code": v.code, **v.params}
            elif v.normalised:
                written[i] = value
            out[i] = v.code[:MAX_CODE_CHARS]
        for kind, rows in problems.items():
            self.add(kind, rows, params.__getitem__)
        self._normalised("bic", written, out)
        return out

    def _country(self, code: _Codes) -> list[str]:
        """Each line's country: the country column's (as an ISO 3166-1 alpha-2 code when it
        names one), else the country the code names."""
        out = np.full(self.n, "", dtype=object)
        out[code.scheme == 1] = "CN"  # CNAPS is the People's Bank of China's system
        for i, country in code.country.items():
            out[i] = country
        column = self.text("country")
        if column is None or self.n == 0:
            return out.tolist()
        encoded = column.dictionary_encode()
        distinct: list[str] = encoded.dictionary.to_pylist()
        idx = encoded.indices.to_numpy(zero_copy_only=False)
        alpha2 = [codes.country_of(v) if v else None for v in distinct]  # a few distinct values
        read = np.array(
            [a or v[: MAX_CHARS["country"]] for a, v in zip(alpha2, distinct, strict=True)], object
        )
        given = np.array([bool(v) for v in distinct], bool)[idx]
        known = np.array([a is not None for a in alpha2], bool)[idx]
        derived = out.copy()
        out[given] = read[idx][given]
        self.add("country_unknown", np.flatnonzero(given & ~known), lambda i: {"value": distinct[idx[i]]})
        clash = np.flatnonzero(known & (derived != "") & (out != derived))
        self.add(
            "country_mismatch",
            clash,
            lambda i: {
                "country": out[i],
                "field": "bank_code",
                "code": code.values[i],
                "code_country": derived[i],
            },
        )
        return out.tolist()

    def _plain(self, name: str) -> list[str]:
        column = self.text(name)
        if column is None:
            return [""] * self.n
        return _capped(
            column, MAX_CHARS[name], pc.utf8_length(column).to_numpy(zero_copy_only=False)
        ).to_pylist()

    def _assemble(self) -> tuple[dict[int, list], dict[int, list], dict[str, int], dict[str, int]]:
        """The issues per line (errors, warnings) and the lines per kind."""
        errors: dict[int, list] = {}
        warnings: dict[int, list] = {}
        errors_by_kind: dict[str, int] = {}
        warnings_by_kind: dict[str, int] = {}
        for kind, rows, params in self.issues:
            as_error = kind in ERRORS or kind in self.error_rules
            if not as_error and kind not in WARNINGS:
                raise ValueError(f"unknown issue kind {kind!r}")
            target, counts = (errors, errors_by_kind) if as_error else (warnings, warnings_by_kind)
            rows = rows.tolist() if isinstance(rows, np.ndarray) else list(rows)
            counts[kind] = len(rows)
            for i in rows:
                target.setdefault(i, []).append([kind, params(i) if callable(params) else params])
        return errors, warnings, errors_by_kind, warnings_by_kind


def _capped(values: pa.Array, limit: int, lengths: np.ndarray) -> pa.Array:
    """Values cut to ``limit`` characters (what the record table can hold)."""
    return pc.utf8_slice_codeunits(values, 0, limit) if lengths.size and lengths.max() > limit else values


def _extra_values(table: pa.Table, names: list[str]) -> list[dict]:
    """The other columns of each row as text (JSON-safe), nulls as None."""
    arrays = []
    for name in names:
        column = table.column(name)
        arrays.append(column if pa.types.is_string(column.type) else column.cast(pa.string()))
    return pa.table(arrays, names=names).to_pylist()


def _merge_bad_lines(
    bad_lines: list[BadLine], lines: np.ndarray, is_valid: np.ndarray, records: dict[str, list | None]
) -> tuple[np.ndarray, np.ndarray]:
    """Insert the unsplittable lines as invalid records with empty fields, keeping line order
    (``records``' lists are replaced in place)."""
    bad_at = np.array([b.line for b in bad_lines], np.int64)
    order = np.argsort(np.concatenate((lines, bad_at)), kind="stable").tolist()
    k = len(bad_lines)
    problems = [[["bad_line", {"reason": {"t": b.template, "p": b.params}}]] for b in bad_lines]
    fillers: dict[str, list] = {
        "extra": [{} for _line in bad_lines],
        "error_message": [render_all(p) for p in problems],
        "problems": problems,
        "warnings": [()] * k,
    }
    for key, values in records.items():
        if values is None:
            continue
        joined = values + fillers.get(key, [""] * k)
        records[key] = [joined[i] for i in order]
    return np.concatenate((lines, bad_at))[order], np.concatenate((is_valid, np.zeros(k, bool)))[order]
