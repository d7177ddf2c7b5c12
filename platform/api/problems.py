"""Problem Details for HTTP APIs (RFC 9457): every error the API returns has this shape.

`type` is a stable URN per problem code, `code` repeats the code for clients that switch on it, and
validation problems carry `errors`: one entry per bad field with a JSON Pointer (RFC 6901).
"""

import logging
import sys
from http import HTTPStatus

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import InterfaceError, OperationalError
from django.http import Http404, HttpResponse, JsonResponse
from django.views import defaults
from rest_framework import exceptions, status
from rest_framework.fields import get_error_detail
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.settings import api_settings

logger = logging.getLogger(__name__)

CONTENT_TYPE = "application/problem+json"
TYPE_PREFIX = "urn:crowd-data-platform:problem:"
API_PATH_PREFIX = "/api/"

TITLES = {
    "validation_error": "The request has invalid fields",
    "not_authenticated": "Authentication is required",
    "request_too_large": "The request body is too large",
    "null_character": "The request holds a NUL character",
    "nesting_too_deep": "The JSON body is nested too deeply",
    "database_unavailable": "The service is briefly unavailable",
}
# Seconds a client waits before retrying while the database is unreachable (a PostgreSQL restart or
# fail-over takes a few seconds).
DATABASE_RETRY_AFTER = 5


class ProblemJSONRenderer(JSONRenderer):
    media_type = CONTENT_TYPE
    format = "problem+json"


class RequestTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is larger than this endpoint accepts."
    default_code = "request_too_large"


def problem(*, status_code: int, code: str, detail: str, instance: str | None = None, **extra) -> dict:
    body = {
        "type": TYPE_PREFIX + code,
        "title": TITLES.get(code, HTTPStatus(status_code).phrase),
        "status": status_code,
        "detail": detail,
        "code": code,
    }
    if instance:
        body["instance"] = instance
    body.update(extra)
    return body


def escape_pointer_token(token) -> str:
    return str(token).replace("~", "~0").replace("/", "~1")


def error_pointers(detail, pointer: str = "") -> list[dict]:
    """Flatten DRF's nested error detail into [{pointer, detail, code}], one entry per message."""
    if isinstance(detail, dict):
        errors = []
        for key, value in detail.items():
            if key == api_settings.NON_FIELD_ERRORS_KEY:
                errors += error_pointers(value, pointer)
            else:
                errors += error_pointers(value, f"{pointer}/{escape_pointer_token(key)}")
        return errors
    if isinstance(detail, list | tuple):
        errors = []
        for index, item in enumerate(detail):
            if isinstance(item, dict | list | tuple):
                errors += error_pointers(item, f"{pointer}/{index}")
            else:
                errors += error_pointers(item, pointer)
        return errors
    # A Django form error raised without a code carries None: the contract promises a string.
    return [{"pointer": pointer, "detail": str(detail), "code": getattr(detail, "code", None) or "invalid"}]


class BodyUnusable(exceptions.APIException):
    """400: a body no endpoint can use (api.parsers.BodyRefused): NUL, nesting, unreadable CSV."""

    status_code = status.HTTP_400_BAD_REQUEST
    default_code = "parse_error"

    def __init__(self, refused):
        super().__init__(refused.detail, code=refused.code)
        self.problem_extra = {"errors": [refused.as_error()]}


class PurposeRefused(exceptions.PermissionDenied):
    """403 from the purpose guard: `reason` is stable (docs/errors.md lists every one)."""

    def __init__(self, refused):
        super().__init__(refused.detail, code="purpose_refused")
        self.problem_extra = {"reason": refused.reason}


class DomainProblem(exceptions.APIException):
    """A rule of the domain refused a write: its status, code and the pointer to the field."""

    def __init__(self, broken):
        super().__init__(broken.detail, code=broken.code)
        self.status_code = broken.status
        if broken.pointer or broken.status == 422:
            self.problem_extra = {"errors": [{"pointer": broken.pointer, "detail": broken.detail, "code": broken.code}]}


def _domain_exception(exc):
    # Services speak the domain; this is the one place their errors become HTTP.
    from purposes.decisions import AccessRefused, PurposeRuleBroken

    if isinstance(exc, AccessRefused):
        return PurposeRefused(exc)
    if isinstance(exc, PurposeRuleBroken):
        return DomainProblem(exc)
    return None


def _as_api_exception(exc):
    from api.parsers import BodyRefused

    domain = _domain_exception(exc)
    if domain is not None:
        return domain
    if isinstance(exc, BodyRefused):
        return BodyUnusable(exc)
    if isinstance(exc, Http404):
        return exceptions.NotFound()
    if isinstance(exc, DjangoPermissionDenied):
        return exceptions.PermissionDenied()
    if isinstance(exc, RequestDataTooBig):
        return RequestTooLarge()
    if isinstance(exc, DjangoValidationError):
        return exceptions.ValidationError(get_error_detail(exc))
    return exc


def problem_for_exception(exc: exceptions.APIException, instance: str | None) -> tuple[int, dict]:
    if isinstance(exc, exceptions.ValidationError):
        errors = error_pointers(exc.detail)
        count = len(errors)
        detail = (
            errors[0]["detail"]
            if count == 1 and not errors[0]["pointer"]
            else f"{count} field{'s' if count != 1 else ''} did not validate; see `errors`."
        )
        return 422, problem(status_code=422, code="validation_error", detail=detail, instance=instance, errors=errors)
    code = exc.detail.code if hasattr(exc.detail, "code") else exc.default_code
    extra = getattr(exc, "problem_extra", {})
    return exc.status_code, problem(
        status_code=exc.status_code, code=code, detail=str(exc.detail), instance=instance, **extra
    )


def problem_exception_handler(exc, context):
    """DRF exception handler: every API error becomes problem+json; anything else is a 500 (see below)."""
    exc = _as_api_exception(exc)
    if not isinstance(exc, exceptions.APIException):
        return None  # Django answers 500 through server_error() below, with no stack trace.
    request = context.get("request")
    status_code, body = problem_for_exception(exc, request.path if request is not None else None)
    headers = {}
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header
    if getattr(exc, "wait", None):
        headers["Retry-After"] = str(int(exc.wait))
    if request is not None:
        # Errors are always problem+json, whatever representation the client negotiated.
        request.accepted_renderer = ProblemJSONRenderer()
        request.accepted_media_type = CONTENT_TYPE
    return Response(body, status=status_code, headers=headers, content_type=CONTENT_TYPE)


def problem_response(request, *, status_code: int, code: str, detail: str, **extra) -> JsonResponse:
    body = problem(status_code=status_code, code=code, detail=detail, instance=request.path, **extra)
    return JsonResponse(body, status=status_code, content_type=CONTENT_TYPE)


def _is_api(request) -> bool:
    return request.path.startswith(API_PATH_PREFIX)


# Django-level handlers (config.urls): API paths get problem+json, pages keep Django's HTML.


def bad_request(request, exception=None):
    if _is_api(request):
        return problem_response(request, status_code=400, code="bad_request", detail="The request is malformed.")
    return defaults.bad_request(request, exception)


def permission_denied(request, exception=None):
    if _is_api(request):
        return problem_response(request, status_code=403, code="permission_denied", detail="You may not do this.")
    return defaults.permission_denied(request, exception)


def page_not_found(request, exception=None):
    if _is_api(request):
        return problem_response(
            request, status_code=404, code="not_found", detail=f"Nothing is found at {request.path}."
        )
    return defaults.page_not_found(request, exception)


def database_unavailable(exc: BaseException | None) -> bool:
    """The database could not be reached or dropped the connection (a restart, a fail-over): the
    request may succeed if retried, so it is a 503, not a 500."""
    return isinstance(exc, OperationalError | InterfaceError)


def server_error(request):
    # Django calls this while handling the exception (in every middleware's and view's except block),
    # so the exception is at hand: one place for every request, API or page, however far it got.
    if database_unavailable(sys.exception()):
        detail = "The database is briefly unreachable; retry in a few seconds."
        if _is_api(request):
            response = problem_response(request, status_code=503, code="database_unavailable", detail=detail)
        else:
            response = HttpResponse(detail, status=503, content_type="text/plain; charset=utf-8")
        response["Retry-After"] = str(DATABASE_RETRY_AFTER)
        return response
    if _is_api(request):
        return problem_response(
            request,
            status_code=500,
            code="server_error",
            detail="Something went wrong on our side; it has been logged. Try again later.",
        )
    return defaults.server_error(request)


class Conflict(exceptions.APIException):
    """409: the request conflicts with the current state (a duplicate, a wrong status for the action)."""

    status_code = status.HTTP_409_CONFLICT
    default_detail = "The request conflicts with the current state."
    default_code = "conflict"

    def __init__(self, detail=None, code=None, *, pointer: str | None = None):
        super().__init__(detail, code)
        if pointer is not None:
            self.problem_extra = {
                "errors": [{"pointer": pointer, "detail": str(self.detail), "code": self.detail.code}]
            }


class Forbidden(exceptions.PermissionDenied):
    """403 with a sentence and a stable code that say which rule refused the request."""


class ItemsRejected(exceptions.APIException):
    """422 for a collection (records, CSV rows) some of whose items are invalid; `errors` names each one.

    At most MAX_ERRORS_LISTED are listed: `errors_total` counts them all, `errors_truncated` says whether
    some were left out (`errors_listed` gives the same three fields to a 2xx answer that lists errors)."""

    status_code = 422
    default_code = "validation_error"
    MAX_ERRORS_LISTED = 1000

    def __init__(self, detail: str, errors: list[dict], **extra):
        super().__init__(detail)
        self.problem_extra = {**errors_listed(errors), **extra}


def errors_listed(errors: list[dict]) -> dict:
    """`errors` cut at ItemsRejected.MAX_ERRORS_LISTED, saying so: the fields every answer with errors has."""
    limit = ItemsRejected.MAX_ERRORS_LISTED
    return {"errors": errors[:limit], "errors_total": len(errors), "errors_truncated": len(errors) > limit}


class NotOffered(exceptions.APIException):
    """400: the request asks for something the API does not offer (it may be valid, it is not done here);
    `pointer` names the field."""

    status_code = status.HTTP_400_BAD_REQUEST
    default_detail = "This is not offered."
    default_code = "not_offered"

    def __init__(self, detail=None, code=None, *, pointer: str):
        super().__init__(detail, code)
        self.problem_extra = {"errors": [{"pointer": pointer, "detail": str(self.detail), "code": self.detail.code}]}
