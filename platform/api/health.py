"""Health probes for a process manager or load balancer: `/healthz` (liveness) and `/readyz` (readiness).

They are answered by a middleware at the top of the stack, before anything a probe could trip over:
no host check (an orchestrator probes the pod by its address, not by the site's name), no TLS redirect
(probes speak plain HTTP to the app server), no authentication, throttling, session, CSP or access log.
Neither is part of the API (not in the OpenAPI document; described in docs/deployment.md), and the
gunicorn configuration leaves them out of its access log.

- `/healthz`: 200 while the process answers. It touches no database, so a database outage does not make
  the orchestrator restart every app server.
- `/readyz`: 200 when the default database answers a query, else 503 problem+json `database_unavailable`
  with `Retry-After`: take the instance out of the load balancer until it is back.
"""

from django.db import DatabaseError, connections
from django.http import JsonResponse

from api.problems import DATABASE_RETRY_AFTER, problem_response

LIVENESS_PATH = "/healthz"
READINESS_PATH = "/readyz"
PROBE_PATHS = frozenset({LIVENESS_PATH, READINESS_PATH})


def database_ready() -> bool:
    try:
        with connections["default"].cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        # A connection that failed is unusable: drop it, so that the next probe connects afresh.
        connections["default"].close()
        return False
    return True


def probe_response(request) -> JsonResponse:
    if request.method not in {"GET", "HEAD"}:
        response = problem_response(
            request, status_code=405, code="method_not_allowed", detail="Probes answer GET and HEAD."
        )
        response["Allow"] = "GET, HEAD"
    elif request.path_info == READINESS_PATH and not database_ready():
        response = problem_response(
            request,
            status_code=503,
            code="database_unavailable",
            detail="The database does not answer; this instance is not ready.",
        )
        response["Retry-After"] = str(DATABASE_RETRY_AFTER)
    else:
        response = JsonResponse({"status": "ok"})
    response["Cache-Control"] = "no-store"
    return response


class HealthProbeMiddleware:
    """Answers /healthz and /readyz before any other middleware runs (first in settings.MIDDLEWARE)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path_info in PROBE_PATHS:
            return probe_response(request)
        return self.get_response(request)
