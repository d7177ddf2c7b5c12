"""Routes of the schema registry, datasets and the public catalogue."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from datasets.api.indicators import IndicatorDetailView, IndicatorListView, IndicatorValuesView
from datasets.api.records import CountListView, RecordListView
from datasets.api.views import (
    CatalogView,
    DatasetViewSet,
    PublicDatasetViewSet,
    RecordJSONSchemaView,
    SchemaVersionView,
    StandardSchemaViewSet,
)

app_name = "datasets-api"

router = SimpleRouter()
router.register("schemas", StandardSchemaViewSet, basename="schema")
router.register("datasets", DatasetViewSet, basename="dataset")
router.register("public/datasets", PublicDatasetViewSet, basename="public-dataset")

urlpatterns = [
    path("schemas/<slug:code>/versions/<str:version>/", SchemaVersionView.as_view(), name="schema-version"),
    path("schemas/<slug:code>/versions/<str:version>/json-schema", RecordJSONSchemaView.as_view(), name="schema-json"),
    path("public/catalog/", CatalogView.as_view(), name="public-catalog"),
    path("records/", RecordListView.as_view(), name="record-list"),
    path("aggregates/counts/", CountListView.as_view(), name="count-list"),
    path("indicators/", IndicatorListView.as_view(), name="indicator-list"),
    path("indicators/<slug:code>/", IndicatorDetailView.as_view(), name="indicator-detail"),
    path("indicators/<slug:code>/values/", IndicatorValuesView.as_view(), name="indicator-values"),
    *router.urls,
]
