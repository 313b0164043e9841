"""A card as one SQL SELECT: each row's total points and P(event), from raw column values.

Quoting and literals per dialect:
- PostgreSQL: identifiers in double quotes, a double quote doubled (manual, 4.1.1
  "Identifiers and Key Words"); strings in single quotes, a quote doubled, a backslash is a
  plain character (4.1.2.1 "String Constants", standard_conforming_strings on, the default
  since 9.1).
- MySQL: identifiers in backticks, a backtick doubled (reference manual, "Schema Object
  Names"); strings in single quotes with a quote doubled and a backslash escaped as ``\\\\``
  ("String Literals": the backslash is an escape character unless the server runs with
  NO_BACKSLASH_ESCAPES, which this export assumes it does not).
- Hive: identifiers in backticks, a backtick doubled (quoted identifiers, HIVE-6013);
  strings use C-style escapes, ``\\'`` and ``\\\\`` (LanguageManual "Literals"), which also
  says floating point literals have no scientific notation: numbers are written out in
  plain decimals for every dialect (the digits of ``repr``, so each parses to the same double).
- SQLite: as PostgreSQL ("SQLite Keywords"; "Literal Values" in the expression syntax).

Numbers are compared with the break values as ``[lower, upper)`` intervals, as the card's
scoring does; NULL (and PostgreSQL's float NaN) scores as missing; a category no bin names
scores as missing. The inner SELECT adds ``points`` to the table's columns and the outer
one adds ``probability`` = 1 / (1 + EXP((points - offset) / factor)); a table that already
has a column named ``points`` or ``probability`` needs a view that renames it.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from .binning import INTERVAL, MISSING, SPECIAL

DIALECTS = ("postgresql", "mysql", "hive", "sqlite")


def _identifier(name: str, dialect: str) -> str:
    if dialect in ("mysql", "hive"):
        return "`" + name.replace("`", "``") + "`"
    return '"' + name.replace('"', '""') + '"'


def _string(value: str, dialect: str) -> str:
    if dialect == "mysql":
        return "'" + value.replace("\\", "\\\\").replace("'", "''") + "'"
    if dialect == "hive":
        escaped = value.replace("\\", "\\\\").replace("'", "\\'")
        return "'" + escaped.replace("\n", "\\n").replace("\r", "\\r") + "'"
    return "'" + value.replace("'", "''") + "'"


def _number(value: float) -> str:
    """A finite float as a plain decimal literal with ``repr``'s digits (round-trips exactly)."""
    text = repr(float(value))
    if "e" in text or "E" in text:
        text = format(Decimal(text), "f")
    if "." not in text:
        text += ".0"
    return text


def _feature_case(feature: dict[str, Any], column: str, levels: list[str] | None, dialect: str) -> str:
    bins = feature["bins"]
    points = [_number(b["points"]) for b in bins]
    missing = points[next(i for i, b in enumerate(bins) if b["kind"] == MISSING)]
    lines = [f"WHEN {column} IS NULL THEN {missing}"]
    if levels is None:
        if dialect == "postgresql":  # a float column may hold NaN, which sorts above every number
            lines.append(
                f"WHEN CAST({column} AS DOUBLE PRECISION) = CAST('NaN' AS DOUBLE PRECISION) THEN {missing}"
            )
        for b, p in zip(bins, points, strict=True):
            if b["kind"] == SPECIAL:
                values = ", ".join(_number(v) for v in b["values"])
                lines.append(f"WHEN {column} IN ({values}) THEN {p}")
        intervals = [(b, p) for b, p in zip(bins, points, strict=True) if b["kind"] == INTERVAL]
        for b, p in intervals[:-1]:
            lines.append(f"WHEN {column} < {_number(b['upper'])} THEN {p}")
        last = intervals[-1][1]
    else:
        known = set(levels)
        for b, p in zip(bins, points, strict=True):
            values = [v for v in b["values"] if v in known] if b["kind"] != MISSING else []
            if values:
                listed = ", ".join(_string(v, dialect) for v in values)
                lines.append(f"WHEN {column} IN ({listed}) THEN {p}")
        last = missing
    body = "\n      ".join(lines)
    return f"(CASE\n      {body}\n      ELSE {last}\n    END)"


def card_sql(
    card: dict[str, Any], dialect: str, *, table: str = "applicants", columns: dict[str, str] | None = None
) -> str:
    """One SELECT computing ``points`` (and ``probability``) for every row of ``table``.

    ``columns`` maps a feature name to its column in ``table`` (default: the same name);
    ``table`` may be ``schema.table`` (each part is quoted). Dialects: postgresql, mysql,
    hive, sqlite.
    """
    if dialect not in DIALECTS:
        raise ValueError(f"unknown SQL dialect {dialect!r}; expected one of {', '.join(DIALECTS)}")
    columns = columns or {}
    levels = card.get("categoricalLevels", {})
    terms = []
    for f in card["features"]:
        column = _identifier(columns.get(f["name"], f["name"]), dialect)
        feature_levels = levels[f["name"]] if f["kind"] == "categorical" else None
        terms.append(_feature_case(f, column, feature_levels, dialect))
    source = ".".join(_identifier(part, dialect) for part in table.split("."))
    points = "\n    + ".join(terms)
    scale = card["scaling"]
    offset, factor = _number(scale["offset"]), _number(scale["factor"])
    # Aliases without AS: the one spelling all four dialects accept for tables and subqueries.
    # Every identifier and literal in it is quoted for the dialect (S608 looks at the shape only).
    return (
        "-- OMM scorecard: total points and P(event) per row\n"  # noqa: S608
        f"SELECT scored.*, 1.0 / (1.0 + EXP((scored.points - {offset}) / {factor})) AS probability\n"
        "FROM (\n"
        f"  SELECT t.*,\n    {points}\n    AS points\n"
        f"  FROM {source} t\n"
        ") scored"
    )
