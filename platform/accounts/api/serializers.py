"""Serializers for organisations, API keys and the caller."""

from django.utils import timezone
from rest_framework import serializers

from accounts.models import ApiKey, Organisation, Role
from accounts.selectors import organisations_with
from api.fields import ScopedSlugRelatedField


class OrganisationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Organisation
        fields = ["slug", "name", "kind", "description", "contact_email", "website", "created_at"]
        read_only_fields = ["slug", "kind", "created_at"]


class ApiKeySerializer(serializers.ModelSerializer):
    organisation = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    expires_at = serializers.DateTimeField(source="expiry_date", read_only=True, allow_null=True)
    created_at = serializers.DateTimeField(source="created", read_only=True)
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    purposes = serializers.SerializerMethodField(
        help_text="The purposes it is limited to; empty: all of its organisation's."
    )

    class Meta:
        model = ApiKey
        fields = [
            "prefix",
            "name",
            "organisation",
            "role",
            "created_at",
            "created_by",
            "expires_at",
            "revoked",
            "revoked_at",
            "last_used_at",
            "purposes",
        ]
        read_only_fields = fields

    def get_purposes(self, api_key) -> list[str]:
        return sorted(limit.purpose.code for limit in api_key.purpose_limits.select_related("purpose"))


def organisations_administered(*, caller):
    return organisations_with(caller=caller, roles={Role.ADMIN})


class ApiKeyCreateSerializer(serializers.Serializer):
    """Input for a new key. `organisation` may be left out when the caller administers only one."""

    name = serializers.CharField(max_length=50)
    role = serializers.ChoiceField(choices=Role.choices, default=Role.INTEGRATOR)
    organisation = ScopedSlugRelatedField(
        slug_field="slug", model=Organisation, scope=organisations_administered, required=False
    )
    expires_at = serializers.DateTimeField(required=False, allow_null=True)

    def validate_expires_at(self, value):
        if value is not None and value <= timezone.now():
            raise serializers.ValidationError("Must be in the future.")
        return value

    def validate(self, attrs):
        if "organisation" not in attrs:
            administered = list(self.fields["organisation"].get_queryset()[:2])
            if len(administered) != 1:
                raise serializers.ValidationError(
                    {"organisation": "You administer several organisations: name the one that owns the key."}
                )
            attrs["organisation"] = administered[0]
        return attrs


class ApiKeyCreatedSerializer(ApiKeySerializer):
    key = serializers.CharField(read_only=True, help_text="The secret. Shown this once; store it now.")

    class Meta(ApiKeySerializer.Meta):
        fields = [*ApiKeySerializer.Meta.fields, "key"]
        read_only_fields = fields


class MembershipSummarySerializer(serializers.Serializer):
    slug = serializers.CharField()
    name = serializers.CharField()
    kind = serializers.CharField()
    role = serializers.CharField()


class MeSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["user", "api_key"])
    username = serializers.CharField(allow_null=True)
    api_key = ApiKeySerializer(allow_null=True)
    organisations = MembershipSummarySerializer(many=True)
