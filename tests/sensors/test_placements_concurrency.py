"""Two changes of one sensor's placements serialise on its row (FOR UPDATE): the second sees the first's
placements and is checked against them, so no update is lost and no placements overlap."""

import threading
from datetime import UTC, datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction

from accounts.models import Role
from accounts.selectors import Caller
from sensors import services
from sensors.models import Placement, Sensor, SensorStatus, SensorType
from sensors.signals import placements_changed
from tests.sensors.conftest import SQUARE

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_a_move_during_another_waits_for_it_and_is_checked_against_it(city):
    if connection.vendor != "postgresql":
        pytest.skip("row locks are PostgreSQL's")
    steward = Caller(roles={city.pk: Role.DATA_STEWARD})
    first, second, third = (
        services.area_create(caller=steward, owner=city, name=name, area_type="square", geometry=SQUARE)
        for name in ("A", "B", "C")
    )
    sensor = Sensor.objects.create(
        controller=city,
        operator=city,
        sensor_type=SensorType.objects.get(code="lidar-counter"),
        reference="gate-1",
        name="gate-1",
        latitude=52.0,
        longitude=5.0,
        personal_data_at_edge=False,
        status=SensorStatus.ACTIVE,
        installed_at=datetime(2019, 1, 1, tzinfo=UTC),
        area=first,
    )
    Placement.objects.create(sensor=sensor, area=first, starts_at=sensor.installed_at)
    holding, release, errors, refused = threading.Event(), threading.Event(), [], []

    def hold(sender, **kwargs):
        if threading.current_thread().name == "first":
            holding.set()
            release.wait(10)  # inside the first move's transaction, its placements written

    def move(area, at):
        try:
            with transaction.atomic():
                services.sensor_move(caller=steward, sensor=sensor, area=area, at=at)
        except ValidationError as error:
            refused.append(error.message_dict)
        except Exception as error:  # noqa: BLE001 (reported by the assertion below)
            errors.append(error)
        finally:
            connection.close()  # this thread's own connection

    placements_changed.connect(hold)
    try:
        a = threading.Thread(target=move, args=(second, datetime(2021, 1, 1, tzinfo=UTC)), name="first")
        b = threading.Thread(target=move, args=(third, datetime(2020, 6, 1, tzinfo=UTC)), name="second")
        a.start()
        assert holding.wait(10)
        b.start()
        b.join(1.0)
        waited = b.is_alive()
        release.set()
        a.join(10)
        b.join(10)
    finally:
        placements_changed.disconnect(hold)
    assert not errors, errors
    assert waited
    # The second move lies before the first one's: refused, not written over it.
    assert list(refused[0]) == ["at"]
    assert list(Placement.objects.order_by("starts_at").values_list("area__name", "starts_at", "ends_at")) == [
        ("A", datetime(2019, 1, 1, tzinfo=UTC), datetime(2021, 1, 1, tzinfo=UTC)),
        ("B", datetime(2021, 1, 1, tzinfo=UTC), None),
    ]
    assert Sensor.objects.get().area == second
