"""Property-based: arbitrary placement histories, moves and placements from an area's polygon never cause a
5xx (every refusal is problem+json), and whatever is accepted leaves placements that do not overlap, with
`Sensor.area` the area of the open one."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sensors.models import Placement, Sensor, SensorStatus
from sensors.placements import Span, check_placements, ordered
from tests.robustness.test_properties import EXAMPLES, answered, encoded, fuzz, json_values, moment_text

pytestmark = pytest.mark.django_db

# Plausible moments (most histories get past the serializer) and anything else.
plausible = st.sampled_from(
    [None, "2019-01-01", "2020-01-01T00:00:00Z", "2020-06-01T12:00:00+02:00", "2021-01-01", "2999-01-01"]
)
moments = plausible | moment_text | json_values


def placement(area_ids):
    return st.fixed_dictionaries(
        {},
        optional={
            "area": st.sampled_from(area_ids) | json_values,
            "direction": st.sampled_from(["enters", "leaves", "inside"]) | json_values,
            "starts_at": moments,
            "ends_at": moments,
        },
    )


def assert_placements_hold(sensor_id: int) -> None:
    spans = ordered([Span.of(p) for p in Placement.objects.filter(sensor_id=sensor_id)])
    assert check_placements(spans) == {}
    open_area = spans[-1].area_id if spans and spans[-1].ends_at is None else None
    assert Sensor.objects.get(pk=sensor_id).area_id == open_area


@pytest.fixture
def areas(steward, area):
    other = {"type": "Polygon", "coordinates": [[[5.01, 52.0], [5.011, 52.0], [5.011, 52.001], [5.01, 52.0]]]}
    second = steward.post("/api/v1/areas/", {"name": "Markt", "area_type": "square", "geometry": other}, format="json")
    assert second.status_code == 201, second.content
    return [area["id"], second.json()["id"], 10**9]


@fuzz()
@given(data=st.data())
def test_sensor_placement_histories(steward, sensor, areas, data):
    body = data.draw(
        st.fixed_dictionaries({"placements": st.lists(placement(areas), max_size=4)}, optional={"note": json_values})
        | json_values
    )
    answered(steward.put(f"/api/v1/sensors/{sensor.pk}/placements/", encoded(body), content_type="application/json"))
    assert_placements_hold(sensor.pk)


@fuzz(EXAMPLES * 2)
@given(data=st.data())
def test_sensor_moves(steward, sensor, areas, data):
    body = data.draw(
        st.fixed_dictionaries(
            {},
            optional={
                "area": st.sampled_from([*areas, None]) | json_values,
                "at": moments,
                "direction": st.sampled_from(["enters", "inside"]) | json_values,
                "note": json_values,
            },
        )
        | json_values
    )
    answered(steward.post(f"/api/v1/sensors/{sensor.pk}/move/", encoded(body), content_type="application/json"))
    assert_placements_hold(sensor.pk)


@fuzz()
@given(data=st.data())
def test_area_sensors_inside_placed(steward, sensor, areas, data):
    Sensor.objects.filter(pk=sensor.pk).update(status=SensorStatus.ACTIVE)
    body = data.draw(
        st.fixed_dictionaries(
            {},
            optional={
                "sensors": st.lists(st.sampled_from([sensor.pk, 10**9, -1]) | json_values, max_size=3) | json_values,
                "at": moments,
                "direction": json_values,
            },
        )
        | json_values
    )
    url = f"/api/v1/areas/{areas[0]}/sensors-inside/"
    answered(steward.get(url))
    answered(steward.post(f"{url}place/", encoded(body), content_type="application/json"))
    assert_placements_hold(sensor.pk)
