"""Reads for accounts: who is calling, and which organisations and keys they may see."""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from django.db.models import QuerySet

from accounts.models import ApiKey, Membership, Organisation


@dataclass(frozen=True)
class Caller:
    """Whoever makes a request: a person (session) or a machine (API key), with a role per organisation."""

    user: object | None = None
    api_key: ApiKey | None = None
    roles: Mapping[int, str] = field(default_factory=dict)

    @property
    def is_authenticated(self) -> bool:
        return self.user is not None or self.api_key is not None

    @property
    def kind(self) -> str:
        if self.api_key is not None:
            return "api_key"
        return "user" if self.user is not None else "anonymous"

    @property
    def organisation_ids(self) -> frozenset[int]:
        return frozenset(self.roles)

    def role_in(self, organisation_id: int | None) -> str | None:
        return self.roles.get(organisation_id) if organisation_id is not None else None

    def organisations_with(self, roles: Iterable[str]) -> frozenset[int]:
        """The organisations in which the caller holds one of `roles`."""
        wanted = set(roles)
        return frozenset(org for org, role in self.roles.items() if role in wanted)

    def has_role(self, roles: Iterable[str], *, organisation_id: int | None = None) -> bool:
        """True when the caller holds one of `roles` in that organisation (or in any, when None)."""
        wanted = set(roles)
        if organisation_id is not None:
            return self.role_in(organisation_id) in wanted
        return any(role in wanted for role in self.roles.values())


ANONYMOUS = Caller()


def caller_from(*, user, api_key: ApiKey | None) -> Caller:
    if api_key is not None:
        return Caller(api_key=api_key, roles={api_key.organisation_id: api_key.role})
    if user is None or not user.is_authenticated:
        return ANONYMOUS
    roles = dict(Membership.objects.filter(user=user).values_list("organisation_id", "role"))
    return Caller(user=user, roles=roles)


def organisation_list(*, caller: Caller) -> QuerySet[Organisation]:
    return Organisation.objects.filter(pk__in=caller.organisation_ids)


def organisations_with(*, caller: Caller, roles: Iterable[str]) -> QuerySet[Organisation]:
    """The caller's organisations in which it holds one of `roles`."""
    return Organisation.objects.filter(pk__in=caller.organisations_with(roles))


def api_key_list(*, caller: Caller) -> QuerySet[ApiKey]:
    return ApiKey.objects.filter(organisation_id__in=caller.organisation_ids).select_related("organisation")
