"""A square with two gates, a dataset of 5-minute counts, and a reader with an `aggregate` purpose."""

from datetime import UTC, datetime, timedelta

import pytest

from accounts.models import Role
from purposes.models import AccessLevel
from sensors.models import Placement
from tests.datasets.conftest import city, count_record, gates, make_dataset, vendor  # noqa: F401 (fixtures)
from tests.datasets.test_bounds import post_json
from tests.purposes.conftest import grant, make_purpose
from tests.security.conftest import make_area

VALUES = "/api/v1/indicators/{code}/values/"


def five_minutes(sensor, start: datetime, end: datetime, count_in, count_out):
    """Records of 5 minutes from start to end; counts may be numbers or functions of the record's start."""
    records, moment = [], start
    while moment < end:
        records.append(
            count_record(
                sensor,
                moment.isoformat(),
                (moment + timedelta(minutes=5)).isoformat(),
                count_in=count_in(moment) if callable(count_in) else count_in,
                count_out=count_out(moment) if callable(count_out) else count_out,
            )
        )
        moment += timedelta(minutes=5)
    return records


@pytest.fixture
def square(city):  # noqa: F811 (the fixture imported above)
    """The square (walkway, 20 m² usable, 2 m wide) that gate-1 enters."""
    return make_area(city, "Square", 5.0, 52.0, surface_m2_override=20.0, effective_width_m=2.0)


@pytest.fixture
def lab(city, gates, square, key_client):  # noqa: F811
    Placement.objects.create(sensor=gates[0], area=square, direction="enters")
    dataset = make_dataset(city, sensors=gates)
    purpose = make_purpose(city, "stad-indicators")
    dataset.collection_purposes.set([purpose])
    owner = key_client(city, Role.INTEGRATOR)
    reader = key_client(city, Role.ANALYST)

    def send(records):
        for start in range(0, len(records), 5000):
            answer = post_json(owner, dataset, records[start : start + 5000])
            assert answer.status_code == 201, answer.json()

    def values(code, expect=200, **query):
        answer = reader.get(VALUES.format(code=code), {"dataset": dataset.pk, **query}, HTTP_X_PURPOSE=purpose.code)
        assert answer.status_code == expect, answer.content[:2000]
        return answer.json() if answer["Content-Type"].endswith("json") else answer

    return {"dataset": dataset, "purpose": purpose, "send": send, "values": values, "reader": reader, "city": city}


def open_grant(dataset, holder, code, **conditions):
    from purposes.models import PurposeCategory

    purpose = make_purpose(holder, code, levels=("aggregate",), category=PurposeCategory.RESEARCH)
    dataset.collection_purposes.add(purpose)
    grant(dataset, purpose, None, AccessLevel.AGGREGATE, **conditions)
    return purpose


MONDAY = datetime(2026, 3, 2, 8, tzinfo=UTC)  # 09:00 in Amsterdam (CET)
