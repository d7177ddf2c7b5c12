"""DRF authentication with `Authorization: Api-Key <prefix>.<secret>`."""

from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.exceptions import AuthenticationFailed

from accounts.models import ApiKey
from accounts.services import ApiKeyRejected, api_key_authenticate

KEYWORD = "Api-Key"


class ApiKeyPrincipal:
    """Stands in for `request.user` when a machine calls with an API key."""

    is_authenticated = True
    is_anonymous = False
    is_active = True
    is_staff = False
    is_superuser = False
    pk = None

    def __init__(self, api_key: ApiKey) -> None:
        self.api_key = api_key
        self.username = f"api-key:{api_key.prefix}"

    def __str__(self) -> str:
        return self.username

    def has_perm(self, perm, obj=None) -> bool:
        return False


class ApiKeyAuthentication(BaseAuthentication):
    def authenticate(self, request):
        keyword, _, secret = get_authorization_header(request).decode("latin-1").partition(" ")
        if keyword.lower() != KEYWORD.lower():
            return None
        secret = secret.strip()
        if not secret:
            raise AuthenticationFailed("The Authorization header names no API key.", code="api_key_missing")
        try:
            api_key = api_key_authenticate(secret=secret)
        except ApiKeyRejected as rejected:
            raise AuthenticationFailed(str(rejected), code=rejected.code) from None
        return ApiKeyPrincipal(api_key), api_key

    def authenticate_header(self, request) -> str:
        return f'{KEYWORD} realm="api"'
