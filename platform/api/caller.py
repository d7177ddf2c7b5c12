"""The caller of a DRF request, computed once per request."""

from rest_framework.exceptions import ValidationError

from accounts.models import ApiKey
from accounts.selectors import Caller, caller_from


def caller_of(request) -> Caller:
    caller = getattr(request, "_platform_caller", None)
    if caller is None:
        api_key = request.auth if isinstance(request.auth, ApiKey) else None
        caller = caller_from(user=None if api_key else request.user, api_key=api_key)
        request._platform_caller = caller
    return caller


def sole_organisation(caller: Caller, roles, *, field: str, detail: str):
    """The one organisation in which the caller holds one of `roles`, for requests that may leave it
    unnamed; a 422 on `field` when there are several (or none)."""
    from accounts.models import Organisation

    candidates = sorted(caller.organisations_with(roles))
    if len(candidates) != 1:
        raise ValidationError({field: detail})
    return Organisation.objects.get(pk=candidates[0])
