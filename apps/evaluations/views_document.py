"""The model document of a version: the analyst page (HTML, print-ready) and its PDF download."""

from __future__ import annotations

from contextlib import nullcontext

from django.conf import settings
from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.http import content_disposition_header

from apps.core.errors import Invalid
from apps.models import selectors as model_selectors
from apps.models.models import ModelVersion

from .document import document_filename, document_options, document_pdf, version_document

# The document shows a version and its evaluations: reading it takes reading both.
DOCUMENT_PERMS = ("models.view_modelversion", "evaluations.view_evaluation")


def document_response(
    request: HttpRequest, version: ModelVersion, fmt: str, lang: str | None
) -> HttpResponse:
    """The document of ``version`` as the page (``html``) or a PDF attachment (``pdf``), in
    ``lang`` (None: the reader's language) without changing the reader's own setting."""
    with translation.override(lang) if lang else nullcontext():
        doc = version_document(version)
        if fmt == "pdf":
            response = HttpResponse(document_pdf(doc), content_type="application/pdf")
            response["Content-Disposition"] = content_disposition_header(
                as_attachment=True, filename=document_filename(doc, ".pdf")
            )
        else:
            other = [(code, name) for code, name in settings.LANGUAGES if code != doc["language"]]
            body = render_to_string(
                "evaluations/document.html",
                {"doc": doc, "version": version, "other_languages": other},
                request,
            )
            response = HttpResponse(body, content_type="text/html; charset=utf-8")
    response["Content-Language"] = doc["language"]
    return response


@login_required
@permission_required(DOCUMENT_PERMS, raise_exception=True)
def version_document_page(request: HttpRequest, version_id: int) -> HttpResponse:
    version = get_object_or_404(model_selectors.versions(), pk=version_id)
    try:
        fmt, lang = document_options(request.GET.get("format"), request.GET.get("lang"))
    except Invalid as exc:
        return HttpResponseBadRequest(exc.message, content_type="text/plain; charset=utf-8")
    return document_response(request, version, fmt, lang)
