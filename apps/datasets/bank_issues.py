"""What can be wrong with a line of a bank-records file: each issue's machine kind, its
level and its message template.

A line is invalid only when it cannot be used: a missing or malformed field, a duplicate
code, a line the reader could not split. Those kinds are errors. A rule that no published
standard states is a warning, kept on the line and counted; an admin may turn a warning
kind into an error for one dataset (``Dataset.error_rules``).

A record stores its issues as ``[kind, params]`` pairs; :func:`render` writes the message
in the reader's language (the caller passes its ``gettext``). Templates are marked with a
local ``_`` so that the project's catalogue extracts them.

Pure module: no Django import.
"""

from __future__ import annotations

from collections.abc import Callable

ERROR, WARNING = "error", "warning"


def _(text: str) -> str:
    """Marks a message for extraction; translated where it is shown."""
    return text


# Field names in messages: the column identifiers in English, the glossary's terms in Chinese.
FIELD_LABELS = {
    "bank_name": _("bank_name"),
    "bank_code": _("bank_code"),
    "clearing_code": _("clearing_code"),
    "bic": _("bic"),
    "country": _("country"),
}
SCHEME_LABELS = {"cnaps": _("CNAPS"), "bic": _("BIC/SWIFT"), "national": _("national")}

_CODE_ERRORS = {
    "missing": _("%(field)s: missing"),
    "too_long": _("%(field)s: longer than %(limit)s characters"),
    "format": _("%(field)s: must be 12 digits"),
    "leading_zeros": _(
        "%(field)s: %(digits)s digits where a CNAPS code has 12 digits: looks like a code that lost its "
        "leading zero(s) in a spreadsheet (it would be %(padded)s); store the column as text"
    ),
    "bic_format": _(
        "%(field)s: %(code)s is not a BIC (ISO 9362: 4 letters, a 2-letter country code, "
        "2 letters or digits, optionally 3 more)"
    ),
    "national_format": _(
        "%(field)s: %(code)s is not a bank code (letters and digits, in groups separated by - . / or a space)"
    ),
    "unrecognised": _(
        "%(field)s: %(code)s is neither a CNAPS code (12 digits), a BIC (ISO 9362) nor a national bank code"
    ),
    "scheme": _("%(field)s: %(code)s is a %(found)s code, but the dataset's code scheme is %(declared)s"),
    "country": _("%(field)s: %(country)s in BIC %(code)s is not an ISO 3166-1 country code"),
}
CODE_FIELDS = ("bank_code", "clearing_code")

# kind -> template, for the kinds that always make a line invalid.
ERRORS: dict[str, str] = {
    "bank_name_missing": _CODE_ERRORS["missing"],
    "bank_name_too_long": _CODE_ERRORS["too_long"],
    **{f"{f}_{suffix}": template for f in CODE_FIELDS for suffix, template in _CODE_ERRORS.items()},
    "bic_format": _CODE_ERRORS["bic_format"],
    "bic_country": _CODE_ERRORS["country"],
    "duplicate_bank_code": _("duplicate bank_code, first on line %(line)s"),
    "bad_line": _("line could not be read: %(reason)s"),
}

# kind -> template, for the rules no published standard states: warnings by default.
WARNINGS: dict[str, str] = {
    "code_normalised": _("%(field)s: %(raw)s read as %(code)s"),
    "scheme_mixed": _("%(field)s: a %(scheme)s code, while most codes of the file are %(main)s"),
    "category_mismatch": _("clearing_code: bank category %(clearing)s differs from bank_code's %(code)s"),
    "duplicate_name": _("bank_name: also on line %(line)s"),
    "country_unknown": _("country: %(value)s is not an ISO 3166-1 country"),
    "country_mismatch": _("country: %(country)s, but %(field)s %(code)s is of %(code_country)s"),
}
WARNING_KINDS = tuple(WARNINGS)
TEMPLATES = {**ERRORS, **WARNINGS}

_SCHEME_PARAMS = frozenset({"found", "declared", "scheme", "main"})


def _identity(text: str) -> str:
    return text


def render_template(template: str, params: dict, translate: Callable[[str], str] = _identity) -> str:
    """``translate(template) % params``, with nested messages (``{"t": ..., "p": ...}``, or
    a list of them joined by ", "), field and scheme names translated too. Falls back to
    the untranslated template when a translation lost a placeholder."""
    values: dict[str, object] = {}
    for key, value in params.items():
        if isinstance(value, dict) and "t" in value:
            values[key] = render_template(value["t"], value.get("p") or {}, translate)
        elif isinstance(value, list):
            values[key] = ", ".join(render_template(v["t"], v.get("p") or {}, translate) for v in value)
        elif key == "field" and value in FIELD_LABELS:
            values[key] = translate(FIELD_LABELS[value])
        elif key in _SCHEME_PARAMS and value in SCHEME_LABELS:
            values[key] = translate(SCHEME_LABELS[value])
        else:
            values[key] = value
    if not values:
        return translate(template)
    try:
        return translate(template) % values
    except (KeyError, TypeError, ValueError):
        return template % values


def render(kind: str, params: dict | None = None, translate: Callable[[str], str] = _identity) -> str:
    """The message of one issue ``[kind, params]``; an unknown kind reads as itself."""
    template = TEMPLATES.get(kind)
    if template is None:
        return kind
    return render_template(template, params or {}, translate)


def render_all(issues, translate: Callable[[str], str] = _identity) -> str:
    """A line's issues as one text, joined by "; " (as ``DatasetRecord.error_message``)."""
    return "; ".join(render(kind, params, translate) for kind, params in issues)
