"""camelCase JSON, with successful writes wrapped as {success, data, message}."""

from __future__ import annotations

from djangorestframework_camel_case.render import CamelCaseJSONRenderer

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
