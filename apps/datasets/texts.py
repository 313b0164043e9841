"""The datasets' stored messages in the reader's language.

Validation stores English templates with their parameters (bank-record issues as
``[kind, params]``, a version's error and problems as ``{"t": template, "p": params}``); the
pages, the admin and the API show them through these functions, translated with the
request's language. Rows written before messages were stored that way keep their English
text.
"""

from __future__ import annotations

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from . import bank_issues
from .models import CodeScheme, WarningRule

# A short name per error kind, for the counts tables and filters.
ERROR_LABELS = {
    "bank_name_missing": _("Bank name missing"),
    "bank_name_too_long": _("Bank name too long"),
    "bank_code_missing": _("Bank code missing"),
    "bank_code_too_long": _("Bank code too long"),
    "bank_code_format": _("Bank code not 12 digits"),
    "bank_code_leading_zeros": _("Bank code lost its leading zeros"),
    "bank_code_bic_format": _("Bank code not a BIC"),
    "bank_code_national_format": _("Bank code not a national bank code"),
    "bank_code_unrecognised": _("Bank code in no known scheme"),
    "bank_code_scheme": _("Bank code in another scheme than the dataset's"),
    "bank_code_country": _("Bank code's BIC country not in ISO 3166-1"),
    "clearing_code_missing": _("Clearing code missing"),
    "clearing_code_too_long": _("Clearing code too long"),
    "clearing_code_format": _("Clearing code not 12 digits"),
    "clearing_code_leading_zeros": _("Clearing code lost its leading zeros"),
    "clearing_code_bic_format": _("Clearing code not a BIC"),
    "clearing_code_national_format": _("Clearing code not a national bank code"),
    "clearing_code_unrecognised": _("Clearing code in no known scheme"),
    "clearing_code_scheme": _("Clearing code in another scheme than the dataset's"),
    "clearing_code_country": _("Clearing code's BIC country not in ISO 3166-1"),
    "bic_format": _("BIC malformed"),
    "bic_country": _("BIC country not in ISO 3166-1"),
    "duplicate_bank_code": _("Duplicate bank code"),
    "bad_line": _("Line could not be read"),
}
assert set(ERROR_LABELS) == set(bank_issues.ERRORS), "every error kind needs a label"
KIND_LABELS = {**ERROR_LABELS, **dict(WarningRule.choices)}
SCHEME_LABELS = dict(CodeScheme.choices)


def kind_label(kind: str) -> str:
    return str(KIND_LABELS.get(kind, kind))


def issue_text(kind: str, params: dict | None = None) -> str:
    return bank_issues.render(kind, params, gettext)


def issues(pairs) -> list[dict]:
    """A record's stored issues as ``{"kind", "message"}`` in the reader's language."""
    return [{"kind": kind, "message": issue_text(kind, params)} for kind, params in pairs or []]


def record_error_text(record) -> str:
    """Why a record is invalid, in the reader's language ("" when valid)."""
    if record.problems:
        return bank_issues.render_all(record.problems, gettext)
    return record.error_message


def record_warning_text(record) -> str:
    return bank_issues.render_all(record.warnings or [], gettext)


def message_text(stored: dict | None, fallback: str = "") -> str:
    """A stored ``{"t": template, "p": params}`` in the reader's language."""
    if stored and stored.get("t"):
        return bank_issues.render_template(stored["t"], stored.get("p") or {}, gettext)
    return fallback


def alert_shown(alert: dict) -> dict:
    """A quality alert with its message in the reader's language (no template fields)."""
    shown = {k: v for k, v in alert.items() if k not in ("t", "p")}
    shown["message"] = message_text(alert, alert.get("message", ""))
    return shown


def quality_shown(quality: dict | None) -> dict:
    """A version's quality report with its alerts in the reader's language."""
    quality = quality or {}
    return {**quality, "alerts": [alert_shown(a) for a in quality.get("alerts", [])]}


def version_error_text(version) -> str:
    """Why a version ended in error, in the reader's language."""
    return message_text((version.validation_result or {}).get("error"), version.error_message)


def problem_text(problem: dict) -> str:
    """One entry of ``validation_result.problems`` in the reader's language."""
    if problem.get("issues"):
        return bank_issues.render_all(problem["issues"], gettext)
    return message_text(problem, problem.get("message", ""))


def validation_result_shown(result: dict | None) -> dict | None:
    """A version's validation result with its problems' messages translated."""
    if not result or not result.get("problems"):
        return result
    problems = [
        {k: v for k, v in {**p, "message": problem_text(p)}.items() if k not in ("t", "p")}
        for p in result["problems"]
    ]
    return {**result, "problems": problems}


def kind_counts(result: dict | None) -> list[dict]:
    """Lines per problem and warning kind of a bank-records validation, errors first."""
    result = result or {}
    rows = [
        {"kind": kind, "label": kind_label(kind), "level": level, "count": count}
        for level, counts in (
            ("error", result.get("problemsByKind")),
            ("warning", result.get("warningsByKind")),
        )
        for kind, count in (counts or {}).items()
    ]
    return sorted(rows, key=lambda r: (r["level"] != "error", -r["count"], r["kind"]))


def scheme_counts(result: dict | None) -> list[dict]:
    """Lines per code scheme of a bank-records validation, most first."""
    counts = (result or {}).get("schemes") or {}
    return [
        {"scheme": scheme, "label": str(SCHEME_LABELS.get(scheme, scheme)), "count": count}
        for scheme, count in sorted(counts.items(), key=lambda kv: -kv[1])
    ]
