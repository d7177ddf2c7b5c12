"""push_melbourne_counts reads every format the City of Melbourne published, through the live API:
synthetic months in the newer wide format and in the portal's long format, with their missing
markers, a totals row, bad cells and Melbourne's daylight-saving changes; stored sums are checked
against sums computed here with csv alone; re-runs replay, a corrected cell updates one record."""

import csv
import itertools
import random
import re
from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.core.signals import request_started
from django.db.models import Sum

from accounts.models import OrganisationKind, Role
from datasets import melbourne
from datasets.models import Dataset, DatasetStatus, Record
from sensors.models import Sensor
from tests.datasets.conftest import make_dataset, make_sensor
from tests.factories import OrganisationFactory, api_key_for

live = pytest.mark.django_db(transaction=True, serialized_rollback=True)

# reference -> the register's name; the wide file names the second by its alias.
FEEDING = {
    "1": "Bourke Street Mall (North)",
    "2": "Flinders Street Station Underpass",
    "3": "State Library",
    "4": "Town Hall (West)",
}
NOT_FEEDING = ("9", "Southern Cross Station")  # in the register, but not a sensor of the dataset
WIDE_COLUMNS = [
    "Bourke Street Mall (North)",
    "Flinders St Station Underpass",
    "State Library",
    "Town Hall (West)",
    "Southern Cross Station",
    "Nowhere Lane",  # no sensor has this name
]
REFERENCE_OF_COLUMN = dict(zip(WIDE_COLUMNS[:4], FEEDING, strict=True))
MARKERS = ("", "-1", "undefined")


def setup_city():
    city = OrganisationFactory(kind=OrganisationKind.MUNICIPALITY, slug="city-of-melbourne", name="City of Melbourne")
    sensors = {}
    for reference, name in [*FEEDING.items(), NOT_FEEDING]:
        sensor = make_sensor(city, city, reference, installed_at=datetime(2009, 3, 1, tzinfo=UTC))
        sensor.name = name
        sensor.save(update_fields=["name"])
        sensors[reference] = sensor
    dataset = make_dataset(city, code="hourly-pedestrian-count", sensors=[sensors[reference] for reference in FEEDING])
    _, key = api_key_for(city, role=Role.INTEGRATOR)
    return dataset, sensors, key


def cell(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.05:
        return ""
    if roll < 0.09:
        return "-1"
    if roll < 0.13:
        return "undefined"
    return str(rng.randint(0, 3000))


def wide_april_2019(seed=2019) -> str:
    """The newer wide format (day-first dates), April 2019: on 7 April the clocks go back at 03:00,
    and the file has hour 2 twice. Bad cells at fixed places, a totals row, empty rows."""
    rng = random.Random(seed)  # noqa: S311 (test data, seeded)
    out = StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["Date", "Hour", *WIDE_COLUMNS])
    sums = [0] * len(WIDE_COLUMNS)
    for day in range(1, 31):
        hours = [0, 1, 2, 2, *range(3, 24)] if day == 7 else range(24)
        for hour in hours:
            cells = [cell(rng) for _ in WIDE_COLUMNS]
            if day == 7 and hour == 2:
                cells[0] = str(rng.randint(1, 50))  # both repeated hours have a count for sensor 1
            if (day, hour) == (3, 9):
                cells[2] = "12a"
            if (day, hour) == (15, 17):
                cells[3] = "3.5"
            writer.writerow([f"{day:02d}/04/2019", hour, *cells])
            for index, value in enumerate(cells):
                sums[index] += int(value) if value.isdigit() else 0
    writer.writerow(["", "", *sums])  # the totals row
    writer.writerows([[""] * (len(WIDE_COLUMNS) + 2)] * 3)
    return out.getvalue()


def long_october_2019(seed=1910) -> str:
    """The portal's long format, October 2019, US long-style times: at 02:00 on 6 October the clocks
    go forward, yet the file has that hour. One unknown Sensor_ID, one sensor that does not feed."""
    rng = random.Random(seed)  # noqa: S311 (test data, seeded)
    out = StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["ID", "Date_Time", "Year", "Month", "Mdate", "Day", "Time", "Sensor_ID", "Sensor_Name",
                     "Hourly_Counts"])  # fmt: skip
    sensors = [*FEEDING.items(), NOT_FEEDING, ("77", "Nowhere Lane")]
    row_id = 0
    for day in range(1, 32):
        for hour in range(24):
            moment = datetime(2019, 10, day, hour)
            for reference, name in sensors:
                row_id += 1
                stamp = moment.strftime("%B %d, %Y %I:%M:%S %p")
                weekday = moment.strftime("%A")
                writer.writerow([row_id, stamp, 2019, "October", day, weekday, hour, reference, name, cell(rng)])
    return out.getvalue()


def csv_report(text: str, sensor_of, skip=lambda row: False):
    """Independently, with csv alone: sums and numeric cells per sensor, missing cells per marker and
    per sensor, other cells. `sensor_of(header, row)` yields (sensor, cell) pairs of a dated row."""
    rows = csv.reader(StringIO(text))
    header = next(rows)
    sums, numbers, missing, missing_by, bad = {}, {}, dict.fromkeys(MARKERS, 0), {}, 0
    for row in rows:
        if not row or not row[0] or skip(row):
            continue
        for sensor, value in sensor_of(header, row):
            if value.isdigit():
                sums[sensor] = sums.get(sensor, 0) + int(value)
                numbers[sensor] = numbers.get(sensor, 0) + 1
            elif value in MARKERS:
                missing[value] += 1
                missing_by.setdefault(sensor, dict.fromkeys(MARKERS, 0))[value] += 1
            else:
                bad += 1
    return sums, numbers, missing, missing_by, bad


def push(live_server, path, dataset, key, *extra):
    out, err = StringIO(), StringIO()
    call_command(
        "push_melbourne_counts", str(path), "--url", live_server.url, "--key", key, "--dataset", str(dataset.pk),
        *extra, stdout=out, stderr=err,
    )  # fmt: skip
    return out.getvalue(), err.getvalue()


def stored(dataset, sensor):
    records = Record.objects.unguarded("integrity").filter(dataset=dataset, sensor=sensor)
    return records.aggregate(s=Sum("count"))["s"], records.count()


def summary_numbers(out: str) -> dict[str, int]:
    first = out.splitlines()[0]
    return {name: int(n) for n, name in re.findall(r"(\d+) (created|updated|unchanged|replayed|rejected)", first)}


def missing_line(missing: dict) -> str:
    total = sum(missing.values())
    by_marker = f"empty {missing['']}, -1 {missing['-1']}, undefined {missing['undefined']}"
    return f"missing cells (no record): {total} ({by_marker})"


@live
def test_a_wide_month_in_the_newer_format_arrives_with_exact_sums(live_server, tmp_path):
    dataset, sensors, key = setup_city()
    text = wide_april_2019()
    path = tmp_path / "april-2019.csv"
    path.write_text(text)

    out, err = push(live_server, path, dataset, key, "--batch-size", "500", "--progress", "0", "-v", "2")

    sums, numbers, missing, missing_by, bad = csv_report(
        text, lambda header, row: zip(header[2:], row[2:], strict=True)
    )
    for column, reference in REFERENCE_OF_COLUMN.items():
        assert stored(dataset, sensors[reference]) == (sums[column], numbers[column]), column
    assert not Record.objects.unguarded("integrity").filter(sensor=sensors["9"]).exists()
    # Both 02:00 hours of 7 April are kept, the first in daylight time (+11), the second in standard (+10).
    first, second = datetime(2019, 4, 6, 15, tzinfo=UTC), datetime(2019, 4, 6, 16, tzinfo=UTC)
    repeated = Record.objects.unguarded("integrity").filter(sensor=sensors["1"], observed_from__in=[first, second])
    assert sorted(r.observed_to - r.observed_from for r in repeated) == [timedelta(hours=1)] * 2

    sent = sum(numbers[column] for column in WIDE_COLUMNS[:5])
    counted = summary_numbers(out)
    assert counted["created"] == sum(numbers[column] for column in REFERENCE_OF_COLUMN)
    assert counted["rejected"] == numbers["Southern Cross Station"] + bad
    assert f"{sent} records sent in " in out
    assert f"rejected by the API: unknown_sensor: {numbers['Southern Cross Station']}; e.g. line " in out
    assert bad == 2 and "rejected in the file: not_a_count: 2" in out
    assert "line 59, column 'State Library': '12a'" in err  # 3 April, 09:00 is line 2 + 2 * 24 + 9
    assert "column 'Town Hall (West)': '3.5'" in err
    assert missing_line(missing) in out
    by_sensor = missing_by["State Library"]
    assert (
        f"  State Library: {sum(by_sensor.values())} (empty {by_sensor['']}, -1 {by_sensor['-1']}, "
        f"undefined {by_sensor['undefined']})" in out
    )
    assert f"totals row skipped: line {30 * 24 + 3} (equals the sums of the rows above)" in out
    assert "empty rows skipped: 3" in out
    assert f"unknown sensor: 'Nowhere Lane' names no sensor of this controller; {numbers['Nowhere Lane']}" in out
    assert re.search(r"line \d+: \d+ records sent in 1 batches", err)  # progress, on stderr

    # Again: every batch replays, nothing changes.
    before = {reference: stored(dataset, sensor) for reference, sensor in sensors.items()}
    out, _ = push(live_server, path, dataset, key, "--batch-size", "500")
    batches = -(-sent // 500)
    assert (
        f": 0 created, 0 updated, 0 unchanged, {sent - numbers['Southern Cross Station']} replayed ({batches} batches)"
        in out
    )
    assert {reference: stored(dataset, sensor) for reference, sensor in sensors.items()} == before

    # One cell corrected: its batch is new and updates one record; the others replay.
    lines = text.splitlines(keepends=True)
    row = lines[100].split(",")
    old = next(i for i in range(2, 6) if row[i].strip().isdigit())
    row[old] = str(int(row[old]) + 1000)
    lines[100] = ",".join(row)
    path.write_text("".join(lines))
    out, _ = push(live_server, path, dataset, key, "--batch-size", "500")
    counted = summary_numbers(out)
    assert (counted["created"], counted["updated"]) == (0, 1) and counted["unchanged"] > 0
    assert counted["updated"] + counted["unchanged"] + counted["replayed"] + counted["rejected"] == sent + bad
    assert f"({batches - 1} batches)" in out
    sensor = sensors[REFERENCE_OF_COLUMN[WIDE_COLUMNS[old - 2]]]
    assert stored(dataset, sensor)[0] == before[sensor.reference][0] + 1000


@live
def test_a_long_month_of_the_portal_arrives_with_exact_sums(live_server, tmp_path):
    dataset, sensors, key = setup_city()
    text = long_october_2019()
    path = tmp_path / "october-2019.csv"
    path.write_text(text)

    out, err = push(live_server, path, dataset, key, "--batch-size", "1000")

    gap = "October 06, 2019 02:00:00 AM"  # Melbourne's clocks go from 02:00 to 03:00 that night
    sums, numbers, missing, _, _ = csv_report(text, lambda header, row: [(row[7], row[9])], lambda row: row[1] == gap)
    _, with_gap, missing_all, _, _ = csv_report(text, lambda header, row: [(row[7], row[9])])
    for reference in FEEDING:
        assert stored(dataset, sensors[reference]) == (sums[reference], numbers[reference]), reference
    counted = summary_numbers(out)
    assert counted["created"] == sum(numbers[reference] for reference in FEEDING)
    in_gap = sum(with_gap[reference] - numbers[reference] for reference in [*FEEDING, "9"])  # 77 is unknown first
    assert 0 < in_gap <= 5
    assert f"rejected in the file: nonexistent_time: {in_gap}" in out
    assert "column 'Date_Time': 'October 06, 2019 02:00:00 AM': this hour does not exist" in err
    assert f"rejected by the API: unknown_sensor: {numbers['9']};" in out
    assert f"unknown sensor: 'Sensor_ID 77' names no sensor of this controller; {with_gap['77']} counts" in out
    assert missing_line(missing_all) in out  # the gap's missing cells are missing too

    out, _ = push(live_server, path, dataset, key, "--batch-size", "1000")
    assert ": 0 created, 0 updated, 0 unchanged, " in out and " replayed (" in out


def read(text: str):
    report = melbourne.Report()
    records = [
        record
        for _, record in melbourne.records(csv.reader(StringIO(text)), melbourne.Register(FEEDING.items()), report)
    ]
    return records, report


def test_long_times_with_an_offset_naive_or_us_style_and_the_repeated_hour():
    records, report = read(
        "ID,Date_Time,Year,Month,Mdate,Day,Time,Sensor_ID,Sensor_Name,Hourly_Counts\n"
        "1,2019-11-01T17:00:00+11:00,2019,November,1,Friday,17,1,x,10\n"
        "2,2019-11-01T06:00:00+00:00,2019,November,1,Friday,17,2,x,11\n"
        "3,2019-11-01T17:00:00,2019,November,1,Friday,17,3,x,12\n"
        '4,"April 07, 2019 02:00:00 AM",2019,April,7,Sunday,2,1,x,13\n'
        '5,"April 07, 2019 02:00:00 AM",2019,April,7,Sunday,2,1,x,14\n'
        "6,2019-11-01T17:00:00+00:00,2019,November,1,Friday,17,4,x,15\n"
        "7,2019-11-01T17:30:00+11:00,2019,November,1,Friday,17,4,x,16\n"
    )
    assert [(r["sensor"], r["observed_from"], r["observed_to"], r["count"]) for r in records] == [
        ("1", "2019-11-01T17:00:00+11:00", "2019-11-01T18:00:00+11:00", 10),
        ("2", "2019-11-01T17:00:00+11:00", "2019-11-01T18:00:00+11:00", 11),
        ("3", "2019-11-01T17:00:00+11:00", "2019-11-01T18:00:00+11:00", 12),
        ("1", "2019-04-07T02:00:00+11:00", "2019-04-07T02:00:00+10:00", 13),
        ("1", "2019-04-07T02:00:00+10:00", "2019-04-07T03:00:00+10:00", 14),
    ]
    # 17:00 UTC is 04:00 in Melbourne, not the file's Time 17: refused, not shifted.
    assert report.rejected == {"time_mismatch": 1, "not_on_the_hour": 1}
    assert report.details["time_mismatch"][0][:2] == (7, "Mdate")


def test_long_without_ids_matches_names_with_aliases():
    records, report = read(
        "Date_Time,Sensor_Name,Hourly_Counts\n"
        "2019-11-01T17:00:00+11:00,Flinders St Station Underpass,5\n"
        "2019-11-01T17:00:00+11:00,state  library,6\n"
        "2019-11-01T17:00:00+11:00,Nowhere Lane,7\n"
        "2019-11-01T18:00:00+11:00,State Library,undefined\n"
    )
    assert [(r["sensor"], r["count"]) for r in records] == [("2", 5), ("3", 6)]
    assert report.unknown == {"Nowhere Lane": 1}
    assert report.missing_by_sensor == {"State Library": {"undefined": 1}}


def test_cells_are_never_converted_blindly():
    records, report = read(
        "Date,Hour,State Library,Town Hall (West)\n"
        "1-Jan-10,0,5,-2\n"
        "01/01/2019,1,+3, 7 \n"
        "01/01/2019,24,1,1\n"
        "32/01/2019,3,1,1\n"
        f"01/01/2019,4,{'9' * 5000},٣\n"
        "06/10/2019,2,1,\n"
        "06/10/2019,2,,\n"
    )
    assert [(r["sensor"], r["observed_from"], r["count"]) for r in records] == [
        ("3", "2010-01-01T00:00:00+11:00", 5),
        ("4", "2019-01-01T01:00:00+11:00", 7),
    ]
    assert report.rejected == {"not_a_count": 3, "bad_hour": 2, "bad_date": 2, "too_large": 1, "nonexistent_time": 1}
    assert ("bad_date", 5, "Date", "32/01/2019") == ("bad_date", *report.details["bad_date"][0][:3])
    assert report.missing == {"empty": 3}


def test_the_reader_streams():
    header = "Date,Hour,State Library\n"
    endless = itertools.chain([header], itertools.cycle(f"01/01/2019,{hour},1\n" for hour in range(24)))
    report = melbourne.Report()
    first = list(
        itertools.islice(melbourne.records(csv.reader(endless), melbourne.Register(FEEDING.items()), report), 50)
    )
    assert len(first) == 50 and report.lines == 51


@pytest.mark.django_db
def test_an_unknown_format_names_its_columns(tmp_path):
    path = tmp_path / "other.csv"
    path.write_text("timestamp,location,pedestrians\n2019-01-01,x,3\n")
    with pytest.raises(CommandError, match="the columns 'timestamp', 'location', 'pedestrians'"):
        call_command("push_melbourne_counts", str(path), "--url", "http://127.0.0.1:9", "--key", "k", "--dataset", "1")


@live
def test_a_refused_batch_or_an_unreachable_platform_stops_with_how_far(live_server, tmp_path):
    dataset, _, key = setup_city()
    path = tmp_path / "april-2019.csv"
    path.write_text(wide_april_2019())
    with pytest.raises(CommandError, match=r"refused batch 1 \(lines 2 to .*404.*Nothing was sent"):
        call_command("push_melbourne_counts", str(path), "--url", live_server.url, "--key", key,
                     "--dataset", str(dataset.pk + 1000), stdout=StringIO(), stderr=StringIO())  # fmt: skip
    with pytest.raises(CommandError, match="cannot be reached"):
        call_command("push_melbourne_counts", str(path), "--url", "http://127.0.0.1:9", "--key", key,
                     "--dataset", str(dataset.pk), stdout=StringIO(), stderr=StringIO())  # fmt: skip
    assert not Record.objects.unguarded("integrity").exists()
    assert Sensor.objects.count() == 5


def test_made_up_names_cannot_fill_the_memory():
    rows = "".join(f"2019-11-01T17:00:00+11:00,{n + 100},{n % 2 or 'undefined'},name {n}\n" for n in range(3000))
    records, report = read("Date_Time,Sensor_ID,Hourly_Counts,Sensor_Name\n" + rows)
    assert records == []
    assert len(report.unknown) == melbourne.NAMES_KEPT + 1 and report.unknown[melbourne.OTHER_NAMES] == 500
    assert sum(report.unknown.values()) == 1500
    assert len(report.missing_by_sensor) == melbourne.NAMES_KEPT + 1 and report.missing == {"undefined": 1500}


@live
def test_a_batch_refused_midway_says_how_far_it_got_and_the_rerun_is_safe(live_server, tmp_path):
    dataset, sensors, key = setup_city()
    path = tmp_path / "april-2019.csv"
    path.write_text(wide_april_2019())
    posts = []

    def retire_on_the_second_batch(sender, environ, **kwargs):
        if environ["REQUEST_METHOD"] == "POST":
            posts.append(environ["PATH_INFO"])
            if len(posts) == 2:  # the dataset is retired while the command runs
                Dataset.objects.filter(pk=dataset.pk).update(status=DatasetStatus.RETIRED)

    request_started.connect(retire_on_the_second_batch)
    out = StringIO()
    try:
        with pytest.raises(CommandError) as refused:
            call_command(
                "push_melbourne_counts", str(path), "--url", live_server.url, "--key", key,
                "--dataset", str(dataset.pk), "--batch-size", "500", stdout=out, stderr=StringIO(),
            )  # fmt: skip
    finally:
        request_started.disconnect(retire_on_the_second_batch)
    message = str(refused.value)
    assert "refused batch 2 (lines " in message and "409" in message
    assert "1 batches (500 records, up to line " in message and "running the command again is safe" in message
    first = summary_numbers(out.getvalue())
    assert first["created"] == Record.objects.unguarded("integrity").filter(dataset=dataset).count() > 0

    Dataset.objects.filter(pk=dataset.pk).update(status=DatasetStatus.ACTIVE)
    again, _ = push(live_server, path, dataset, key, "--batch-size", "500")
    assert "replayed (1 batches)" in again
    assert summary_numbers(again)["created"] == sum(stored(dataset, sensors[r])[1] for r in FEEDING) - first["created"]


def strict_read(text: str):
    report = melbourne.Report()
    rows = csv.reader(StringIO(text), strict=True)
    records = [record for _, record in melbourne.records(rows, melbourne.Register(FEEDING.items()), report)]
    return records, report


def test_broken_rows_are_refused_by_line_and_the_reading_goes_on():
    records, report = strict_read(
        "Date_Time,Sensor_ID,Hourly_Counts\n"
        "2019-11-01T17:00:00+11:00,1,10\n"
        '2019-11-01T18:00:00+11:00,1,"11\n'  # the quote closes two lines later: lines 3 to 5 are one cell
        "2019-11-01T19:00:00+11:00,1,12\n"
        '2019-11-01T20:00:00+11:00,1,13"\n'
        '2019-11-01T21:00:00+11:00,"1"x,14\n'  # a stray character after a closing quote
        "2019-11-01T22:00:00+11:00,1\n"  # a cell short
        "2019-11-01T23:00:00+11:00,1,15\n"
    )
    assert [r["count"] for r in records] == [10, 15]
    assert report.rejected == {"unclosed_quote": 3, "bad_csv": 1, "short_row": 1}
    assert [report.details[reason][0][0] for reason in ("unclosed_quote", "bad_csv", "short_row")] == [3, 6, 7]
    assert "lines 3 to 5 read as one row" in report.details["unclosed_quote"][0][3]
    assert not report.missing and report.lines == 8


def test_a_file_ending_inside_a_quoted_field_is_cut_off_not_a_last_row():
    with pytest.raises(melbourne.CutOff, match="opens in line 3") as cut:
        strict_read('Date,Hour,State Library\n01/01/2019,0,5\n01/01/2019,1,"7\n01/01/2019,2,8\n')
    assert cut.value.line == 3


@live
def test_a_cut_off_file_is_reported_and_the_command_says_how_far_it_got(live_server, tmp_path):
    dataset, sensors, key = setup_city()
    rows = [f"{day:02d}/04/2019,{hour},{day},{hour}" for day in range(1, 3) for hour in range(24)]
    header = "Date,Hour,Bourke Street Mall (North),State Library\n"
    path = tmp_path / "cut.csv"
    path.write_text(header + "\n".join(rows[:40]) + "\n" + rows[40][:15])  # the download stopped mid-row

    out, err = push(live_server, path, dataset, key, "--batch-size", "25")

    assert stored(dataset, sensors["1"]) == (sum(int(row.split(",")[2]) for row in rows[:40]), 40)
    assert ": 80 created, " in out and " 2 rejected." in out.splitlines()[0]
    assert "rejected in the file: short_row: 2; e.g. line 42" in out
    assert "line 42: 3 cells, the header has 4: the row is cut off" in err and " more short_row" not in err
    assert "missing cells (no record): 0 " in out

    # a quote that is never closed: the command stops, says where and how far it got, and sends nothing after
    path.write_text(header + "\n".join(rows[:40]) + '\n02/04/2019,16,"9,9\n' + "\n".join(rows[41:]) + "\n")
    out = StringIO()
    with pytest.raises(CommandError) as cut:
        call_command("push_melbourne_counts", str(path), "--url", live_server.url, "--key", key,
                     "--dataset", str(dataset.pk), "--batch-size", "25", stdout=out, stderr=StringIO())  # fmt: skip
    message = str(cut.value)
    assert "ends inside a quoted field that opens in line 42" in message, message
    assert "3 batches (75 records, up to line 39) were sent before" in message
    assert "running the command again is safe" in message
    assert "75 replayed (3 batches)" in out.getvalue()
    assert stored(dataset, sensors["1"])[1] == 40
