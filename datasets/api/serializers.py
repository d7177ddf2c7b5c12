"""Serializers for schemas, datasets and ingest batches."""

from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.models import Organisation
from accounts.selectors import ANONYMOUS, organisation_list
from api.caller import caller_of
from api.fields import ScopedPrimaryKeyRelatedField, ScopedSlugRelatedField
from datasets.indicators.privacy import privacy_budget_view
from datasets.models import (
    AccessClassification,
    Dataset,
    IngestBatch,
    SchemaVersion,
    StandardSchema,
    Theme,
    UpdateFrequency,
)
from datasets.selectors import dataset_places
from purposes import selectors as purposes_selectors
from purposes.models import Purpose
from sensors import selectors as sensors_selectors
from sensors.models import Area, Sensor

EU_THEMES = Theme.values
EU_FREQUENCIES = UpdateFrequency.values


def schema_version_url(version: SchemaVersion, request=None, suffix: str = "") -> str:
    path = reverse("datasets-api:schema-version", kwargs={"code": version.schema.code, "version": version.version})
    path += suffix
    return request.build_absolute_uri(path) if request is not None else path


class SchemaVersionSerializer(serializers.ModelSerializer):
    code = serializers.CharField(source="schema.code", read_only=True)
    url = serializers.SerializerMethodField()
    json_schema_url = serializers.SerializerMethodField()

    class Meta:
        model = SchemaVersion
        fields = [
            "code",
            "version",
            "url",
            "json_schema_url",
            "title",
            "description",
            "subject",
            "time_semantics",
            "measures",
            "derived_columns",
            "quality",
            "privacy_class",
            "record_schema",
            "examples",
            "mappings",
            "content_sha256",
            "published_at",
        ]

    def get_url(self, version) -> str:
        return schema_version_url(version, self.context.get("request"))

    def get_json_schema_url(self, version) -> str:
        return schema_version_url(version, self.context.get("request"), "json-schema")


class SchemaVersionSummarySerializer(SchemaVersionSerializer):
    class Meta(SchemaVersionSerializer.Meta):
        fields = ["version", "url", "json_schema_url", "published_at", "content_sha256"]


class StandardSchemaSerializer(serializers.ModelSerializer):
    latest = serializers.SerializerMethodField()
    versions = serializers.SerializerMethodField()

    class Meta:
        model = StandardSchema
        fields = ["code", "title", "description", "latest", "versions"]

    def _versions(self, schema):
        return sorted(schema.versions.all(), key=lambda v: tuple(int(p) for p in v.version.split(".")))

    def get_latest(self, schema) -> dict:
        return SchemaVersionSerializer(self._versions(schema)[-1], context=self.context).data

    def get_versions(self, schema) -> list[dict]:
        return SchemaVersionSummarySerializer(self._versions(schema), many=True, context=self.context).data


class StandardSchemaListSerializer(StandardSchemaSerializer):
    latest_version = serializers.SerializerMethodField()

    class Meta(StandardSchemaSerializer.Meta):
        fields = ["code", "title", "description", "latest_version", "versions"]

    def get_latest_version(self, schema) -> str:
        return self._versions(schema)[-1].version


class PrivacyBudgetSerializer(serializers.Serializer):
    """A dataset's privacy budget for noisy answers under open grants (docs/privacy-of-aggregates.md)."""

    total_epsilon = serializers.FloatField(help_text="What readers may spend all told.")
    spent_epsilon = serializers.FloatField(help_text="What they spent since the last reset (the ledger's sum).")
    remaining_epsilon = serializers.FloatField()
    default_total = serializers.BooleanField(help_text="The total is the platform's default, not the owner's own.")
    reset_at = serializers.DateTimeField(allow_null=True, help_text="When the owner last set spent back to 0.")


class PrivacyBudgetChangeSerializer(serializers.Serializer):
    total_epsilon = serializers.DecimalField(
        max_digits=30,
        decimal_places=9,
        allow_null=True,
        required=False,
        coerce_to_string=False,
        help_text="From 0 (no noisy answers) to 1,000,000; null: back to the platform's default.",
    )
    reset = serializers.BooleanField(
        required=False, default=False, help_text="Set what was spent back to 0 (the ledger keeps every charge)."
    )


class DatasetSerializer(serializers.ModelSerializer):
    owner = ScopedSlugRelatedField(
        slug_field="slug",
        model=Organisation,
        scope=organisation_list,
        required=False,
        help_text="Your organisation (default: your only one).",
    )
    schema = ScopedSlugRelatedField(
        source="schema_version.schema",
        slug_field="code",
        model=StandardSchema,
        public="the standard schemas are public (/api/v1/schemas/)",
    )
    schema_version = serializers.CharField(source="schema_version.version", required=False)
    conforms_to = serializers.SerializerMethodField(help_text="URL of the schema version (DCAT-AP dct:conformsTo).")
    sensors = ScopedPrimaryKeyRelatedField(
        many=True,
        model=Sensor,
        scope=sensors_selectors.sensors_controlled_or_operated,
        required=False,
        help_text="Sensors the owner controls or operates. Outside the owner, the public ones only.",
    )
    areas = ScopedPrimaryKeyRelatedField(
        many=True,
        model=Area,
        scope=sensors_selectors.areas_owned,
        required=False,
        help_text="The owner's areas (published with the dataset: their outline is in spatial_coverage).",
    )
    themes = serializers.ListField(child=serializers.ChoiceField(choices=EU_THEMES), required=False)
    keywords = serializers.ListField(child=serializers.CharField(max_length=60), required=False)
    update_frequency = serializers.ChoiceField(choices=EU_FREQUENCIES, required=False)
    access = serializers.ChoiceField(choices=AccessClassification.choices)
    collection_purposes = ScopedSlugRelatedField(
        many=True,
        slug_field="code",
        model=Purpose,
        scope=purposes_selectors.purposes_held,
        required=False,
        help_text="Codes of the owner's purposes the data is collected for (they act as its records-level grants).",
    )
    spatial_coverage = serializers.SerializerMethodField(
        help_text="Bounding box of the sensors and areas you may see: outside the owner, public sensors only."
    )
    temporal_coverage = serializers.SerializerMethodField(help_text="First and last observation held.")
    privacy_budget = serializers.SerializerMethodField(
        help_text="The privacy budget noisy answers under open grants spend; its owner's data steward changes it "
        "(PATCH privacy-budget/)."
    )

    class Meta:
        model = Dataset
        fields = [
            "id",
            "owner",
            "title",
            "description",
            "schema",
            "schema_version",
            "conforms_to",
            "publisher",
            "contact_point",
            "licence",
            "themes",
            "keywords",
            "sensors",
            "areas",
            "spatial_coverage",
            "temporal_coverage",
            "update_frequency",
            "quality_statement",
            "retention_days",
            "rollup_retention_days",
            "collection_purposes",
            "access",
            "status",
            "privacy_budget",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "created_at", "updated_at"]

    def get_conforms_to(self, dataset) -> str:
        return schema_version_url(dataset.schema_version, self.context.get("request"))

    def _caller(self):
        request = self.context.get("request")
        return caller_of(request) if request is not None else ANONYMOUS

    def to_representation(self, dataset):
        # Sensors, areas and coverage as far as the caller may see them (datasets.selectors.dataset_places).
        self._places = dataset_places(dataset, caller=self._caller())
        data = super().to_representation(dataset)
        data["sensors"], data["areas"] = self._places.sensor_ids, self._places.area_ids
        return data

    def get_spatial_coverage(self, dataset) -> list[float] | None:
        return self._places.bbox

    @extend_schema_field(PrivacyBudgetSerializer)
    def get_privacy_budget(self, dataset) -> dict:
        return PrivacyBudgetSerializer(privacy_budget_view(dataset)).data

    def get_temporal_coverage(self, dataset) -> dict | None:
        from datasets.selectors import dataset_time_span

        return dataset_time_span(dataset)

    def validate(self, attrs):
        schema_part = attrs.pop("schema_version", {})
        schema = schema_part.get("schema") or (self.instance.schema_version.schema if self.instance else None)
        version = schema_part.get("version")
        if schema is not None and (("schema" in schema_part) or version):
            versions = SchemaVersion.objects.filter(schema=schema)
            chosen = versions.filter(version=version).first() if version else versions.order_by("-published_at").first()
            if chosen is None:
                raise serializers.ValidationError({"schema_version": f"{schema.code} has no version {version}."})
            attrs["schema_version"] = chosen
        # Rollups outlive raw records (ADR 0009): never kept for fewer days than the records they come from.
        current = self.instance
        retention = attrs.get("retention_days", current.retention_days if current else None)
        retention = retention or Dataset._meta.get_field("retention_days").default
        rollups = attrs.get("rollup_retention_days", current.rollup_retention_days if current else None)
        if rollups is not None and rollups < retention:
            raise serializers.ValidationError(
                {"rollup_retention_days": f"At least retention_days ({retention}): rollups outlive their records."}
            )
        return attrs


class PublicDatasetSerializer(DatasetSerializer):
    owner = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    collection_purposes = serializers.SlugRelatedField(many=True, slug_field="code", read_only=True)

    class Meta(DatasetSerializer.Meta):
        read_only_fields = DatasetSerializer.Meta.fields

    def _caller(self):
        return ANONYMOUS  # the catalogue is the same for everyone: built from what is public


class IngestBatchSerializer(serializers.ModelSerializer):
    organisation = serializers.SlugRelatedField(slug_field="slug", read_only=True, allow_null=True)
    user = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    # Plain integers: the model's bounds depend on the database backend, the published contract must not.
    received = serializers.IntegerField(read_only=True)
    created = serializers.IntegerField(read_only=True)
    updated = serializers.IntegerField(read_only=True)
    unchanged = serializers.IntegerField(read_only=True)
    rejected = serializers.IntegerField(read_only=True)
    rejected_by_reason = serializers.DictField(
        child=serializers.IntegerField(), read_only=True, help_text="Records refused per code (docs/errors.md)."
    )

    class Meta:
        model = IngestBatch
        fields = [
            "id",
            "received_at",
            "organisation",
            "user",
            "api_key_prefix",
            "source_format",
            "status",
            "received",
            "created",
            "updated",
            "unchanged",
            "rejected",
            "rejected_by_reason",
            "idempotency_key",
        ]


class IngestResultSerializer(serializers.Serializer):
    batch = serializers.IntegerField()
    received = serializers.IntegerField()
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    unchanged = serializers.IntegerField()
    rejected = serializers.IntegerField()
    errors = serializers.ListField(
        child=serializers.DictField(), required=False, help_text="?partial=true only: at most 1,000 problems."
    )
    errors_total = serializers.IntegerField(required=False, help_text="How many problems there were, all told.")
    errors_truncated = serializers.BooleanField(required=False, help_text="Whether `errors` left some out.")
