"""Serializer machinery shared by the apps."""

from rest_framework import serializers


class WholeValueMixin:
    """A value nested in a resource (an area's thresholds, a sensor's active periods, a purpose's KPIs) that a
    PATCH of the resource replaces whole: its required fields stay required when the resource is patched
    (DRF relaxes them for every nested field of a partial update; the value stored would then lack them)."""

    def to_internal_value(self, data):
        attrs = super().to_internal_value(data)
        missing = {
            name: [field.error_messages["required"]]
            for name, field in self.fields.items()
            if field.required and not field.read_only and field.source not in attrs
        }
        if missing:
            raise serializers.ValidationError(missing)
        return attrs
