"""Routes of purposes, assessments, grants, the access log and the public views of them."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from purposes.api.views import (
    AccessEventViewSet,
    AssessmentViewSet,
    GrantViewSet,
    PublicAccessStatsView,
    PublicPurposeViewSet,
    PurposeViewSet,
)

app_name = "purposes-api"

router = SimpleRouter()
router.register("purposes", PurposeViewSet, basename="purpose")
router.register("assessments", AssessmentViewSet, basename="assessment")
router.register("grants", GrantViewSet, basename="grant")
router.register("access-events", AccessEventViewSet, basename="access-event")
router.register("public/purposes", PublicPurposeViewSet, basename="public-purpose")

urlpatterns = [
    path("public/access-stats/", PublicAccessStatsView.as_view(), name="public-access-stats"),
    *router.urls,
]
