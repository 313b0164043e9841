"""Portable exports of a model version, each checked against OMM's own scores on the
version's holdout rows before it is handed out.

- ``onnx``: LightGBM and scikit-learn models (``apps.models.exports``), as a zip of
  ``model.onnx``, ``schema.json`` (what to feed it) and ``check.json`` (the agreement).
- ``sql``: scorecards, one SELECT per dialect (PostgreSQL, MySQL, Hive; SQLite), run on the
  holdout rows in SQLite, and in PostgreSQL when that is the platform's database.
"""

from __future__ import annotations

import io
import json
import sqlite3
import zipfile
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
from django.db import connection, transaction
from django.utils.translation import gettext

from . import exports, training, training_tasks
from .errors import ExportRefused
from .models import ModelVersion
from .services import version_load
from .texts import problem_text

FORMATS = ("onnx", "sql")
# Exports are checked on at most this many holdout rows.
CHECK_ROWS = exports.MAX_CHECK_ROWS
TOLERANCE = exports.TOLERANCE


@dataclass
class ExportFile:
    content: bytes
    filename: str
    content_type: str
    check: dict[str, Any]


def version_export(*, version: ModelVersion, fmt: str, dialect: str = "postgresql") -> ExportFile:
    """The version as ``fmt`` (see the module doc); raises ExportRefused."""
    if fmt not in FORMATS:
        raise ExportRefused(
            gettext("Unknown export format %(format)s; choose one of %(choices)s.")
            % {"format": repr(fmt), "choices": ", ".join(FORMATS)}
        )
    artifact, model = version_load(version=version)
    if fmt == "sql":
        return _sql(version, artifact.format, model, dialect)
    return _onnx(version, artifact.format, model, artifact.meta)


def _stem(version: ModelVersion) -> str:
    return f"{version.model.name}-v{version.version}"


def _holdout(version: ModelVersion) -> pa.Table:
    table = training_tasks.holdout_of(version)
    if table is None or table.num_rows == 0:
        raise ExportRefused(
            gettext(
                "%(version)s has no training rows to check an export on (it was uploaded, or its "
                "dataset is gone)."
            )
            % {"version": version}
        )
    return table.slice(0, CHECK_ROWS)


def _onnx(version: ModelVersion, model_format: str, model: Any, meta: dict) -> ExportFile:
    if model_format not in exports.EXPORT_FORMATS:
        raise ExportRefused(
            gettext("%(version)s (%(format)s) has no ONNX converter; ONNX exports are made of %(formats)s.")
            % {"version": version, "format": model_format, "formats": ", ".join(exports.EXPORT_FORMATS)}
        )
    X = training.feature_matrix(_holdout(version), meta)
    try:
        made = exports.onnx_export(model_format, model, meta, X)
    except exports.ExportError as exc:
        raise ExportRefused(problem_text(exc)) from None
    check = {
        "rowsChecked": made.rows_checked,
        "maxAbsDiff": made.max_abs_diff,
        "tolerance": TOLERANCE,
        "opset": made.opset,
        "libraryVersions": made.library_versions,
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("model.onnx", made.onnx_bytes)
        zf.writestr("schema.json", json.dumps(exports.export_schema(meta), ensure_ascii=False, indent=2))
        zf.writestr("check.json", json.dumps(check, indent=2))
    return ExportFile(buffer.getvalue(), f"{_stem(version)}-onnx.zip", "application/zip", check)


def _sql(version: ModelVersion, model_format: str, card: Any, dialect: str) -> ExportFile:
    if model_format != training.SCORECARD_FORMAT:
        raise ExportRefused(
            gettext("%(version)s is not a scorecard; SQL exports are made of scorecards.")
            % {"version": version}
        )
    if dialect not in training.scorecard.DIALECTS:
        raise ExportRefused(
            gettext("Unknown SQL dialect %(dialect)s; choose one of %(choices)s.")
            % {"dialect": repr(dialect), "choices": ", ".join(training.scorecard.DIALECTS)}
        )
    holdout = _holdout(version)
    meta = {
        "features": card["columns"],
        "categorical_levels": card.get("categoricalLevels") or {},
        "objective": "binary",
    }
    expected = training.scorecard.card_points(card, training.feature_matrix(holdout, meta))
    columns = _raw_columns(card, holdout)
    checks = {"sqlite": _max_diff(_run_sqlite(card, columns), expected)}
    if connection.vendor == "postgresql":
        checks["postgresql"] = _max_diff(_run_postgresql(card, columns), expected)
    worst = max(checks.values())
    check = {"rowsChecked": len(expected), "maxAbsDiff": worst, "tolerance": TOLERANCE, "ranOn": checks}
    if not worst <= TOLERANCE:
        raise ExportRefused(
            gettext("The SQL export disagrees with OMM's points by %(diff)s; it is not handed out.")
            % {"diff": f"{worst:.3g}"}
        )
    sql = training.scorecard.card_sql(card, dialect)
    header = (
        f"-- {version.model.name} v{version.version}: scorecard points and P(event) ({dialect}).\n"
        f"-- Checked on {len(expected)} holdout rows: max |SQL - OMM| = {worst:.3g}.\n"
    )
    return ExportFile(
        (header + sql + "\n").encode(), f"{_stem(version)}-{dialect}.sql", "application/sql", check
    )


def _raw_columns(card: dict, table: pa.Table) -> dict[str, list]:
    """The card's input columns as plain values (text for categorical ones)."""
    categorical = set(card.get("categoricalLevels") or {})
    out = {}
    for name in card["columns"]:
        column = table.column(name)
        if name in categorical and not pa.types.is_string(column.type):
            column = column.cast(pa.string())
        values = column.to_pylist()
        out[name] = [None if isinstance(v, float) and v != v else v for v in values]
    return out


def _max_diff(got: list, expected: np.ndarray) -> float:
    values = np.array([np.nan if v is None else float(v) for v in got])
    if values.shape != expected.shape or np.isnan(values).any():
        return float("inf")
    return float(np.max(np.abs(values - expected))) if len(values) else 0.0


def _run_sqlite(card: dict, columns: dict[str, list]) -> list:
    db = sqlite3.connect(":memory:")
    names = list(columns)
    quoted = ", ".join('"' + n.replace('"', '""') + '"' for n in names)
    db.execute(f'CREATE TABLE applicants ("omm_row" INTEGER, {quoted})')
    rows = zip(range(len(next(iter(columns.values()), []))), *columns.values(), strict=True)
    db.executemany(f"INSERT INTO applicants VALUES ({', '.join('?' * (len(names) + 1))})", rows)  # noqa: S608
    sql = training.scorecard.card_sql(card, "sqlite")
    got = db.execute(f'SELECT points FROM ({sql}) AS scored ORDER BY "omm_row"').fetchall()  # noqa: S608
    db.close()
    return [r[0] for r in got]


def _run_postgresql(card: dict, columns: dict[str, list]) -> list:
    """The postgresql dialect run in the platform's own database, in a temporary table."""
    categorical = set(card.get("categoricalLevels") or {})
    names = list(columns)
    defs = ", ".join(
        '"' + n.replace('"', '""') + '" ' + ("text" if n in categorical else "double precision")
        for n in names
    )
    sql = training.scorecard.card_sql(card, "postgresql", table="omm_export_check")
    with transaction.atomic(), connection.cursor() as cursor:
        # Dropped here too: inside an outer transaction, ON COMMIT DROP would come too late.
        cursor.execute("DROP TABLE IF EXISTS omm_export_check")
        cursor.execute(f'CREATE TEMPORARY TABLE omm_export_check ("omm_row" integer, {defs}) ON COMMIT DROP')
        rows = list(zip(range(len(next(iter(columns.values()), []))), *columns.values(), strict=True))
        placeholders = ", ".join(["%s"] * (len(names) + 1))
        cursor.executemany(f"INSERT INTO omm_export_check VALUES ({placeholders})", rows)  # noqa: S608
        cursor.execute(f'SELECT points FROM ({sql}) AS scored ORDER BY "omm_row"')  # noqa: S608
        got = [r[0] for r in cursor.fetchall()]
        cursor.execute("DROP TABLE omm_export_check")
    return got
