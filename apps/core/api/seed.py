"""The seed design's names and shapes, accepted and answered beside OMM's own.

The seed design (the platform's design document: its front end and its API) names a few
request fields differently (``datasetId`` for ``dataset``, ``parameters`` for a training's
``params``) and types ids and version numbers as strings. OMM's names stay the documented
primary ones; the seed's are aliases that each API module declares on its request
serializers with ``alias_of`` and resolves with ``take_aliases``.

Answers are OMM's by default. A client that asks for ``Accept: application/json;
profile=seed`` gets the same answer with the seed's JSON types (``SeedProfileRenderer``):
``id``, fields ending in ``Id`` and version numbers (``version``, fields ending in
``Version``) of the resource as strings.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from typing import Any

from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.utils import html

from .renderers import OMMJSONRenderer

SEED_PROFILE = "seed"

# The seed's resource config: numbers without units, kept with a task and not applied.
SEED_RESOURCE_KEYS = ("cpu", "memory", "gpu")

VERSION_RE = re.compile(r"^[vV]?(\d{1,9})(?:\.0+)*$")


def alias_of(primary: str) -> str:
    """The help text of a seed alias field (OpenAPI shows it beside the primary field)."""
    return f"Alias of `{primary}` (the seed design's name); give one of the two."


def seed_profile(request) -> bool:
    """Whether the client asked for the seed's JSON types (``Accept: …; profile=seed``)."""
    accepted = getattr(request, "accepted_media_type", "") or ""
    params = (part.strip() for part in accepted.split(";")[1:])
    return any(p.replace(" ", "").lower() == f"profile={SEED_PROFILE}" for p in params)


def take_aliases(attrs: dict, aliases: Mapping[str, str]) -> dict:
    """Move each alias's value onto its primary field (``{alias: primary}``, serializer
    field names); an alias and its primary given with different values is a 400."""
    for alias, primary in aliases.items():
        if alias not in attrs:
            continue
        value = attrs.pop(alias)
        if primary in attrs and attrs[primary] != value:
            raise serializers.ValidationError(
                {
                    alias: [
                        gettext("Give %(alias)s or %(primary)s, not both.")
                        % {"alias": _camel(alias), "primary": _camel(primary)}
                    ]
                }
            )
        attrs[primary] = value
    return attrs


def split_requested_resources(config: Mapping[str, Any]) -> tuple[dict, dict]:
    """A resource config split into OMM's keys and the seed's ``cpu``, ``memory`` and ``gpu``.

    OMM schedules by threads, memory in MB and a time limit; the seed's numbers have no
    unit OMM could apply, so the caller keeps them with the task instead of applying them.
    """
    own = {k: v for k, v in config.items() if k not in SEED_RESOURCE_KEYS}
    requested = {k: v for k, v in config.items() if k in SEED_RESOURCE_KEYS}
    bad = [
        k
        for k, v in requested.items()
        if isinstance(v, bool) or not isinstance(v, int | float) or not (0 <= v < math.inf)
    ]
    if bad:
        raise serializers.ValidationError(
            {
                "resource_config": [
                    gettext("%(key)s must be a number of at least 0.") % {"key": key} for key in bad
                ]
            }
        )
    return own, requested


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(word.title() for word in rest)


@extend_schema_field({"oneOf": [{"type": "integer", "minimum": 1}, {"type": "string", "example": "v2"}]})
class VersionNumberField(serializers.Field):
    """A version number: ``3``, ``"3"``, ``"v3"`` or ``"v3.0"`` (OMM numbers versions 1, 2, 3…)."""

    default_error_messages = {
        "invalid": _("A version number such as 3 or v3 (versions are numbered 1, 2, 3...)."),
    }

    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, int) and not isinstance(data, bool):
            number = data
        elif isinstance(data, str) and (match := VERSION_RE.match(data.strip())):
            number = int(match.group(1))
        else:
            self.fail("invalid")
        if number < 1:
            self.fail("invalid")
        return number

    def to_representation(self, value: int) -> int:
        return value


@extend_schema_field({"type": "object", "additionalProperties": {}})
class JSONObjectField(serializers.DictField):
    """An object; in a multipart form (where every value is text) its JSON encoding."""

    default_error_messages = {"not_json": _("A JSON object is expected.")}

    def get_value(self, dictionary):
        # DictField reads ``name[key]`` form fields; a front end's FormData sends the JSON text.
        if html.is_html_input(dictionary):
            return dictionary.get(self.field_name, serializers.empty)
        return super().get_value(dictionary)

    def to_internal_value(self, data):
        if isinstance(data, str):
            try:
                data = json.loads(data) if data.strip() else {}
            except ValueError:
                self.fail("not_json")
            if not isinstance(data, dict):
                self.fail("not_json")
        return super().to_internal_value(data)


def _is_id_or_version(key: str) -> bool:
    return key in ("id", "version") or key.endswith(("_id", "_version"))


def _seed_typed(resource: Any) -> Any:
    if not isinstance(resource, dict):
        return resource
    return {
        key: str(value)
        if _is_id_or_version(key) and isinstance(value, int) and not isinstance(value, bool)
        else value
        for key, value in resource.items()
    }


def as_seed_types(data: Any) -> Any:
    """A resource (or each resource of a list page) with its ids and version numbers as text.

    Only the resource's own fields change: nested data (parameters, metrics, lineage) is
    data and stays as stored."""
    if isinstance(data, dict) and {"data", "total", "page", "page_size"} <= set(data):
        return {**data, "data": [_seed_typed(item) for item in data["data"]]}
    if isinstance(data, list):
        return [_seed_typed(item) for item in data]
    return _seed_typed(data)


class SeedProfileRenderer(OMMJSONRenderer):
    """OMM's JSON, or with ``profile=seed`` in the accepted media type the seed's JSON types."""

    def render(self, data, accepted_media_type=None, renderer_context=None):
        response = (renderer_context or {}).get("response")
        request = (renderer_context or {}).get("request")
        if response is not None:
            patch_vary_headers(response, ("Accept",))  # one URL, two forms: caches must tell them apart
        if (
            response is not None
            and response.status_code < 400
            and request is not None
            and seed_profile(request)
        ):
            data = as_seed_types(data)
        return super().render(data, accepted_media_type, renderer_context)
