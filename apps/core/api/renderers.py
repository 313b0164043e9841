"""camelCase JSON, with successful writes wrapped as {success, data, message}."""

from __future__ import annotations

from djangorestframework_camel_case.render import CamelCaseJSONRenderer
from rest_framework.renderers import JSONRenderer

WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


class OMMJSONRenderer(CamelCaseJSONRenderer):
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        renderer_context = renderer_context or {}
        response = renderer_context.get("response")
        request = renderer_context.get("request")
        if (
            response is not None
            and request is not None
            and request.method in WRITE_METHODS
            and response.status_code < 400
            and response.status_code != 204
            and not getattr(response, "omm_enveloped", False)
        ):
            data = {"success": True, "data": data, "message": getattr(response, "message", "")}
        return super().render(data, accepted_media_type, renderer_context)


class AsBuiltRenderer(OMMJSONRenderer):
    """For hot endpoints (predict, ask) whose views build their answer camelCase already:
    a successful answer only gets the write envelope. Walking it to re-case nothing cost
    more than encoding it (a 10,000-score list), and scores, labels and feature names are
    data, never re-cased. Errors go through OMM's renderer as everywhere."""

    def render(self, data, accepted_media_type=None, renderer_context=None):
        response = (renderer_context or {}).get("response")
        if response is None or response.status_code != 200 or getattr(response, "omm_enveloped", False):
            return super().render(data, accepted_media_type, renderer_context)
        body = {"success": True, "data": data, "message": getattr(response, "message", "")}
        return JSONRenderer.render(self, body, accepted_media_type, renderer_context)
