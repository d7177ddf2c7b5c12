"""The caller of a DRF request, computed once per request."""

from accounts.models import ApiKey
from accounts.selectors import Caller, caller_from


def caller_of(request) -> Caller:
    caller = getattr(request, "_platform_caller", None)
    if caller is None:
        api_key = request.auth if isinstance(request.auth, ApiKey) else None
        caller = caller_from(user=None if api_key else request.user, api_key=api_key)
        request._platform_caller = caller
    return caller
