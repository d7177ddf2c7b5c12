"""Rate limits per API key, per signed-in user and per anonymous IP address."""

from rest_framework.settings import api_settings
from rest_framework.throttling import BaseThrottle, SimpleRateThrottle

from accounts.models import ApiKey


class CallerRateThrottle(SimpleRateThrottle):
    """One bucket per caller: `api_key` rate per key, `user` per person, `anon` per IP address."""

    scope = "anon"

    def get_rate(self):
        # Read at call time (not import time) so that a settings change takes effect.
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)

    def allow_request(self, request, view):
        if isinstance(request.auth, ApiKey):
            self.scope, self.ident = "api_key", request.auth.prefix
        elif request.user is not None and request.user.is_authenticated:
            self.scope, self.ident = "user", request.user.pk
        else:
            self.scope, self.ident = "anon", self.get_ident(request)
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request, view)

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.ident}


def client_address(request) -> str | None:
    """The client's address: REMOTE_ADDR, or behind NUM_PROXIES proxies of ours the X-Forwarded-For entry the
    nearest one appended. The one rule for throttling and the sign-in lock (django-axes)."""
    return BaseThrottle().get_ident(request)
