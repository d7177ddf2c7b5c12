"""Role checks: each view maps its actions to the roles they need; the decision is per organisation."""

from rest_framework.permissions import SAFE_METHODS, BasePermission

from accounts.models import Role
from api.caller import caller_of

ANY_MEMBER = frozenset(Role.values)


def required_roles(view, request) -> frozenset[str]:
    """The roles for the view's action: `action_roles[action]`, else its `read` or `write` entry."""
    action_roles = getattr(view, "action_roles", {})
    action = getattr(view, "action", None)
    if action in action_roles:
        return frozenset(action_roles[action])
    fallback = "read" if request.method in SAFE_METHODS else "write"
    return frozenset(action_roles.get(fallback, ANY_MEMBER if fallback == "read" else {Role.ADMIN}))


class HasOrganisationRole(BasePermission):
    """Allows a caller who holds a required role; on an object, the role must be in its organisation."""

    def has_permission(self, request, view) -> bool:
        caller = caller_of(request)
        return caller.is_authenticated and caller.has_role(required_roles(view, request))

    def has_object_permission(self, request, view, obj) -> bool:
        caller, roles = caller_of(request), required_roles(view, request)
        if any(caller.has_role(roles, organisation_id=org) for org in view.organisation_ids_of(obj)):
            return True
        # Rows others may read (the view's declared `shared_read`), for reading only.
        shared = getattr(view, "shared_read", None)
        return (
            request.method in SAFE_METHODS
            and shared is not None
            and type(obj)._default_manager.filter(shared, pk=obj.pk).exists()
        )


class IsAuthenticatedCaller(BasePermission):
    """Any signed-in person or valid API key, member of an organisation or not."""

    def has_permission(self, request, view) -> bool:
        return caller_of(request).is_authenticated


class ReadsDataOrAnonymous(BasePermission):
    """For purpose-bound data: callers of no organisation (open grants only), or with a role that reads data."""

    message = "Your role sends data in; it does not read data. Use a key or account of an analyst or steward."

    def has_permission(self, request, view) -> bool:
        from purposes.services import READING_ROLES

        caller = caller_of(request)
        # No organisation at all: like an anonymous caller, open grants only.
        return not caller.roles or caller.has_role(READING_ROLES)
