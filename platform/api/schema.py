"""OpenAPI generation: tags, problem+json error responses, and a check for tags and summaries."""

import re

from drf_spectacular import openapi
from drf_spectacular.drainage import warn

from api.problems import CONTENT_TYPE, TYPE_PREFIX

WRITE_METHODS = {"post", "put", "patch"}
HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}

ERROR_DESCRIPTIONS = {
    "400": "Malformed request (the body is not parseable).",
    "401": "No credentials, or a key that is invalid, revoked or expired.",
    "403": "Authenticated, but not allowed (role, purpose or grant).",
    "404": "No such object, or it belongs to another organisation.",
    "409": "Conflicts with the current state.",
    "413": "The request body is over the limit.",
    "415": "The Content-Type is not accepted here.",
    "422": "Some fields did not validate; `errors` names each with a JSON Pointer.",
    "429": "Too many requests; retry after `Retry-After` seconds.",
}

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


class AutoSchema(openapi.AutoSchema):
    def get_tags(self) -> list[str]:
        tag = getattr(self.view, "openapi_tag", None)
        return [tag] if tag else super().get_tags()


def _error_codes(path: str, method: str, operation: dict) -> list[str]:
    codes = ["429"]
    security = operation.get("security", [])
    if any(requirement for requirement in security):
        codes += ["401", "403"]
    if re.search(r"\{[^}]+\}", path):
        codes.append("404")
    if method in WRITE_METHODS:
        codes += ["400", "413", "415", "422"]
    return sorted(codes)


def add_problem_responses(result, generator, request, public):
    """Document the problem+json errors each operation can answer (postprocessing hook)."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas["Problem"] = PROBLEM_SCHEMA
    for path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            if method not in HTTP_METHODS:
                continue
            responses = operation.setdefault("responses", {})
            for code in _error_codes(path, method, operation):
                media = {"schema": {"$ref": "#/components/schemas/Problem"}}
                if code in EXAMPLES:
                    media["examples"] = {"problem": {"value": EXAMPLES[code]}}
                responses.setdefault(code, {"description": ERROR_DESCRIPTIONS[code], "content": {CONTENT_TYPE: media}})
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
