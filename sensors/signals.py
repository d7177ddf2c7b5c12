"""Signals the sensors app sends, for apps that keep figures derived from sensors (it imports none of them)."""

from django.dispatch import Signal

# Sent (inside the transaction that made the change) when a sensor's placements changed over a span of time:
# keyword arguments `sensor_id`, `start` and `end` (datetimes, None for an open end). Receivers that attribute
# records to areas (datasets' area rollups) recompute that span.
placements_changed = Signal()
