"""Content negotiation for endpoints where ``?format=`` names what to export, not a renderer."""

from __future__ import annotations

from rest_framework.negotiation import DefaultContentNegotiation


class FormatIsData(DefaultContentNegotiation):
    """``?format=`` is the endpoint's own parameter (a document's or an export's format): the
    answer is rendered by the view's first renderer, errors in the API's JSON error format."""

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type
