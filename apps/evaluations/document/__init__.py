"""The model document of a model version: purpose, data, quality, features, card or
parameters, training, evaluation, stability, reason codes and approvals, for validators and
regulators, as an HTML page and a PDF in Chinese or English.

``version_document`` gathers it (``content``), ``document_pdf`` prints it (``pdf``);
``document_options`` checks what a request asks for, for the page and the API alike.
"""

from __future__ import annotations

import re

from django.conf import settings
from django.utils.translation import gettext

from apps.core.errors import Invalid

from .content import version_document
from .pdf import document_pdf

FORMATS = ("html", "pdf")

__all__ = ["FORMATS", "document_filename", "document_options", "document_pdf", "version_document"]


def document_options(fmt: str | None, lang: str | None) -> tuple[str, str | None]:
    """``(format, language)`` from the request's ``format`` and ``lang``: ``html`` when no
    format is given, the reader's own language when no ``lang`` is. Raises ``Invalid``."""
    languages = [code for code, _name in settings.LANGUAGES]
    errors = {}
    fmt = fmt or "html"
    if fmt not in FORMATS:
        errors["format"] = [
            gettext("Unknown format %(format)s; one of %(choices)s.")
            % {"format": repr(fmt), "choices": ", ".join(FORMATS)}
        ]
    if lang is not None and lang not in languages:
        errors["lang"] = [
            gettext("Unknown language %(lang)s; one of %(choices)s.")
            % {"lang": repr(lang), "choices": ", ".join(languages)}
        ]
    if errors:
        raise Invalid(errors=errors)
    return fmt, lang or None


def document_filename(doc: dict, suffix: str) -> str:
    """``<model>-v<N>-document-<lang><suffix>``: the model's name kept to letters, digits, ``-``
    and ``_`` (Chinese letters too), so the header needs no quoting beyond RFC 6266's."""
    name = re.sub(r"[^\w-]+", "_", doc["model"]).strip("_") or f"model-{doc['version_id']}"
    return f"{name}-v{doc['version']}-document-{doc['language']}{suffix}"
