"""OpenAPI post-processing: describe the envelope, the error format and the bounds once for all.

Every operation lists the error statuses it can answer, each with the Error schema:

- 400, 401, 403, 404 everywhere: bad input (unknown query parameters included), no or a bad
  token (the login endpoints: bad credentials), a role without the permission, an id without
  a row (or ``?format=`` naming no renderer);
- 409 on writes of signed-in users: the state of what they name forbids it (a transition, a
  name taken, a locked set);
- 413 and 415 wherever a body is read (past the upload limits; a media type not parsed);
- 429 where the view throttles (logins: also a locked-out account);
- 503 where work is queued (a POST answering a task, or what carries its ``taskId``): the
  broker refused the task;
- any other status a view declares itself (``@extend_schema(responses={409: None})`` on a
  read that needs a finished job, for instance).

Ids in paths and ``page``/``pageSize`` carry the bounds the router and the paginator enforce.
"""

from __future__ import annotations

from .pagination import page_parameters
from .routers import ID_MAXIMUM, ID_PATTERN

WRITE_METHODS = {"post", "put", "patch", "delete"}
ERROR_STATUSES = {
    "400": "Invalid input",
    "401": "Not authenticated, token invalid or bad credentials",
    "403": "Permission denied",
    "404": "Not found",
    "409": "Conflicts with the current state",
    "413": "Too large",
    "415": "Unsupported media type",
    "429": "Too many requests",
    "503": "A service the request needs is unavailable",
}
ID_SCHEMA = {"type": "integer", "minimum": 1, "maximum": ID_MAXIMUM}

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


def _views(generator) -> dict[tuple[str, str], object]:
    """The view instance behind each (path, method) of the document."""
    views = {}
    for path, _regex, method, callback in generator.endpoints or ():
        view = generator.create_view(callback, method)
        views[(generator.coerce_path(path, method, view), method.lower())] = view
    return views


def _queues_work(operation: dict, components: dict) -> bool:
    """Whether a successful answer is a task, or names the task it queued."""
    for code, response in operation.get("responses", {}).items():
        schema = response.get("content", {}).get("application/json", {}).get("schema", {})
        if not code.startswith("2") or not schema:
            continue
        ref = schema.get("$ref", "").rsplit("/", 1)[-1]
        properties = components.get(ref, schema).get("properties", {})
        if ref == "Task" or {"taskId", "task"} & set(properties):
            return True
    return False


def _error_statuses(method: str, operation: dict, view, components: dict) -> set[str]:
    public = not operation.get("security") or {} in operation["security"]
    statuses = {"400", "401", "403", "404"}
    if operation.get("requestBody", {}).get("content"):
        statuses |= {"413", "415"}
    if view is not None and getattr(view, "throttle_classes", None):
        statuses.add("429")
    if not public and method in WRITE_METHODS:
        statuses.add("409")
    if not public and method == "post" and _queues_work(operation, components):
        statuses.add("503")
    return statuses


def _wrap_write(operation: dict) -> None:
    for code, response in operation.get("responses", {}).items():
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


def _bound_parameters(operation: dict) -> None:
    pages = {p["name"]: p["schema"] for p in page_parameters()}
    for parameter in operation.get("parameters", []):
        schema = parameter.get("schema", {})
        if parameter["in"] == "path" and schema.get("pattern") == f"^{ID_PATTERN}$":
            parameter["schema"] = dict(ID_SCHEMA)
        elif parameter["in"] == "query" and parameter["name"] in pages:
            parameter["schema"] = dict(pages[parameter["name"]])


def envelope_hook(result: dict, generator, request, public) -> dict:
    components = result.setdefault("components", {}).setdefault("schemas", {})
    components["Error"] = ERROR_SCHEMA
    error_content = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    views = _views(generator)
    for path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            view = views.get((path, method))
            statuses = _error_statuses(method, operation, view, components)  # before the envelope
            if method in WRITE_METHODS:
                _wrap_write(operation)
            _bound_parameters(operation)
            responses = operation.setdefault("responses", {})
            for code in statuses:
                responses.setdefault(code, {"description": ERROR_STATUSES[code]})
            for code, response in responses.items():
                # Declared by the view without a body (``409: None``), or added above.
                if code[0] in "45" and not response.get("content"):
                    response["content"] = error_content
                    if response.get("description") in (None, "", "No response body"):
                        response["description"] = ERROR_STATUSES.get(code, "Error")
            operation["responses"] = dict(sorted(responses.items()))
    return result
