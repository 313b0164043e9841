"""The prediction answer's renderer: the envelope without re-casing."""

from __future__ import annotations

from rest_framework.renderers import JSONRenderer

from apps.core.api.renderers import OMMJSONRenderer


class PredictionRenderer(OMMJSONRenderer):
    """``serving.predict`` builds its answer camelCase and its scores and labels are data, so
    a scored answer only gets the write envelope; walking a 10,000-score list to re-case
    nothing cost more than encoding it. Errors go through OMM's renderer as everywhere."""

    def render(self, data, accepted_media_type=None, renderer_context=None):
        response = (renderer_context or {}).get("response")
        if response is None or response.status_code != 200 or getattr(response, "omm_enveloped", False):
            return super().render(data, accepted_media_type, renderer_context)
        body = {"success": True, "data": data, "message": getattr(response, "message", "")}
        return JSONRenderer.render(self, body, accepted_media_type, renderer_context)
