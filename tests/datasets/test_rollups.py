"""The 15-minute rollups (ADR 0009): by each measure's kind, per sensor and per area (placements at the time,
gate direction applied), kept after their records, verified from the records, and read in a time zone."""

import math
from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction

from accounts.models import Role
from datasets import rollups
from datasets.models import AreaRollup, Record, RecordRollup
from datasets.retention import dataset_retention_enforce
from sensors.models import Placement
from sensors.signals import placements_changed
from tests.datasets.conftest import count_record, make_dataset, make_sensor
from tests.datasets.test_bounds import post_json
from tests.security.conftest import make_area

pytestmark = pytest.mark.django_db

T = datetime(2026, 1, 5, 10, tzinfo=UTC)


def at(minutes: float) -> str:
    return (T + timedelta(minutes=minutes)).isoformat()


def sensor_rows(dataset) -> dict:
    return {(r.sensor_id, r.bucket): r for r in RecordRollup.objects.unguarded("integrity").filter(dataset=dataset)}


def area_rows(dataset) -> dict:
    return {(r.area_id, r.bucket): r for r in AreaRollup.objects.unguarded("integrity").filter(dataset=dataset)}


def reader_of(dataset, city, key_client):
    from tests.purposes.conftest import make_purpose

    purpose = make_purpose(city, f"stad-rollups-{dataset.pk}")
    dataset.collection_purposes.set([purpose])
    client = key_client(city, Role.ANALYST)

    def counts(**query):
        return client.get("/api/v1/aggregates/counts/", {"dataset": dataset.pk, **query}, HTTP_X_PURPOSE=purpose.code)

    return counts


def test_counts_are_summed_per_15_minutes_with_covered_seconds(owner_client, dataset, gates):
    records = [count_record(start=at(m), end=at(m + 5), count_in=10 + m, count_out=1) for m in (0, 5, 10, 15, 25)]
    assert post_json(owner_client, dataset, records).status_code == 201
    rows = sensor_rows(dataset)
    first, second = rows[(gates[0].pk, T)], rows[(gates[0].pk, T + timedelta(minutes=15))]
    assert (first.records, first.covered_seconds, first.count_in, first.count_out, first.count) == (3, 900, 45, 3, 48)
    assert (second.records, second.covered_seconds, second.count_in) == (2, 600, 25 + 35)
    assert first.gauge_n == 0 and first.gauge_sum is None and first.energy_sum is None


def test_a_gauge_in_the_count_column_is_not_summed(owner_client, city):
    """group-observation's group_count (a gauge) sits in the `count` column: its rollup keeps mean, min, max
    and last, and no sum of groups as if they were persons."""
    sensor = make_sensor(city, city, "cam-1")
    dataset = make_dataset(city, "group-observation", sensors=[sensor])
    records = [{"sensor": "cam-1", "observed_at": at(m), "group_count": n, "mean_group_size": 3.0}
               for m, n in ((0, 12), (1, 4), (2, 9))]  # fmt: skip
    assert post_json(owner_client, dataset, list(reversed(records))).status_code == 201
    row = sensor_rows(dataset)[(sensor.pk, T)]
    assert row.count is None and row.count_in is None
    assert (row.gauge_sum, row.gauge_n, row.gauge_min, row.gauge_max) == (25.0, 3, 4.0, 12.0)
    assert (row.gauge_last, row.gauge_last_at) == (9.0, T + timedelta(minutes=2))  # the latest, not the last sent
    assert row.covered_seconds is None  # instants cover no interval: completeness is records / expected


def test_sound_levels_are_averaged_as_energy(owner_client, city, key_client):
    sensor = make_sensor(city, city, "mic-1")
    dataset = make_dataset(city, "sound-anomaly", sensors=[sensor])
    records = [{"sensor": "mic-1", "observed_from": at(m), "observed_to": at(m + 1), "level_laeq_db": level,
                "anomaly_count": 1} for m, level in ((0, 60.0), (1, 80.0))]  # fmt: skip
    assert post_json(owner_client, dataset, records).status_code == 201
    row = sensor_rows(dataset)[(sensor.pk, T)]
    assert row.gauge_sum is None and row.count == 2
    assert math.isclose(row.energy_sum, 10**6 + 10**8)
    cell = reader_of(dataset, city, key_client)(bucket="15m").json()["results"][0]
    assert math.isclose(cell["gauge_mean"], 10 * math.log10((10**6 + 10**8) / 2))  # 77.0 dB, not 70
    assert (cell["gauge_min"], cell["gauge_max"]) == (60.0, 80.0)


def test_distance_keeping_levels_are_summed_per_level(owner_client, city):
    sensor = make_sensor(city, city, "cam-2")
    dataset = make_dataset(city, "distance-keeping", sensors=[sensor])
    records = [{"sensor": "cam-2", "observed_from": at(m), "observed_to": at(m + 5), "count_within_1_5m": 3,
                "count_1_5m_to_3m": 10 + m, "count_beyond_3m": 100} for m in (0, 5)]  # fmt: skip
    assert post_json(owner_client, dataset, records).status_code == 201
    row = sensor_rows(dataset)[(sensor.pk, T)]
    assert row.data_sums == {"count_within_1_5m": 6, "count_1_5m_to_3m": 25, "count_beyond_3m": 200}
    assert row.count == 6 + 25 + 200


@pytest.fixture
def placed(city, gates):
    """gate-1 enters the square, gate-2 leaves it; at 10:20 gate-1 moves to the station (entering)."""
    square, station = make_area(city, "Square", 5.0, 52.0), make_area(city, "Station", 5.1, 52.1)
    moved = T + timedelta(minutes=20)
    Placement.objects.create(sensor=gates[0], area=square, direction="enters", ends_at=moved)
    Placement.objects.create(sensor=gates[0], area=station, direction="enters", starts_at=moved)
    Placement.objects.create(sensor=gates[1], area=square, direction="leaves")
    return square, station


def test_the_area_rollup_follows_placements_and_gate_directions(owner_client, dataset, gates, placed):
    square, station = placed
    records = [
        count_record("gate-1", at(0), at(5), count_in=10, count_out=1),
        count_record("gate-2", at(0), at(5), count_in=20, count_out=2),  # leaves: its out enters the square
        count_record("gate-1", at(15), at(20), count_in=30, count_out=3),
        count_record("gate-1", at(20), at(25), count_in=40, count_out=4),  # moved: counts at the station
    ]
    assert post_json(owner_client, dataset, records).status_code == 201
    areas = area_rows(dataset)
    first = areas[(square.pk, T)]
    assert (first.records, first.sensors, first.count_in, first.count_out, first.count) == (2, 2, 12, 21, 33)
    assert (first.covered_seconds, first.gauge_n) == (600, 0)
    later = T + timedelta(minutes=15)
    assert (areas[(square.pk, later)].count_in, areas[(station.pk, later)].count_in) == (30, 40)
    assert set(areas) == {(square.pk, T), (square.pk, later), (station.pk, later)}
    # A second batch adds to the same buckets: the sensors already counted are not counted twice.
    more = [count_record("gate-1", at(5), at(10), count_in=5, count_out=0)]
    assert post_json(owner_client, dataset, more).status_code == 201
    first = area_rows(dataset)[(square.pk, T)]
    assert (first.records, first.sensors, first.count_in) == (3, 2, 17)
    assert rollups.verify(dataset) == []


def test_a_placement_change_recomputes_the_area_rollups(owner_client, dataset, gates, placed):
    square, station = placed
    assert post_json(owner_client, dataset, [count_record("gate-1", at(0), at(5), 10, 1)]).status_code == 201
    assert set(area_rows(dataset)) == {(square.pk, T)}
    # The sensor stood at the station all along: the placements are corrected and the change is signalled.
    Placement.objects.filter(sensor=gates[0]).delete()
    Placement.objects.create(sensor=gates[0], area=station, direction="leaves")
    placements_changed.send(sender=Placement, sensor_id=gates[0].pk, start=None, end=None)
    moved = area_rows(dataset)
    assert set(moved) == {(station.pk, T)}
    assert (moved[(station.pk, T)].count_in, moved[(station.pk, T)].count_out) == (1, 10)


def test_an_inside_sensor_adds_gauges_and_no_gate_counts(owner_client, city):
    hall = make_area(city, "Hall", 5.0, 52.0)
    sensors = [make_sensor(city, city, f"occ-{n}") for n in range(2)]
    for sensor in sensors:
        Placement.objects.create(sensor=sensor, area=hall, direction="inside")
    dataset = make_dataset(city, "area-occupancy", sensors=sensors)
    records = [{"sensor": f"occ-{n}", "observed_at": at(m), "occupancy": 100 * (n + 1) + m}
               for n in range(2) for m in (0, 1)]  # fmt: skip
    assert post_json(owner_client, dataset, records).status_code == 201
    row = area_rows(dataset)[(hall.pk, T)]
    assert (row.records, row.sensors, row.gauge_n, row.gauge_sum, row.gauge_max) == (4, 2, 4, 602.0, 201.0)
    assert row.count_in is None and row.covered_seconds is None


def test_rollups_survive_their_records_and_have_their_own_retention(owner_client, city, gates):
    dataset = make_dataset(city, sensors=gates, rollup_retention_days=400)
    assert post_json(owner_client, dataset, [count_record(start=at(0), end=at(5))]).status_code == 201
    dataset.retention_days = 30  # once stored (today, ingest refuses records older than the retention)
    dataset.save(update_fields=["retention_days"])
    run = dataset_retention_enforce(dataset=dataset, now=T + timedelta(days=31))
    assert run.records_deleted == 1 and run.rollups_deleted == 0
    assert not Record.objects.unguarded("integrity").filter(dataset=dataset).exists()
    assert sensor_rows(dataset)[(gates[0].pk, T)].count_in == 10
    assert rollups.verify(dataset) == []  # buckets without their records are not compared
    run = dataset_retention_enforce(dataset=dataset, now=T + timedelta(days=401))
    assert run.rollups_deleted == 1 and not sensor_rows(dataset)
    # Never kept for less than the records: a shorter figure counts as the records' retention.
    dataset.rollup_retention_days = 7
    assert dataset.rollup_retention == timedelta(days=30)


def test_verify_rollups_finds_a_tampered_row_and_repairs_it(owner_client, dataset, gates, placed):
    square, _ = placed
    records = [count_record("gate-1", at(m), at(m + 5)) for m in (0, 5)]
    assert post_json(owner_client, dataset, records).status_code == 201
    out = StringIO()
    call_command("verify_rollups", "--dataset", str(dataset.pk), stdout=out)
    assert f"dataset {dataset.pk} (crowd-count-line of Gemeente Stad): 0 differences" in out.getvalue()
    RecordRollup.objects.unguarded("integrity").filter(dataset=dataset).update(count_in=999)
    AreaRollup.objects.unguarded("integrity").filter(dataset=dataset, area=square).update(sensors=5)
    out = StringIO()
    with pytest.raises(CommandError) as failed:
        call_command("verify_rollups", "--dataset", str(dataset.pk), "--from", "2026-01-05T10:00Z", stdout=out)
    assert failed.value.returncode == 1
    text = out.getvalue()
    assert f"sensor {gates[0].pk} 2026-01-05T10:00Z count_in: stored 999, records say 20" in text
    assert f"area {square.pk} 2026-01-05T10:00Z sensors: stored 5, records say 1" in text
    call_command("verify_rollups", "--dataset", str(dataset.pk), "--repair", stdout=StringIO())
    assert rollups.verify(dataset) == []
    assert sensor_rows(dataset)[(gates[0].pk, T)].count_in == 20


def test_counts_in_a_time_zone_with_23_and_25_hour_days(owner_client, city, gates, key_client):
    """Amsterdam's clock goes forward on 2026-03-29 and back on 2026-10-25: those days last 23 and 25 hours,
    and the repeated hour of October is two hours."""
    dataset = make_dataset(city, sensors=gates)
    starts = [datetime(2026, 3, 28, 23, tzinfo=UTC) + timedelta(hours=h) for h in range(24)]  # 29 March local
    starts += [datetime(2026, 10, 24, 22, tzinfo=UTC) + timedelta(hours=h) for h in range(25)]  # 25 October local
    records = [count_record(start=s.isoformat(), end=(s + timedelta(minutes=5)).isoformat(), count_in=10, count_out=0)
               for s in starts]  # fmt: skip
    assert post_json(owner_client, dataset, records).status_code == 201
    counts = reader_of(dataset, city, key_client)
    days = counts(bucket="day", tz="Europe/Amsterdam").json()["results"]
    assert [(d["bucket"], d["records"], d["expected_records"]) for d in days] == [
        ("2026-03-29T00:00:00+01:00", 23, 23 * 12),
        ("2026-03-30T00:00:00+02:00", 1, 24 * 12),
        ("2026-10-25T00:00:00+02:00", 25, 25 * 12),
    ]
    night = {"from": "2026-10-25T02:00+02:00", "to": "2026-10-25T04:00+01:00"}
    hours = counts(bucket="hour", tz="Europe/Amsterdam", **night).json()["results"]
    assert [(h["bucket"], h["records"]) for h in hours] == [
        ("2026-10-25T02:00:00+02:00", 1),
        ("2026-10-25T02:00:00+01:00", 1),
        ("2026-10-25T03:00:00+01:00", 1),
    ]
    utc_days = counts(bucket="day").json()["results"]
    assert [d["bucket"] for d in utc_days][:2] == ["2026-03-28T00:00:00Z", "2026-03-29T00:00:00Z"]


def test_hours_of_a_zone_45_minutes_off_are_unions_of_quarters(owner_client, city, gates, key_client):
    dataset = make_dataset(city, sensors=gates)
    records = [count_record(start=at(m), end=at(m + 5), count_in=10, count_out=0) for m in range(0, 120, 5)]
    assert post_json(owner_client, dataset, records).status_code == 201
    counts = reader_of(dataset, city, key_client)
    hours = counts(bucket="hour", tz="Asia/Kathmandu").json()["results"]  # UTC+05:45
    assert [(h["bucket"], h["records"], h["completeness"]) for h in hours] == [
        ("2026-01-05T15:00:00+05:45", 3, 0.25),
        ("2026-01-05T16:00:00+05:45", 12, 1.0),
        ("2026-01-05T17:00:00+05:45", 9, 0.75),
    ]
    quarters = counts(bucket="15m").json()["results"]
    assert len(quarters) == 8 and quarters[0]["completeness"] == 1.0 and quarters[0]["count_in"] == 30


def test_bad_time_zones_buckets_and_edges_are_refused_with_a_pointer(owner_client, city, key_client):
    sensor = make_sensor(city, city, "melb-1")
    hourly = make_dataset(city, "hourly-pedestrian-count", sensors=[sensor])
    counts = reader_of(hourly, city, key_client)
    for query, pointer in (
        ({"bucket": "15m"}, "/bucket"),  # hourly data cannot tell quarters apart
        ({"tz": "Mars/Olympus"}, "/tz"),
        ({"tz": "../../etc/passwd"}, "/tz"),
        ({"bucket": "day", "tz": "Europe/Amsterdam", "from": "2026-01-05T00:00Z"}, "/from"),  # 01:00 there
        ({"bucket": "hour", "tz": "Asia/Kolkata", "to": "2026-01-05T10:00Z"}, "/to"),  # 15:30 there
    ):
        answer = counts(**query)
        assert answer.status_code == 422, (query, answer.content)  # query parameters: validation_error
        assert [error["pointer"] for error in answer.json()["errors"]] == [pointer], query
    assert counts(bucket="hour", tz="Asia/Kolkata", to="2026-01-05T10:30Z").status_code == 200


def test_zone_names_that_are_no_place_are_refused_and_the_example_is_a_start_in_the_zone(city, key_client):
    sensor = make_sensor(city, city, "melb-1")
    counts = reader_of(make_dataset(city, "hourly-pedestrian-count", sensors=[sensor]), city, key_client)
    for name in ("localtime", "Factory", "posixrules", "posix/Europe/Amsterdam", "right/UTC"):
        answer = counts(tz=name)
        assert answer.status_code == 422, name
        assert [error["pointer"] for error in answer.json()["errors"]] == ["/tz"], name
    answer = counts(bucket="day", tz="Europe/Amsterdam", **{"from": "2026-01-05T10:00+01:00"})
    assert answer.status_code == 422
    assert "such as 2026-01-05T00:00+01:00" in answer.json()["errors"][0]["detail"]


def test_a_day_whose_midnight_the_clock_skips_starts_at_its_first_moment(city, key_client):
    """Santiago's clock jumps from 00:00 to 01:00 on 2026-09-06: that day starts at 01:00 (-03:00)."""
    sensor = make_sensor(city, city, "melb-1")
    counts = reader_of(make_dataset(city, "hourly-pedestrian-count", sensors=[sensor]), city, key_client)
    day = {"from": "2026-09-06T01:00-03:00", "to": "2026-09-07T00:00-03:00"}
    assert counts(bucket="day", tz="America/Santiago", **day).status_code == 200
    answer = counts(bucket="day", tz="America/Santiago", **{"from": "2026-09-06T02:00-03:00"})
    assert "such as 2026-09-06T01:00-03:00" in answer.json()["errors"][0]["detail"]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_correction_recomputes_sensor_and_area_rollups(owner_client, dataset, gates, placed):
    square, _ = placed
    records = [count_record("gate-1", at(0), at(5), 10, 1), count_record("gate-2", at(0), at(5), 20, 2)]
    assert post_json(owner_client, dataset, records).status_code == 201
    corrected = [count_record("gate-1", at(0), at(5), 50, 1)]
    answer = post_json(owner_client, dataset, corrected).json()
    assert answer["updated"] == 1
    assert sensor_rows(dataset)[(gates[0].pk, T)].count_in == 50
    area = area_rows(dataset)[(square.pk, T)]
    assert (area.count_in, area.count_out, area.sensors, area.records) == (52, 21, 2, 2)
    with transaction.atomic():
        assert rollups.verify(dataset) == []
    assert connection.vendor in {"postgresql", "sqlite"}


SCHEMAS = ("area-occupancy", "crowd-count-line", "crowd-density", "crowd-flow", "distance-keeping", "event-calendar",
           "group-observation", "hourly-pedestrian-count", "sound-anomaly")  # fmt: skip


def snapshot(dataset) -> dict:
    return {
        **{
            ("sensor", *key): {f: getattr(row, f) for f in rollups.SENSOR_FIELDS}
            for key, row in sensor_rows(dataset).items()
        },
        **{
            ("area", *key): {f: getattr(row, f) for f in rollups.AREA_FIELDS} for key, row in area_rows(dataset).items()
        },
    }


@pytest.mark.parametrize("code", SCHEMAS)
def test_the_sql_recompute_agrees_with_the_python_reference(city, code):
    """Every schema (so every measure kind): the same records, placements (enters, leaves, inside, a move in the
    middle of a bucket) and stale rows recomputed by the Python reference and by the SQL recompute give the
    same rows, and buckets left without records are deleted by both."""
    if connection.vendor != "postgresql":
        pytest.skip("the SQL recompute is PostgreSQL's")
    import random

    sensors = [make_sensor(city, city, f"k{n}") for n in range(3)]
    square, station, hall = (make_area(city, name, 5.0 + n / 10, 52.0) for n, name in enumerate(("Sq", "St", "Hall")))
    moved = T + timedelta(minutes=20)  # inside the 10:15 bucket
    Placement.objects.create(sensor=sensors[0], area=square, direction="enters", ends_at=moved)
    Placement.objects.create(sensor=sensors[0], area=station, direction="enters", starts_at=moved)
    Placement.objects.create(sensor=sensors[1], area=square, direction="leaves")
    Placement.objects.create(sensor=sensors[2], area=hall, direction="inside")
    dataset = make_dataset(city, code, sensors=sensors)
    plan = rollups.plan_for(dataset.schema_version)
    interval = dataset.schema_version.time_semantics == "interval"
    draw = random.Random(code)  # noqa: S311 (reproducible test data)

    def maybe(value):
        return None if draw.random() < 0.15 else value

    records = []
    for sensor in sensors:
        for minute in range(0, 50, 2):
            start = T + timedelta(minutes=minute)
            data = {key: maybe(draw.randint(0, 40)) for key in plan.data_sums}
            data["note"] = "x"
            if plan.data_sums and minute == 4:
                data[plan.data_sums[0]] = "12"  # not a number: neither path sums it
            records.append(Record(
                dataset=dataset, sensor=sensor, series="", observed_from=start,
                observed_to=start + timedelta(minutes=draw.choice((1, 2))) if interval else None,
                count_in=maybe(draw.randint(0, 50)), count_out=maybe(draw.randint(0, 50)),
                count=maybe(draw.randint(0, 90)), gauge=maybe(round(draw.uniform(30, 95), 2)), data=data,
            ))  # fmt: skip
    Record.objects.unguarded("ingest").bulk_create(records)
    touched = rollups.touched_by(records)
    empty = T + timedelta(hours=2)

    def stale_rows():
        RecordRollup.objects.unguarded("ingest").create(dataset=dataset, sensor=sensors[0], bucket=empty, records=3)
        AreaRollup.objects.unguarded("ingest").create(dataset=dataset, area=station, bucket=empty, records=3, sensors=1)

    stale_rows()
    rollups.refresh(dataset, {*touched, (sensors[0].pk, empty)}, sql=False)
    reference = snapshot(dataset)
    assert ("sensor", sensors[0].pk, empty) not in reference and ("area", station.pk, empty) not in reference
    assert {key[:2] for key in reference if key[0] == "area"} == {("area", a.pk) for a in (square, station, hall)}
    # Wrong figures everywhere, and the stale rows again: the SQL recompute must put back the reference's.
    RecordRollup.objects.unguarded("ingest").filter(dataset=dataset).update(
        records=999, count_in=7, count=None, gauge_sum=1.0, gauge_n=0, gauge_last=None, data_sums={"x": 1}
    )
    AreaRollup.objects.unguarded("ingest").filter(dataset=dataset).update(
        records=999, sensors=9, count_out=7, gauge_min=-1.0, energy_sum=None, covered_seconds=None
    )
    stale_rows()
    rollups.refresh(dataset, {*touched, (sensors[0].pk, empty)}, sql=True)
    recomputed = snapshot(dataset)
    assert set(recomputed) == set(reference)
    for key, want in reference.items():
        for field, value in want.items():
            assert rollups._same(recomputed[key][field], value), (key, field, recomputed[key][field], value)
    assert rollups.verify(dataset) == []
    # A correcting batch through storage (keys from its staging table) over wrong rows: the reference again.
    from datasets import storage
    from datasets.records import Row

    RecordRollup.objects.unguarded("ingest").filter(dataset=dataset).update(records=999, gauge_max=None)
    AreaRollup.objects.unguarded("ingest").filter(dataset=dataset).update(sensors=9, count_in=None)
    rows = [Row(n, r.sensor_id, "", r.observed_from, r.observed_to, r.count_in, r.count_out, r.count,
                None if r.gauge is None else r.gauge + 1, r.data) for n, r in enumerate(records)]  # fmt: skip
    with transaction.atomic():
        assert storage.store(dataset=dataset, rows=rows, batch_id=None).updated > 0
    stored = snapshot(dataset)
    rollups.refresh(dataset, touched, sql=False)
    reference = snapshot(dataset)
    assert set(stored) == set(reference)
    for key, want in reference.items():
        for field, value in want.items():
            assert rollups._same(stored[key][field], value), (key, field, stored[key][field], value)


def test_a_sensor_moved_inside_a_bucket_counts_in_both_areas_whatever_the_batches(owner_client, dataset, gates, placed):
    """gate-1 moves from the square to the station at 10:20: its record of 10:15 (square) and, in a later
    batch, its record of 10:20 (station) each count the sensor in their area's 10:15 bucket."""
    square, station = placed
    assert post_json(owner_client, dataset, [count_record("gate-1", at(15), at(20), 30, 3)]).status_code == 201
    assert post_json(owner_client, dataset, [count_record("gate-1", at(20), at(25), 40, 4)]).status_code == 201
    later = T + timedelta(minutes=15)
    areas = area_rows(dataset)
    assert (areas[(square.pk, later)].sensors, areas[(station.pk, later)].sensors) == (1, 1)
    assert (areas[(station.pk, later)].records, areas[(station.pk, later)].count_in) == (1, 40)
    # A third batch in the station's part of that bucket: still one sensor there.
    assert post_json(owner_client, dataset, [count_record("gate-1", at(25), at(30), 5, 0)]).status_code == 201
    assert area_rows(dataset)[(station.pk, later)].sensors == 1
    assert rollups.verify(dataset) == []


def test_counts_of_one_area_leave_the_others_out(owner_client, dataset, gates, placed, city, key_client):
    square, station = placed
    records = [
        count_record("gate-1", at(0), at(5), count_in=10, count_out=1),  # the square
        count_record("gate-2", at(0), at(5), count_in=20, count_out=2),  # the square, leaving
        count_record("gate-1", at(20), at(25), count_in=40, count_out=0),  # the station
    ]
    assert post_json(owner_client, dataset, records).status_code == 201
    counts = reader_of(dataset, city, key_client)
    everywhere = counts(by="area", bucket="15m").json()["results"]
    assert {(c["area"], c["bucket"]) for c in everywhere} == {(square.pk, "2026-01-05T10:00:00Z"),
                                                           (station.pk, "2026-01-05T10:15:00Z")}  # fmt: skip
    square_only = counts(by="area", bucket="15m", area=square.pk).json()["results"]
    assert [(c["area"], c["count_in"], c["count_out"], c["sensors"]) for c in square_only] == [(square.pk, 12, 21, 2)]
    both = counts(by="area", bucket="hour", area=[square.pk, station.pk]).json()["results"]
    assert {c["area"]: c["count_in"] for c in both} == {square.pk: 12, station.pk: 40}
    for query, pointer in (({"area": square.pk}, "/area"), ({"by": "area", "area": 0}, "/area/0")):
        answer = counts(**query)
        assert answer.status_code == 422, (query, answer.content)
        assert [error["pointer"] for error in answer.json()["errors"]] == [pointer], query
