"""OpenAPI generation: tags, problem+json error responses, and a check for tags and summaries."""

import copy
import re

from drf_spectacular import openapi
from drf_spectacular.drainage import warn
from drf_spectacular.utils import OpenApiParameter

from api.problems import CONTENT_TYPE, TYPE_PREFIX

WRITE_METHODS = {"post", "put", "patch"}
CHANGING_METHODS = WRITE_METHODS | {"delete"}
# Query parameters whose bad values answer 404 (DRF's pagination and format negotiation).
NOT_FOUND_PARAMETERS = {"page", "cursor", "format"}
HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}

ERROR_DESCRIPTIONS = {
    "400": "Malformed request (the body is not parseable), or one asking for what is not offered.",
    "401": "No credentials, or a key that is invalid, revoked or expired.",
    "403": "Authenticated, but not allowed (role, purpose or grant).",
    "404": "No such object, or it belongs to another organisation.",
    "409": "Conflicts with the current state.",
    "413": "The request body is over the limit.",
    "415": "The Content-Type is not accepted here.",
    "422": "Some fields did not validate; `errors` names each with a JSON Pointer.",
    "429": "Too many requests; retry after `Retry-After` seconds.",
    "503": "The access log cannot be written: no data is served.",
}
PURPOSE_403 = "Refused by the role, or by the purpose guard: `reason` says which rule (docs/errors.md)."

EXAMPLES = {
    "401": {
        "type": TYPE_PREFIX + "api_key_invalid",
        "title": "Unauthorized",
        "status": 401,
        "detail": "The API key is not valid.",
        "code": "api_key_invalid",
        "instance": "/api/v1/me/",
    },
    "422": {
        "type": TYPE_PREFIX + "validation_error",
        "title": "The request has invalid fields",
        "status": 422,
        "detail": "1 field did not validate; see `errors`.",
        "code": "validation_error",
        "instance": "/api/v1/api-keys/",
        "errors": [{"pointer": "/role", "detail": '"boss" is not a valid choice.', "code": "invalid_choice"}],
    },
}

PROBLEM_SCHEMA = {
    "type": "object",
    "description": "Problem Details (RFC 9457).",
    "properties": {
        "type": {"type": "string", "format": "uri", "description": "URN naming the problem: stable."},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string", "description": "A sentence a person understands."},
        "code": {"type": "string", "description": "The problem's stable code (the last part of `type`)."},
        "instance": {"type": "string", "description": "The request path."},
        "errors": {
            "type": "array",
            "description": "Validation problems only: one entry per message.",
            "items": {
                "type": "object",
                "properties": {
                    "pointer": {"type": "string", "description": "JSON Pointer (RFC 6901) into the request."},
                    "detail": {"type": "string"},
                    "code": {"type": "string"},
                },
                "required": ["pointer", "detail"],
            },
        },
    },
    "required": ["type", "title", "status", "detail", "code"],
}


PURPOSE_BOUND = "x-purpose-bound"
# Set on operations that answer GeoJSON too: the name of the field that becomes each Feature's geometry.
GEOJSON_GEOMETRY = "x-geojson-geometry"
GEOJSON = "application/geo+json"
# Representations that are text, not the JSON object drf-spectacular documents for every media type.
TEXT_REPRESENTATIONS = {
    "text/csv": "CSV: a header row, then one row per object (nested objects left out, lists joined with `;`).",
    "application/x-ndjson": "Newline-delimited JSON: one object per line.",
}


def purpose_problem_schema() -> dict:
    from purposes.decisions import REASONS

    return {
        "allOf": [
            {"$ref": "#/components/schemas/Problem"},
            {
                "type": "object",
                "properties": {
                    "reason": {
                        "type": "string",
                        "enum": sorted(REASONS),
                        "description": "Why the purpose guard refused (docs/errors.md). `purpose_conflict` is a 422.",
                    }
                },
            },
        ]
    }


class AutoSchema(openapi.AutoSchema):
    def get_tags(self) -> list[str]:
        tag = getattr(self.view, "openapi_tag", None)
        return [tag] if tag else super().get_tags()

    def _purpose_bound(self) -> bool:
        return getattr(self.view, "guard", None) == "purpose"

    def get_override_parameters(self):
        parameters = super().get_override_parameters()
        if self._purpose_bound():
            parameters = [
                *parameters,
                OpenApiParameter(
                    "X-Purpose",
                    str,
                    OpenApiParameter.HEADER,
                    description="The code of the purpose this request serves (or `?purpose=`). Required.",
                ),
                OpenApiParameter(
                    "purpose", str, description="The purpose's code, for links and browsers (or `X-Purpose`)."
                ),
            ]
        return parameters

    def _get_request_body(self, direction="request"):
        body = super()._get_request_body(direction)
        # A body declared per media type is read raw by the view (records, FIWARE entities, a CSV import):
        # there is nothing to read without one (drf-spectacular marks only serializers' bodies required).
        if body is not None and isinstance(self.get_request_serializer(), dict):
            body["required"] = True
        return body

    def get_operation(self, *args, **kwargs):
        operation = super().get_operation(*args, **kwargs)
        if operation is not None and any(r.media_type == GEOJSON for r in self.view.get_renderers()):
            operation[GEOJSON_GEOMETRY] = getattr(self.view, "geojson_geometry_field", "geometry")
        if operation is not None and self._purpose_bound():
            operation[PURPOSE_BOUND] = True
            level = getattr(self.view, "access_level", "")
            operation["description"] = (
                operation.get("description", "")
                + f"\n\nPurpose-bound (`{level}` level): declare a purpose; every request, allowed or refused, "
                "is written to the access log. Refusals are 403 with a `reason`."
            ).strip()
        return operation


def _error_codes(path: str, method: str, operation: dict) -> list[str]:
    codes = ["429"]
    security = operation.get("security", [])
    if any(requirement for requirement in security):
        codes += ["401", "403"]
    if re.search(r"\{[^}]+\}", path):
        codes.append("404")
    query = {parameter["name"] for parameter in operation.get("parameters", []) if parameter.get("in") == "query"}
    if query:
        codes.append("422")  # a query parameter (a filter, a page size) that does not validate
        codes.append("400")  # a query parameter holding NUL (api.parsers: no text can hold one)
    if query & NOT_FOUND_PARAMETERS:
        codes.append("404")  # a page past the end, a cursor that is not one, an unknown format
    if method in WRITE_METHODS:
        codes += ["400", "413", "415", "422"]
    if method in CHANGING_METHODS:
        codes.append("409")  # the current state forbids it: a transition from the wrong status, an object in use
    if operation.get(PURPOSE_BOUND):
        codes += ["403", "422", "503"]
    return sorted(set(codes))


def add_problem_responses(result, generator, request, public):
    """Document the problem+json errors each operation can answer (postprocessing hook)."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas["Problem"] = PROBLEM_SCHEMA
    schemas["PurposeProblem"] = purpose_problem_schema()
    for path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            if method not in HTTP_METHODS:
                continue
            responses = operation.setdefault("responses", {})
            bound = operation.get(PURPOSE_BOUND, False)
            for code in _error_codes(path, method, operation):
                name = "PurposeProblem" if bound and code == "403" else "Problem"
                media = {"schema": {"$ref": f"#/components/schemas/{name}"}}
                if code in EXAMPLES:
                    media["examples"] = {"problem": {"value": EXAMPLES[code]}}
                description = PURPOSE_403 if bound and code == "403" else ERROR_DESCRIPTIONS[code]
                responses.setdefault(code, {"description": description, "content": {CONTENT_TYPE: media}})
    return result


def require_tags_and_summaries(result, generator, request, public):
    """Warn (and so fail `spectacular --fail-on-warn`) when an operation lacks a tag or a summary."""
    for path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            if method not in HTTP_METHODS:
                continue
            if not operation.get("tags"):
                warn(f"{method.upper()} {path} has no tag")
            if not operation.get("summary"):
                warn(f"{method.upper()} {path} has no summary: add extend_schema(summary=...)")
    return result


def _component(schema: dict, components: dict) -> tuple[str | None, dict]:
    ref = schema.get("$ref", "")
    name = ref.rsplit("/", 1)[-1] if ref.startswith("#/components/schemas/") else None
    return name, components[name] if name else schema


def _feature(item: dict, geometry: str, components: dict) -> dict:
    """The schema of one Feature (api.renderers.GeoJSONRenderer): the row's `geometry` field is its geometry,
    the other fields its properties."""
    name, row = _component(item, components)
    fields = row.get("properties", {})
    properties = {
        **copy.deepcopy(row),
        "properties": {key: value for key, value in fields.items() if key != geometry},
        "required": [key for key in row.get("required", []) if key != geometry],
    }
    if name:
        components[f"{name}FeatureProperties"] = properties
        properties = {"$ref": f"#/components/schemas/{name}FeatureProperties"}
    geometry_schema = {**fields.get(geometry, {"type": "object"}), "nullable": True}
    feature = {
        "type": "object",
        "description": "A GeoJSON Feature (RFC 7946).",
        "properties": {
            "type": {"type": "string", "enum": ["Feature"]},
            "id": {**fields.get("id", {"type": "integer"}), "nullable": True},
            "geometry": geometry_schema,
            "properties": properties,
        },
        "required": ["type", "id", "geometry", "properties"],
    }
    if not name:
        return feature
    components[f"{name}Feature"] = feature
    return {"$ref": f"#/components/schemas/{name}Feature"}


def _geojson(schema: dict, geometry: str, components: dict) -> dict:
    """A Feature for one object; a FeatureCollection (with the page links) for a list or a page of one."""
    _, resolved = _component(schema, components)
    items = resolved.get("items") or resolved.get("properties", {}).get("results", {}).get("items")
    if items is None:
        return _feature(schema, geometry, components)
    link = {
        "type": "object",
        "properties": {
            "rel": {"type": "string"},
            "href": {"type": "string", "format": "uri"},
            "type": {"type": "string"},
        },
        "required": ["rel", "href", "type"],
    }
    return {
        "type": "object",
        "description": "A GeoJSON FeatureCollection (RFC 7946); `links` carries the next and previous pages.",
        "properties": {
            "type": {"type": "string", "enum": ["FeatureCollection"]},
            "features": {"type": "array", "items": _feature(items, geometry, components)},
            "links": {"type": "array", "items": link},
        },
        "required": ["type", "features"],
    }


def document_representations(result, generator, request, public):
    """GeoJSON and CSV answers are not the JSON object drf-spectacular documents for every media type of a
    view: document GeoJSON as Features and text formats as text (postprocessing hook)."""
    components = result.setdefault("components", {}).setdefault("schemas", {})
    for operations in result.get("paths", {}).values():
        for method, operation in operations.items():
            if method not in HTTP_METHODS:
                continue
            geometry = operation.pop(GEOJSON_GEOMETRY, None)
            for response in operation.get("responses", {}).values():
                content = response.get("content", {})
                if geometry and GEOJSON in content:
                    content[GEOJSON] = {"schema": _geojson(content[GEOJSON]["schema"], geometry, components)}
                for media, description in TEXT_REPRESENTATIONS.items():
                    if media in content:
                        content[media] = {"schema": {"type": "string", "description": description}}
    return result
