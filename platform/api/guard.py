"""The purpose guard in the API layer: read the declared purpose, ask purposes.services to decide, and
write exactly one access event per guarded request before the response leaves (503 if it cannot)."""

import logging

from django.utils import timezone
from rest_framework import exceptions, status
from rest_framework.response import Response

from accounts.models import Organisation
from api.caller import caller_of
from api.problems import CONTENT_TYPE, DATABASE_RETRY_AFTER, ProblemJSONRenderer, problem
from datasets.models import Dataset
from purposes.access_log import EventContent, access_event_append
from purposes.decisions import AccessRefused

logger = logging.getLogger(__name__)

PURPOSE_HEADER = "X-Purpose"
PURPOSE_PARAMETER = "purpose"
MAX_LOGGED_PARAMS = 30
MAX_LOGGED_VALUE = 200


class PurposeConflict(exceptions.ValidationError):
    def __init__(self):
        super().__init__({PURPOSE_PARAMETER: ["X-Purpose and ?purpose= name different purposes: send one."]})


def declared_purpose(request) -> str:
    """The purpose code from `X-Purpose` or `?purpose=`; both present and different: 422."""
    header = request.headers.get(PURPOSE_HEADER, "").strip()
    parameter = request.query_params.get(PURPOSE_PARAMETER, "").strip()
    if header and parameter and header != parameter:
        raise PurposeConflict()
    return header or parameter


def loggable(text: str, limit: int) -> str:
    """Text as the log keeps it: bounded, and without NUL (which neither text nor JSON columns take)."""
    return text[:limit].replace("\x00", "\ufffd")


def normalised_params(request) -> dict:
    """The query, as logged: sorted, purpose aside, bounded in size."""
    params = {}
    for name in sorted(request.query_params)[:MAX_LOGGED_PARAMS]:
        if name == PURPOSE_PARAMETER:
            continue
        values = [loggable(value, MAX_LOGGED_VALUE) for value in request.query_params.getlist(name)[:20]]
        params[loggable(name, 60)] = values[0] if len(values) == 1 else values
    return params


class GuardState:
    """What the guard learnt about one request, for its access event."""

    def __init__(self):
        self.purpose_code = ""
        self.purpose_holder_id = None
        self.acting_for_id = None
        self.acting_for_slug = ""
        self.dataset_owner_ids: dict | None = None
        self.dataset_ids: tuple[int, ...] = ()
        self.decision = None
        self.reason = ""
        self.rows = 0
        self.cells = 0
        self.cells_suppressed = 0

    def remember(self, known: dict) -> None:
        """What the decision, or the refusal, learnt of the caller and the datasets."""
        self.purpose_holder_id = known.get("purpose_holder_id")
        self.acting_for_id = known.get("acting_for_id")
        self.acting_for_slug = known.get("acting_for_slug", "")
        self.dataset_owner_ids = known.get("dataset_owner_ids")

    def served(self, *, rows: int, cells: int, cells_suppressed: int) -> None:
        """What the view returned, for the event."""
        self.rows, self.cells, self.cells_suppressed = rows, cells, cells_suppressed


def guard_initial(view, request) -> None:
    """Decide after authentication, roles and throttling: the decision lands on `view.decision`."""
    from purposes.services import access_decide

    state = view.guard_state = GuardState()
    try:
        state.purpose_code = declared_purpose(request)
    except PurposeConflict:
        state.reason = "purpose_conflict"
        raise
    target = view.guard_target(request)  # the datasets and the detail asked for; 422 on bad parameters
    state.dataset_ids = tuple(target["dataset_ids"])
    try:
        view.decision = access_decide(
            caller=caller_of(request),
            purpose_code=state.purpose_code,
            dataset_ids=state.dataset_ids,
            level=view.access_level,
            params=target.get("params", {}),
            at=timezone.now(),
        )
    except AccessRefused as refused:
        state.reason = refused.reason
        state.remember(refused.context)
        raise
    state.decision = view.decision
    state.remember(vars(view.decision))


def guard_finalize(view, request, response):
    """Append the access event; if it cannot be written, no data leaves: 503."""
    state = getattr(view, "guard_state", None)
    if state is None:
        return response  # refused before the guard ran (401, role 403, 429): nothing was read
    allowed = state.decision is not None and response.status_code < 400
    if not state.reason and not allowed:
        # A refusal after the decision (a spent privacy budget) carries its own reason; other errors their code.
        found = getattr(getattr(response, "data", None), "get", lambda *_: None)
        state.reason = found("reason") or found("code") or f"http_{response.status_code}"
    caller = caller_of(request)
    try:
        owners = state.dataset_owner_ids
        if owners is None:  # refused before the datasets were looked up
            owners = dict(Dataset.objects.filter(pk__in=state.dataset_ids).values_list("pk", "owner_id"))
        slug = state.acting_for_slug
        if state.acting_for_id and not slug:
            slug = Organisation.objects.filter(pk=state.acting_for_id).values_list("slug", flat=True).first()
        access_event_append(
            content=EventContent(
                actor_kind=caller.kind,
                actor_name=(
                    caller.user.get_username()
                    if caller.user is not None
                    else (caller.api_key.prefix if caller.api_key is not None else "")
                ),
                organisation_id=state.acting_for_id,
                organisation_slug=slug or "",
                purpose_code=loggable(state.purpose_code, 80),
                purpose_holder_id=state.purpose_holder_id,
                dataset_ids=state.dataset_ids,
                dataset_owner_ids=owners,
                endpoint=getattr(request.resolver_match, "view_name", "") or request.path[:100],
                params=normalised_params(request),
                decision="allowed" if allowed else "refused",
                reason="" if allowed else state.reason,
                status_code=response.status_code,
                rows=state.rows if allowed else 0,
                cells=state.cells if allowed else 0,
                cells_suppressed=state.cells_suppressed if allowed else 0,
            )
        )
    except Exception:
        logger.exception("The access event could not be written; the response is withheld")
        body = problem(
            status_code=503,
            code="access_log_unavailable",
            detail="The access log cannot be written right now, so no data is served. Try again shortly.",
            instance=request.path,
        )
        request.accepted_renderer = ProblemJSONRenderer()
        request.accepted_media_type = CONTENT_TYPE
        return Response(
            body,
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
            content_type=CONTENT_TYPE,
            headers={"Retry-After": str(DATABASE_RETRY_AFTER)},
        )
    return response
