"""The City of Melbourne's hourly pedestrian counts (wide CSV, one column per sensor) as records of
the `hourly-pedestrian-count` schema.

Columns are matched to sensors by name (the sensor register's `sensor_description`); ALIASES holds
the names that differ between the two files. Times are local to Melbourne; empty cells are missing
data and produce no record.
"""

import csv
import io
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

MELBOURNE = ZoneInfo("Australia/Melbourne")
# Column name in the counts file -> sensor name in the sensor-locations file.
ALIASES = {"Flinders St Station Underpass": "Flinders Street Station Underpass"}


def wide_to_records(text: str, reference_by_name: dict[str, str]) -> tuple[list[dict], list[str]]:
    """Records for every non-empty cell of a known column; returns them and the unknown column names."""
    reader = csv.reader(io.StringIO(text))
    header = next(reader)
    columns = header[2:]
    unknown = [name for name in columns if ALIASES.get(name, name) not in reference_by_name]
    references = [reference_by_name.get(ALIASES.get(name, name)) for name in columns]
    records = []
    for row in reader:
        if not row or not row[0].strip():
            continue
        start = datetime.strptime(row[0], "%d-%b-%y").replace(hour=int(row[1]), tzinfo=MELBOURNE)
        end = start + timedelta(hours=1)
        for reference, cell in zip(references, row[2:], strict=False):
            if reference is None or not cell.strip():
                continue
            records.append(
                {
                    "sensor": reference,
                    "observed_from": start.isoformat(),
                    "observed_to": end.isoformat(),
                    "count": int(cell),
                }
            )
    return records, unknown
