"""OpenAPI post-processing: describe the envelope and the error format once for all."""

from __future__ import annotations

WRITE_METHODS = {"post", "put", "patch", "delete"}
ERROR_STATUSES = {
    "400": "Invalid input",
    "401": "Not authenticated or token invalid",
    "403": "Permission denied",
    "404": "Not found",
}

ERROR_SCHEMA = {
    "type": "object",
    "description": "The one error format of every failure.",
    "required": ["success", "status", "code", "message", "errors"],
    "properties": {
        "success": {"type": "boolean", "enum": [False]},
        "status": {"type": "integer", "example": 400},
        "code": {"type": "string", "example": "validation_error"},
        "message": {"type": "string"},
        "errors": {
            "type": "object",
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
            "description": "Messages per field (camelCase), or nonFieldErrors.",
        },
    },
}


def envelope_hook(result: dict, generator, request, public) -> dict:
    components = result.setdefault("components", {}).setdefault("schemas", {})
    components["Error"] = ERROR_SCHEMA
    error_ref = {"$ref": "#/components/schemas/Error"}
    for _path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            responses = operation.setdefault("responses", {})
            if method in WRITE_METHODS:
                for code, response in responses.items():
                    if not code.startswith("2"):
                        continue
                    content = response.get("content", {}).get("application/json")
                    if content is None or "schema" not in content:
                        continue
                    content["schema"] = {
                        "type": "object",
                        "required": ["success", "data", "message"],
                        "properties": {
                            "success": {"type": "boolean", "enum": [True]},
                            "data": content["schema"],
                            "message": {"type": "string"},
                        },
                    }
            public_op = not operation.get("security") or {} in operation.get("security", [])
            for code, description in ERROR_STATUSES.items():
                if code == "401" and public_op:
                    continue
                responses.setdefault(
                    code, {"description": description, "content": {"application/json": {"schema": error_ref}}}
                )
    return result
