"""The escape hatch around the guard is used where it is named for, and nowhere else in the platform's code."""

import re
from pathlib import Path

import pytest

from datasets.models import Record
from purposes.decisions import UnguardedRead

PROJECT = Path(__file__).resolve().parents[2]
# module -> the reasons it may give: ingest, retention, the catalogue's coverage metadata, and the count of
# a sensor's records outside its service life that its controller is told after changing the life, and the
# integrity check that lists records whose dataset or sensor is gone (keys and counts only, for operators).
ALLOWED = {
    "datasets/integrity.py": {"integrity"},
    "datasets/storage.py": {"ingest", "coverage"},
    "datasets/retention.py": {"retention"},
    # keeping the rollups current (ingest) and verify_rollups' comparison with the records (integrity)
    "datasets/rollups.py": {"ingest", "integrity"},
    "datasets/selectors.py": {"coverage"},
    "sensors/selectors.py": {"service_life"},
}
# Ways around a purpose-bound model's guarded manager, or joins into it from another model.
AROUND = re.compile(r"\.unguarded\(\s*\"(\w+)\"|_base_manager|\b(records|rollups)__\w")


def platform_modules():
    for path in sorted(PROJECT.rglob("*.py")):
        relative = path.relative_to(PROJECT).as_posix()
        if relative.startswith((".venv/", "tests/", "bench/")) or "/migrations/" in relative:
            continue
        yield relative, path.read_text()


def test_the_escape_hatch_is_used_only_where_it_is_named_for():
    found = {}
    for relative, text in platform_modules():
        for match in AROUND.finditer(text):
            if relative == "purposes/managers.py":
                continue
            found.setdefault(relative, set()).add(match.group(1) or match.group(0))
    assert found == {module: reasons for module, reasons in ALLOWED.items() if module in found}
    assert set(found) == set(ALLOWED)


@pytest.mark.django_db
def test_reading_records_without_a_decision_or_for_another_reason_raises():
    with pytest.raises(UnguardedRead):
        list(Record.objects.all())
    with pytest.raises(UnguardedRead):
        Record.objects.unguarded("curiosity")
    with pytest.raises(UnguardedRead):
        Record.objects.for_decision(object())
