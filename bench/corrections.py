"""A correcting batch against a new-records batch: 10,000 crowd-count records of 300 sensors placed in 10 areas,
stored with `datasets.storage.store` in one transaction each (COMMIT included), in the same run. A correction
changes every record of a batch already stored, so its buckets are recomputed from the records (ADR 0009):
in SQL (PostgreSQL's path) and, for comparison, through the Python reference (`--python` runs it as well,
alternating with SQL).

Run with `bench/run corrections [--runs N] [--batch-size N] [--sensors N] [--areas N] [--python]`.
"""

import argparse
import statistics
import time
from datetime import timedelta
from unittest import mock

from ingest import START, setup  # bench/ingest.py: sets Django up; the same dataset and rows

# isort: split

from django.db import transaction  # noqa: E402

from datasets import partitions, rollups, storage  # noqa: E402
from datasets.models import Dataset  # noqa: E402
from datasets.records import Row  # noqa: E402
from sensors.models import Area, Placement  # noqa: E402


def place(dataset, areas: int) -> None:
    sensors = list(dataset.sensors.order_by("pk"))
    Area.objects.filter(owner=dataset.owner, name__startswith="bench area ").delete()
    made = [
        Area.objects.create(
            owner=dataset.owner,
            name=f"bench area {n}",
            area_type="square",
            surface_m2_computed=1.0,
            geometry={"type": "Polygon", "coordinates": [[[5, 52], [5.1, 52], [5.1, 52.1], [5, 52]]]},
            min_lon=5,
            min_lat=52,
            max_lon=5.1,
            max_lat=52.1,
        )  # fmt: skip
        for n in range(areas)
    ]
    Placement.objects.filter(sensor__in=sensors).delete()
    Placement.objects.bulk_create(
        Placement(sensor=sensor, area=made[n % areas], direction="leaves" if n % 7 == 0 else "enters")
        for n, sensor in enumerate(sensors)
    )


def batch(sensors: list[int], size: int, offset: int, bump: int) -> list[Row]:
    rows = []
    for i in range(size):
        start = START + timedelta(minutes=5 * (offset + i // len(sensors)))
        rows.append(Row(i, sensors[i % len(sensors)], "", start, start + timedelta(minutes=5),
                        (i * 7) % 50 + bump, (i * 3) % 40, (i * 7) % 50 + bump + (i * 3) % 40, None, None))  # fmt: skip
    return rows


def timed(dataset: Dataset, rows: list[Row]) -> tuple[float, storage.Stored]:
    began = time.perf_counter()
    with transaction.atomic():
        stored = storage.store(dataset=dataset, rows=rows, batch_id=None)
    return time.perf_counter() - began, stored


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--warm", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=10_000)
    parser.add_argument("--sensors", type=int, default=300)
    parser.add_argument("--areas", type=int, default=10)
    parser.add_argument("--python", action="store_true", help="also time the Python recompute")
    args = parser.parse_args()
    dataset, _ = setup(args.sensors)
    place(dataset, args.areas)
    sensors = list(dataset.sensors.order_by("pk").values_list("pk", flat=True))
    slots = -(-args.batch_size // args.sensors)
    partitions.months_create({partitions.month_of(START + timedelta(minutes=5 * slots * n)) for n in range(60)})
    times: dict[str, list[float]] = {"new": [], "sql": [], "python": []}
    for run in range(args.warm + args.runs):
        offset = run * slots
        elapsed, stored = timed(dataset, batch(sensors, args.batch_size, offset, 0))
        assert stored.created == args.batch_size, stored
        paths = ["sql", "python"] if args.python else ["sql"]
        if run % 2:
            paths.reverse()
        spent = {"new": elapsed}
        for bump, path in enumerate(paths, start=1):
            rows = batch(sensors, args.batch_size, offset, bump)
            if path == "sql":
                spent[path], stored = timed(dataset, rows)
                continue
            # The Python reference, as storage ran it before (keys from the rows, recomputed in Python).
            python = lambda dataset, rows=rows: rollups.refresh(dataset, rollups.touched_by(rows), sql=False)  # noqa: E731
            with mock.patch.object(rollups, "refresh_staged", python):
                spent[path], stored = timed(dataset, rows)
            assert stored.updated == args.batch_size, stored
        if run >= args.warm:
            for name, value in spent.items():
                times[name].append(value)
    with transaction.atomic():
        assert rollups.verify(dataset) == [], "rollups differ from the records"
    print(f"{args.batch_size} records, {args.sensors} sensors in {args.areas} areas, {args.runs} runs "
          f"after {args.warm} warm-ups (ms: median, min, max)")  # fmt: skip
    for name, label in (("new", "new records"), ("sql", "correcting all, SQL"), ("python", "correcting all, Python")):
        if times[name]:
            values = [1000 * v for v in times[name]]
            print(f"  {label:<24} {statistics.median(values):7.0f} {min(values):7.0f} {max(values):7.0f}")


if __name__ == "__main__":
    main()
