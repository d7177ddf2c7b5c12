"""Request-level guards that run before any view reads the request."""

import io

from django.conf import settings
from django.core.handlers.wsgi import LimitedStream
from django.shortcuts import render
from django.utils import translation

from api.parsers import NUL
from api.problems import API_PATH_PREFIX, escape_pointer_token, page_not_found, problem_response


def _null_character(request, errors: list[dict]):
    if not request.path.startswith(API_PATH_PREFIX):
        # A page: the site's own 400 page, in the reader's language (this runs before LocaleMiddleware).
        with translation.override(translation.get_language_from_request(request)):
            return render(request, "400.html", status=400)
    return problem_response(
        request,
        status_code=400,
        code="null_character",
        detail="The request holds a NUL character (U+0000), which no text can hold; see `errors`.",
        errors=errors,
    )


class NulCharacterMiddleware:
    """No NUL character (U+0000) reaches a view through the path, the query or a header.

    PostgreSQL text cannot hold one, so a lookup or filter with it fails in the database. A path with
    one names nothing: 404. A query parameter or header with one: 400 `null_character`, naming it
    (bodies are checked by api.parsers)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if NUL in request.path_info:
            return page_not_found(request)
        errors = [
            {
                "pointer": f"/{escape_pointer_token(name)}",
                "parameter": name,
                "detail": "A query parameter cannot hold a NUL character.",
                "code": "null_character",
            }
            for name, values in request.GET.lists()
            if NUL in name or any(NUL in value for value in values)
        ]
        errors += [
            {"header": name, "detail": "A header cannot hold a NUL character.", "code": "null_character"}
            for name, value in request.headers.items()
            if NUL in name or NUL in value
        ]
        if errors:
            return _null_character(request, errors)
        return self.get_response(request)


class RequestBodyLimitMiddleware:
    """Answer 413 problem+json before reading a body larger than REQUEST_BODY_MAX_BYTES.

    DRF parsers read the request stream directly, so Django's DATA_UPLOAD_MAX_MEMORY_SIZE alone
    does not bound them; the declared Content-Length is checked here instead.

    A chunked body (`Transfer-Encoding: chunked`, no Content-Length), which Django would read as empty,
    is read here up to the limit when the server has decoded it (`wsgi.input_terminated`, as gunicorn
    does), and then given to the view like any other; a server that cannot: 411 problem+json.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        limit = settings.REQUEST_BODY_MAX_BYTES
        declared = request.META.get("CONTENT_LENGTH") or ""
        if not declared.strip() and "chunked" in request.META.get("HTTP_TRANSFER_ENCODING", "").lower():
            refused = self._read_chunked(request, limit)
            if refused is not None:
                return refused
            declared = request.META["CONTENT_LENGTH"]
        try:
            length = int(declared or 0)
        except ValueError:
            return problem_response(
                request, status_code=400, code="bad_request", detail="Content-Length is not a number."
            )
        if length > limit:
            return self._too_large(
                request, f"The request body has {length} bytes; at most {limit} are accepted. Split it.", limit
            )
        return self.get_response(request)

    def _read_chunked(self, request, limit: int):
        if not request.META.get("wsgi.input_terminated"):
            return problem_response(
                request,
                status_code=411,
                code="length_required",
                detail="Send a Content-Length with the body: this server cannot read a chunked body.",
            )
        body = request.META["wsgi.input"].read(limit + 1)
        if len(body) > limit:
            return self._too_large(
                request, f"The chunked request body has more than the {limit} bytes accepted. Split it.", limit
            )
        # From here on the request is one with a Content-Length, for Django and DRF alike.
        request.META["CONTENT_LENGTH"] = str(len(body))
        request._stream = LimitedStream(io.BytesIO(body), len(body))
        return None

    @staticmethod
    def _too_large(request, detail: str, limit: int):
        return problem_response(request, status_code=413, code="request_too_large", detail=detail, max_bytes=limit)
