"""Writes for accounts: organisations, memberships and the life of an API key."""

from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from accounts.models import ApiKey, Membership, Organisation, Role

# A key's last-used time is written at most this often, so that a busy key does not turn every
# request into a write.
LAST_USED_RESOLUTION = timedelta(minutes=1)


class ApiKeyRejected(Exception):
    """The presented key cannot be used; `code` says why (invalid, revoked, expired)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def organisation_create(
    *, name: str, slug: str, kind: str, contact_email: str = "", description: str = "", website: str = ""
) -> Organisation:
    organisation = Organisation(
        name=name, slug=slug, kind=kind, contact_email=contact_email, description=description, website=website
    )
    organisation.full_clean()
    organisation.save()
    return organisation


def organisation_update(*, organisation: Organisation, **changes) -> Organisation:
    for name, value in changes.items():
        setattr(organisation, name, value)
    organisation.full_clean()
    organisation.save(update_fields=list(changes))
    return organisation


def membership_set(*, user, organisation: Organisation, role: str) -> Membership:
    membership, _ = Membership.objects.update_or_create(
        user=user, organisation=organisation, defaults={"role": Role(role)}
    )
    return membership


def user_create(*, username: str, password: str, email: str = "", first_name: str = "", last_name: str = ""):
    return get_user_model().objects.create_user(
        username=username, password=password, email=email, first_name=first_name, last_name=last_name
    )


def api_key_create(
    *,
    organisation: Organisation,
    name: str,
    role: str = Role.INTEGRATOR,
    expires_at: datetime | None = None,
    created_by=None,
) -> tuple[ApiKey, str]:
    """Create a key and return it with its secret, which is never stored and never shown again."""
    api_key, secret = ApiKey.objects.create_key(
        organisation=organisation, name=name, role=Role(role), expiry_date=expires_at, created_by=created_by
    )
    return api_key, secret


@transaction.atomic
def api_key_revoke(*, api_key: ApiKey) -> ApiKey:
    """Revoke a key for good; revoking twice keeps the first revocation time."""
    api_key = ApiKey.objects.select_for_update().get(pk=api_key.pk)
    if not api_key.revoked:
        api_key.revoked = True
        api_key.revoked_at = timezone.now()
        api_key.save(update_fields=["revoked", "revoked_at"])
    return api_key


def api_key_authenticate(*, secret: str) -> ApiKey:
    """Return the usable key for a presented secret, or raise ApiKeyRejected; records the last use."""
    prefix, dot, _ = secret.partition(".")
    if not dot:
        raise ApiKeyRejected("api_key_invalid", "The API key is not valid.")
    api_key = ApiKey.objects.select_related("organisation").filter(prefix=prefix).first()
    if api_key is None or not api_key.is_valid(secret):
        raise ApiKeyRejected("api_key_invalid", "The API key is not valid.")
    if api_key.revoked:
        raise ApiKeyRejected("api_key_revoked", "The API key has been revoked.")
    if api_key.has_expired:
        raise ApiKeyRejected("api_key_expired", "The API key has expired.")
    now = timezone.now()
    if api_key.last_used_at is None or now - api_key.last_used_at >= LAST_USED_RESOLUTION:
        ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
        api_key.last_used_at = now
    return api_key
