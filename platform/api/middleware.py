"""Request-level guards that run before any view reads the body."""

from django.conf import settings

from api.problems import problem_response


class RequestBodyLimitMiddleware:
    """Answer 413 problem+json before reading a body larger than REQUEST_BODY_MAX_BYTES.

    DRF parsers read the request stream directly, so Django's DATA_UPLOAD_MAX_MEMORY_SIZE alone
    does not bound them; the declared Content-Length is checked here instead.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        limit = settings.REQUEST_BODY_MAX_BYTES
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return problem_response(
                request, status_code=400, code="bad_request", detail="Content-Length is not a number."
            )
        if length > limit:
            return problem_response(
                request,
                status_code=413,
                code="request_too_large",
                detail=f"The request body has {length} bytes; at most {limit} are accepted. Split it.",
                max_bytes=limit,
            )
        return self.get_response(request)
