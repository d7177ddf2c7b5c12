"""Outside review of issue 9: defects found by trying the platform from outside (each fails today).

- A Melbourne file cut off mid-row (a short row) must not pass as "missing cells": a count that was in
  the file is lost without a trace of the truncation.
- A CSV body whose header names a column twice must be refused, not read with the last cell silently.
"""

import csv
from io import StringIO

import pytest

from datasets import melbourne
from datasets.models import Record
from tests.datasets.conftest import RECORDS

FEEDING = {"1": "Princes Bridge", "2": "Melbourne Central"}


def read(text: str):
    report = melbourne.Report()
    register = melbourne.Register(FEEDING.items())
    records = [record for _, record in melbourne.records(csv.reader(StringIO(text)), register, report)]
    return records, report


def test_a_long_file_truncated_mid_row_is_reported_not_counted_as_missing():
    records, report = read(
        "Date_Time,Sensor_ID,Sensor_Name,Hourly_Counts\n"
        "2019-11-01T17:00:00+11:00,1,Princes Bridge,10\n"
        "2019-11-01T18:00:00+11:00,1,Princes Bri"  # the download stopped here
    )
    assert [r["count"] for r in records] == [10]
    assert sum(report.missing.values()) == 0, "a cut-off row is not an offline sensor"
    assert sum(report.rejected.values()) == 1, report.rejected
    assert report.rejected == {"short_row": 1} and report.details["short_row"][0][0] == 3


def test_a_wide_file_truncated_mid_row_is_reported_not_counted_as_missing():
    records, report = read("Date,Hour,Princes Bridge,Melbourne Central\n01/11/2019,0,5,6\n01/11/2019,1,7")
    assert [r["count"] for r in records] == [5, 6]
    assert sum(report.missing.values()) == 0, "a cut-off row is not an offline sensor"
    assert sum(report.rejected.values()) >= 1, report.rejected
    # the whole row is refused (a cut row cannot be trusted): both of its sensor cells, at line 3
    assert report.rejected == {"short_row": 2} and report.details["short_row"][0][0] == 3


def test_an_unclosed_quote_does_not_swallow_the_following_rows_silently():
    records, report = read(
        "Date_Time,Sensor_ID,Sensor_Name,Hourly_Counts\n"
        '2019-11-01T17:00:00+11:00,1,"Princes Bridge,10\n'
        "2019-11-01T18:00:00+11:00,1,Princes Bridge,11\n"
    )
    assert sum(report.missing.values()) == 0
    assert records or report.rejected, "the file's counts vanished as one 'empty' cell"
    # lines 2 and 3 became one row: refused, reported from the line where the quote opens
    assert report.rejected == {"unclosed_quote": 2} and report.details["unclosed_quote"][0][0] == 2


@pytest.mark.django_db
def test_a_csv_header_naming_a_column_twice_is_refused(owner_client, dataset):
    body = (
        b"sensor,observed_from,observed_to,count_in,count_out,count_in\n"
        b"gate-1,2026-01-05T10:00:00Z,2026-01-05T10:05:00Z,10,5,999\n"
    )
    response = owner_client.post(RECORDS.format(dataset.pk), body, content_type="text/csv")
    assert response.status_code == 400, (response.status_code, response.content)
    assert response["Content-Type"] == "application/problem+json"
    assert not Record.objects.unguarded("integrity").exists()
