"""Bulk import of sensors from CSV: the real Melbourne file unchanged, atomic on bad rows."""

import csv
from datetime import UTC, datetime
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from accounts.models import OrganisationKind, Role
from sensors.models import Sensor, SensorEvent
from tests.factories import OrganisationFactory

pytestmark = pytest.mark.django_db
REPO_COPY = Path(__file__).resolve().parents[2] / "sensors" / "demo_data" / "melbourne-sensor-locations.csv"
SHARED = Path(__file__).resolve().parents[3] / "shared" / "data" / "melbourne" / "sensor-locations.csv"


@pytest.fixture
def melbourne(db):
    return OrganisationFactory(kind=OrganisationKind.MUNICIPALITY, slug="city-of-melbourne", name="City of Melbourne")


@pytest.fixture
def melbourne_client(melbourne, key_client):
    return key_client(melbourne, Role.DATA_STEWARD)


def import_url(**params):
    query = {"mapping": "melbourne", "controller": "city-of-melbourne", "sensor_type": "counting-camera", **params}
    return "/api/v1/sensors/import/?" + "&".join(f"{k}={v}" for k, v in query.items())


def post_csv(client, text, **params):
    return client.generic("POST", import_url(**params), text.encode(), content_type="text/csv")


def test_the_repo_copy_is_the_shared_file():
    if not SHARED.exists():
        pytest.skip("../shared/data is not beside this checkout")
    assert REPO_COPY.read_bytes() == SHARED.read_bytes()


@pytest.mark.smoke
def test_the_melbourne_file_imports_unchanged(melbourne_client, melbourne):
    text = REPO_COPY.read_text(encoding="utf-8")
    expected = list(csv.DictReader(StringIO(text)))
    response = post_csv(melbourne_client, text)
    assert response.status_code == 201, response.content
    answer = response.json()
    assert {k: answer[k] for k in ("rows", "created", "updated", "unchanged")} == {
        "rows": 77,
        "created": 77,
        "updated": 0,
        "unchanged": 0,
    }
    assert Sensor.objects.filter(controller=melbourne).count() == len(expected) == 77
    removed = {row["sensor_id"] for row in expected if row["status"] == "R"}
    assert removed
    assert set(Sensor.objects.filter(status="removed").values_list("reference", flat=True)) == removed
    # The file has no removal date: each removed sensor is removed at the import, and the answer says so.
    assert {note["reference"] for note in answer["notes"]} == removed
    assert all("no removal date" in note["detail"] for note in answer["notes"])
    assert not Sensor.objects.filter(status="removed", removed_at__isnull=True).exists()
    assert Sensor.objects.filter(status="active").count() == 77 - len(removed)
    for row in expected:
        sensor = Sensor.objects.get(operator=melbourne, reference=row["sensor_id"])
        assert sensor.name == row["sensor_description"]
        assert sensor.latitude == pytest.approx(float(row["latitude"]))
        assert sensor.longitude == pytest.approx(float(row["longitude"]))
        assert sensor.installed_at.strftime("%Y/%m/%d") == row["installation_date"]
        assert row["sensor_name"] in sensor.description
    assert SensorEvent.objects.filter(action="imported").count() == 77

    before = dict(Sensor.objects.values_list("pk", "updated_at"))
    removals = dict(Sensor.objects.values_list("pk", "removed_at"))
    again = post_csv(melbourne_client, text)
    assert again.status_code == 200
    assert again.json() == {"rows": 77, "created": 0, "updated": 0, "unchanged": 77, "notes": []}
    # Unchanged means untouched: no new `updated_at`, no history, the first removal moment kept.
    assert dict(Sensor.objects.values_list("pk", "updated_at")) == before
    assert dict(Sensor.objects.values_list("pk", "removed_at")) == removals
    assert SensorEvent.objects.count() == 77


def test_a_bad_row_stores_nothing_and_every_bad_line_is_named(melbourne_client):
    lines = REPO_COPY.read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    broken = lines[:]
    row3 = next(csv.reader([broken[2]]))
    row3[header.index("latitude")] = "-137.8"  # outside WGS84
    broken[2] = ",".join(f'"{v}"' if "," in v else v for v in row3)
    row5 = next(csv.reader([broken[4]]))
    row5[header.index("status")] = "X"
    broken[4] = ",".join(f'"{v}"' if "," in v else v for v in row5)
    response = post_csv(melbourne_client, "\n".join(broken) + "\n")
    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json"
    errors = response.json()["errors"]
    assert [e["line"] for e in errors] == [3, 5]
    assert "Latitude" in errors[0]["detail"] and errors[0]["column"] == "location"
    assert "neither A" in errors[1]["detail"]
    assert not Sensor.objects.exists()
    assert not SensorEvent.objects.exists()


def test_missing_columns_are_named(melbourne_client):
    response = post_csv(melbourne_client, "id,name\n1,x\n")
    assert response.status_code == 422
    assert "Missing columns" in response.json()["errors"][0]["detail"]


def test_a_vendor_import_only_proposes(key_client, melbourne):
    vendor = OrganisationFactory(kind=OrganisationKind.VENDOR, slug="vendor-x")
    text = "reference,name,latitude,longitude,status\nv1,Gate 1,52.0,5.0,active\n"
    response = post_csv(key_client(vendor, Role.INTEGRATOR), text, mapping="platform", operator="vendor-x")
    assert response.status_code == 201, response.content
    assert Sensor.objects.get(reference="v1").status == "proposed"


def test_only_the_controller_or_operator_may_import(key_client, melbourne):
    stranger = OrganisationFactory(kind=OrganisationKind.MUNICIPALITY)
    response = post_csv(key_client(stranger, Role.DATA_STEWARD), REPO_COPY.read_text())
    assert response.status_code == 403
    assert not Sensor.objects.exists()


def test_the_management_command_imports_the_same(melbourne, tmp_path):
    out = StringIO()
    call_command(
        "import_sensors", str(REPO_COPY), "--mapping", "melbourne", "--controller", melbourne.slug,
        "--sensor-type", "counting-camera", stdout=out,
    )  # fmt: skip
    assert "77 rows: 77 created" in out.getvalue()
    assert "no removal date, so it is recorded as removed at the time of this import" in out.getvalue()
    stamps = dict(Sensor.objects.values_list("pk", "updated_at"))
    again = StringIO()
    call_command(
        "import_sensors", str(REPO_COPY), "--mapping", "melbourne", "--controller", melbourne.slug,
        "--sensor-type", "counting-camera", stdout=again,
    )  # fmt: skip
    assert "77 rows: 0 created, 0 updated, 77 unchanged." in again.getvalue()
    assert dict(Sensor.objects.values_list("pk", "updated_at")) == stamps
    assert SensorEvent.objects.count() == 77
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "sensor_id,sensor_description,sensor_name,installation_date,status,latitude,longitude\n1,x,y,2020/01/01,Q,1,1\n"
    )
    with pytest.raises(CommandError, match="line 2"):
        call_command(
            "import_sensors", str(bad), "--mapping", "melbourne", "--controller", melbourne.slug,
            "--sensor-type", "counting-camera", stdout=StringIO(),
        )  # fmt: skip


PLATFORM_FILE = (
    "reference,name,latitude,longitude,installed_at,status,removed_at,active_until\n"
    "p1,Gate 1,52.0,5.0,2019-09-25,active,,\n"
    "p2,Gate 2,52.0,5.0,2019-09-25T08:30:00+02:00,removed,2020-03-01T12:00:00Z,\n"
    "p3,Gate 3,52.0,5.0,2018-01-01,,,2019-12-31\n"
)


def test_the_platform_mapping_states_a_service_life_and_an_unchanged_import_touches_nothing(melbourne_client):
    response = post_csv(melbourne_client, PLATFORM_FILE, mapping="platform")
    assert response.status_code == 201, response.content
    assert response.json()["notes"] == []
    life = {s.reference: (s.status, s.installed_at, s.removed_at) for s in Sensor.objects.all()}
    assert life == {
        "p1": ("active", datetime(2019, 9, 25, tzinfo=UTC), None),
        "p2": ("removed", datetime(2019, 9, 25, 6, 30, tzinfo=UTC), datetime(2020, 3, 1, 12, tzinfo=UTC)),
        # The former `active_until` (last day in service): removed at the start of the next day.
        "p3": ("removed", datetime(2018, 1, 1, tzinfo=UTC), datetime(2020, 1, 1, tzinfo=UTC)),
    }
    stamps = dict(Sensor.objects.values_list("pk", "updated_at"))
    again = post_csv(melbourne_client, PLATFORM_FILE, mapping="platform")
    assert again.status_code == 200
    assert (again.json()["unchanged"], again.json()["updated"]) == (3, 0)
    assert dict(Sensor.objects.values_list("pk", "updated_at")) == stamps
    assert SensorEvent.objects.count() == 3
    changed = post_csv(melbourne_client, PLATFORM_FILE.replace("Gate 1", "Gate one"), mapping="platform")
    assert (changed.json()["unchanged"], changed.json()["updated"]) == (2, 1)
    assert SensorEvent.objects.filter(action="imported", changes__has_key="name").count() == 4
