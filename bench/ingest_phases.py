"""Where the time of one ingest batch goes, inside the process: batches of crowd-count records posted
through Django's test client (the whole view: authentication, throttle, get_object, parse, prepare,
store, commit), each phase timed, medians printed. `--profile` also runs one more batch under cProfile
and prints the functions that took the most time.

Run with `bench/run ingest_phases [--batches N] [--batch-size N] [--sensors N] [--profile]`.
"""

import argparse
import cProfile
import gc
import io
import pstats
import statistics
import time
from collections import defaultdict

from ingest import bodies, setup  # bench/ingest.py: sets Django up; the same dataset and rows

# isort: split

from django.db import connections  # noqa: E402
from django.test import Client  # noqa: E402

from datasets import records, storage  # noqa: E402
from datasets.api.views import DatasetViewSet  # noqa: E402

spent: dict[str, list[float]] = defaultdict(list)
current: dict[str, float] = {}


def timed(owner, name: str, label: str) -> None:
    """Wrap owner.name so that every call adds its duration to the phase `label` of the current batch."""
    original = getattr(owner, name)

    def wrapper(*args, **kwargs):
        began = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            current[label] = current.get(label, 0.0) + time.perf_counter() - began

    setattr(owner, name, wrapper)


def gc_timer():
    """Adds the time of Python's garbage collections to the phase `gc` (they happen inside the other phases)."""
    began = {}

    def callback(phase, info):
        if phase == "start":
            began["at"] = time.perf_counter()
        elif "at" in began:
            seconds = time.perf_counter() - began.pop("at")
            current["gc"] = current.get("gc", 0.0) + seconds
            current[f"gc_{info['generation']}"] = current.get(f"gc_{info['generation']}", 0.0) + seconds
            current["gc_runs_" + str(info["generation"])] = current.get("gc_runs_" + str(info["generation"]), 0) + 1

    gc.callbacks.append(callback)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--batches", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=10_000)
    parser.add_argument("--sensors", type=int, default=300)
    parser.add_argument("--profile", action="store_true", help="profile one more batch with cProfile")
    args = parser.parse_args()

    dataset, key = setup(args.sensors)
    import config.wsgi  # noqa: F401, PLC0415 (as in the server: the start-up heap frozen, config.heap)

    batches = bodies((args.batches + 1) * args.batch_size, args.sensors, args.batch_size)
    timed(DatasetViewSet, "get_object", "get_object")
    timed(records, "parse_json", "parse")
    timed(records, "prepare", "prepare")
    timed(storage, "store", "store")
    timed(storage, "coverage_extend", "coverage")
    timed(type(connections["default"]), "_commit", "commit")
    gc_timer()
    client = Client(HTTP_HOST="localhost", HTTP_AUTHORIZATION=f"Api-Key {key}")
    url = f"/api/v1/datasets/{dataset.pk}/records/"

    def post(index: int) -> None:
        current.clear()
        began = time.perf_counter()
        response = client.post(url, batches[index], content_type="application/json", HTTP_IDEMPOTENCY_KEY=f"p-{index}")
        current["request"] = time.perf_counter() - began
        assert response.status_code == 201, response.content[:500]
        assert response.json()["created"] == args.batch_size, response.json()

    for index in range(args.batches):
        post(index)
        for label, seconds in current.items():
            spent[label].append(seconds)
    print(f"{args.batches} batches of {args.batch_size:,} records ({args.sensors} sensors), test client, median ms:")
    request = statistics.median(spent["request"])
    parts = 0.0
    for label in ["get_object", "parse", "prepare", "store", "coverage", "commit"]:
        median = statistics.median(spent[label]) if spent[label] else 0.0
        parts += median
        print(f"  {label:<12}{1000 * median:>8.1f}")
    print(f"  {'rest':<12}{1000 * (request - parts):>8.1f}  (authentication, throttle, batch and key rows, answer)")
    gc_ms = 1000 * statistics.median(spent["gc"]) if spent["gc"] else 0.0
    runs = ", ".join(
        f"gen {n}: {statistics.median(spent[f'gc_runs_{n}']):.0f} in {1000 * statistics.median(spent[f'gc_{n}']):.1f}"
        for n in range(3)
        if spent[f"gc_runs_{n}"]
    )
    print(f"  {'(gc)':<12}{gc_ms:>8.1f}  (Python's garbage collector, inside the phases above; runs and ms {runs})")
    print(f"  {'request':<12}{1000 * request:>8.1f}  ({args.batch_size / request:,.0f} records/s, one client)")
    if args.profile:
        profiler = cProfile.Profile()
        profiler.enable()
        post(args.batches)
        profiler.disable()
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(30)
        print(out.getvalue())


if __name__ == "__main__":
    main()
