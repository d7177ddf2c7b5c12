"""A sensor import checks every column's own limits (length, integer range, e-mail) as the API does:
a value the database cannot store is a 422 naming its line and column, and nothing is stored."""

import pytest

from sensors.models import Sensor
from tests.robustness.conftest import assert_problem

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "column,value",
    [
        ("reference", "r" * 101),
        ("name", "n" * 201),
        ("legal_basis", "l" * 301),
        ("restriction_reason", "r" * 301),
        ("raw_data_retention_hours", str(2**31)),
        ("raw_data_retention_hours", str(2**70)),
        ("raw_data_retention_hours", "-1"),
        ("latitude", "1e400"),
        ("contact_email", "not an address"),
    ],
)
def test_an_import_row_that_breaks_a_column_names_line_and_column(steward, city, column, value):
    row = {"reference": "cam-2", "name": "Plein", "latitude": "52.0", "longitude": "5.0", column: value}
    if column == "restriction_reason":
        row["visibility"] = "restricted"
    header = ",".join(row)
    body = (
        f"{header}\n{','.join(['cam-1', 'Plein', '52.0', '5.0', *[''] * (len(row) - 4)])}\n{','.join(row.values())}\n"
    )
    response = steward.post(
        f"/api/v1/sensors/import/?controller={city.slug}&sensor_type=thermal-counter", body, content_type="text/csv"
    )
    problem = assert_problem(response, 422)
    # The column, or the field it feeds (latitude: the location), or None for a value that is not a number.
    assert [(error["line"], error["column"]) for error in problem["errors"]] in ([(3, column)], [(3, None)]) or (
        column == "latitude" and problem["errors"] == [{**problem["errors"][0], "line": 3, "column": "location"}]
    )
    assert not Sensor.objects.exists()
