"""Routes of the accounts API."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from accounts.api.views import ApiKeyViewSet, MeView, OrganisationViewSet

app_name = "accounts-api"

router = SimpleRouter()
router.register("organisations", OrganisationViewSet, basename="organisation")
router.register("api-keys", ApiKeyViewSet, basename="api-key")

urlpatterns = [path("me/", MeView.as_view(), name="me"), *router.urls]
