"""A PATCH replaces a nested value (an area's thresholds, a sensor's active periods) whole: what it
lacks is named (422 with a pointer), never a KeyError."""

import pytest

from sensors.models import ActivePeriod, Area
from tests.robustness.conftest import assert_problem, pointers

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "thresholds,pointer",
    [
        ({"default": {"crowded": 2.0}}, "/thresholds/default/busy"),
        ({"default": {"busy": 1.0}}, "/thresholds/default/crowded"),
        ({"weekly": [{"busy": 1.0, "crowded": 2.0}]}, "/thresholds/weekly/0/weekday"),
        ({"weekly": [{"weekday": 1, "crowded": 2.0}]}, "/thresholds/weekly/0/busy"),
    ],
)
def test_a_partial_threshold_names_what_is_missing(steward, area, thresholds, pointer):
    body = assert_problem(steward.patch(f"/api/v1/areas/{area['id']}/", {"thresholds": thresholds}, format="json"), 422)
    assert pointer in pointers(body)


def test_a_whole_threshold_can_be_patched(steward, area):
    thresholds = {"default": {"busy": 1.0, "crowded": 2.0}}
    response = steward.patch(f"/api/v1/areas/{area['id']}/", {"thresholds": thresholds}, format="json")
    assert response.status_code == 200, response.content
    assert Area.objects.get().thresholds == thresholds


@pytest.mark.parametrize(
    "period,pointer",
    [
        ({"starts_at": "2026-06-01T10:00:00Z"}, "/active_periods/0/ends_at"),
        ({"ends_at": "2026-06-01T10:00:00Z"}, "/active_periods/0/starts_at"),
        ({"label": "kermis"}, "/active_periods/0/starts_at"),
    ],
)
def test_a_partial_active_period_names_what_is_missing(steward, sensor, period, pointer):
    body = assert_problem(steward.patch(f"/api/v1/sensors/{sensor.pk}/", {"active_periods": [period]}, format="json"))
    assert pointer in pointers(body)
    assert not ActivePeriod.objects.exists()
