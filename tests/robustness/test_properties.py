"""Property-based: arbitrary text, JSON, CSV, geometry and query values thrown at the parsers, the
serializers and a handful of endpoints never cause a 5xx, and every 4xx is problem+json.

Reproducible and bounded: derandomized (the same examples on every run, in CI too), no example database,
no deadline (the machine is shared), and a modest number of examples per test. To explore further by
hand: FUZZ_EXAMPLES=1000 for more examples, FUZZ_RANDOM=1 for new ones on every run.
"""

import json
import os
import re
import string
import urllib.parse
from datetime import timedelta, timezone

import orjson
import pytest
from django.core.cache import cache
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework import serializers

from api import parsers
from api.moments import EARLIEST, LATEST, MomentField, in_utc
from datasets import records
from sensors.api.serializers import AreaSerializer, ThresholdsSerializer
from sensors.geometry import GeometryError, polygon_facts
from tests.api.test_access_audit import api_views
from tests.robustness.conftest import SQUARE, assert_problem

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "60"))


def fuzz(examples: int = EXAMPLES):
    return settings(
        max_examples=examples,
        deadline=None,
        derandomize=not os.environ.get("FUZZ_RANDOM"),
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
    )


# Strategies ----------------------------------------------------------------------------------------

# Text with what breaks things: NUL, control characters, astral characters, JSON and CSV syntax.
text = st.text(alphabet=st.characters(codec="utf-8"), max_size=30) | st.sampled_from(
    ["", "\x00", "a\x00b", "\ufeff", "null", "[]", "{}", '"', ",", "\n", "\r\n", "=1+1", "NaN", "-1", "1e400"]
)
numbers = st.integers(min_value=-(2**70), max_value=2**70) | st.floats(allow_nan=False, allow_infinity=False)
scalars = st.none() | st.booleans() | numbers | text
json_values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(text, children, max_size=4),
    max_leaves=12,
)


def nest(depth: int, value=1):
    for _ in range(depth):
        value = [value]
    return value


depths = st.integers(min_value=0, max_value=2000)
deep_json = depths.map(nest)
deep_bytes = depths.map(lambda depth: b"[" * depth + b"1" + b"]" * depth)  # json.dumps would recurse too deep
moments = st.datetimes(
    timezones=st.builds(timezone, st.integers(min_value=-1439, max_value=1439).map(lambda m: timedelta(minutes=m)))
)
moment_text = (
    moments.map(lambda moment: moment.isoformat())
    | text
    | st.sampled_from(
        ["0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-05:00", "2026-01-05T10:00:00-21:31", "2026-13-45T99:00Z"]
    )
)
positions = st.lists(numbers | scalars, min_size=0, max_size=4)
rings = st.lists(st.lists(st.floats(-181, 181), min_size=2, max_size=3) | positions, min_size=0, max_size=8).map(
    lambda ring: ring + ring[:1]
)
geometries = (
    st.fixed_dictionaries({"type": st.just("Polygon"), "coordinates": st.lists(rings, min_size=0, max_size=3)})
    | json_values
)


def encoded(value) -> bytes:
    # The standard library writes what orjson will not (integers beyond 64 bits): the server must refuse it.
    return json.dumps(value).encode()


# Parsers (pure functions: many examples, fast) -----------------------------------------------------


def resolve(document, pointer: str):
    for token in pointer.split("/")[1:]:
        token = token.replace("~1", "/").replace("~0", "~")
        document = document[int(token)] if isinstance(document, list) else document[token]
    return document


@fuzz(EXAMPLES * 5)
@given(document=json_values | deep_json)
def test_check_document_refuses_only_nul_and_depth_and_points_at_them(document):
    try:
        parsers.check_document(document)
    except parsers.BodyRefused as refused:
        assert refused.code in {"null_character", "nesting_too_deep"}
        found = resolve(document, refused.pointer)  # the pointer leads to what was refused
        if refused.code == "null_character":
            key = refused.pointer.rsplit("/", 1)[-1].replace("~1", "/").replace("~0", "~")
            assert "\x00" in key or "\x00" in found
        else:
            assert isinstance(found, list | dict)


@fuzz(EXAMPLES * 5)
@given(body=st.binary(max_size=200) | json_values.map(encoded) | deep_bytes)
def test_loads_raises_only_a_decode_error_or_a_refusal(body):
    try:
        parsers.loads(body)
    except (orjson.JSONDecodeError, parsers.BodyRefused):
        pass


@fuzz(EXAMPLES * 5)
@given(
    body=st.text(max_size=300)
    | st.lists(st.lists(text, max_size=5), max_size=5).map(lambda rows: "\n".join(",".join(row) for row in rows))
)
def test_csv_rows_raise_only_a_refusal_naming_a_line(body):
    try:
        reader, rows = parsers.csv_rows(body)
        list(rows)
    except parsers.BodyRefused as refused:
        assert refused.line is not None and 1 <= refused.line <= body.count("\n") + 2


@fuzz(EXAMPLES * 5)
@given(geometry=geometries)
def test_polygon_facts_give_a_surface_or_a_geometry_error(geometry):
    try:
        facts = polygon_facts(geometry)
    except GeometryError as error:
        assert error.pointer.startswith(("/type", "/coordinates"))
    else:
        assert facts.surface_m2 >= 0.01
        assert -180 <= facts.min_lon <= facts.max_lon <= 180 and -90 < facts.min_lat <= facts.max_lat < 90


@fuzz(EXAMPLES * 5)
@given(moment=moments)
def test_moments_are_in_utc_and_in_range_or_refused(moment):
    try:
        utc = in_utc(moment)
    except ValueError:
        return
    assert utc.utcoffset() == timedelta(0) and EARLIEST <= utc <= LATEST and utc == moment


@fuzz(EXAMPLES * 5)
@given(value=moment_text)
def test_moment_filters_clean_or_refuse(value):
    from django import forms

    try:
        moment = MomentField().clean(value)
    except forms.ValidationError:
        return
    assert moment is None or EARLIEST <= moment <= LATEST


@pytest.mark.django_db
@fuzz()
@given(
    body=st.binary(max_size=300) | json_values.map(encoded) | deep_bytes,
    content_type=st.sampled_from(list(records.FORMATS)),
)
def test_record_bodies_parse_or_refuse(dataset, body, content_type):
    try:
        records.parse_body(body, content_type, dataset.schema_version)
    except (records.BodyError, parsers.BodyRefused):
        pass


# Serializers -----------------------------------------------------------------------------------------


@pytest.mark.django_db
@fuzz()
@given(
    data=st.dictionaries(st.sampled_from(["name", "area_type", "geometry", "thresholds", "capacity"]), json_values)
    | st.fixed_dictionaries({"name": text, "area_type": st.just("square"), "geometry": geometries})
)
def test_the_area_serializer_validates_or_names_fields(data):
    serializer = AreaSerializer(data=data)
    if not serializer.is_valid():
        assert serializer.errors


@fuzz(EXAMPLES * 3)
@given(data=json_values, partial=st.booleans())
def test_the_thresholds_serializer_validates_or_names_fields(data, partial):
    serializer = ThresholdsSerializer(data=data, partial=partial)
    if not serializer.is_valid():
        assert serializer.errors


# Endpoints: the whole stack, fewer examples -------------------------------------------------------------


def answered(response):
    """No 5xx; every refusal is problem+json."""
    if response.status_code >= 400:
        assert_problem(response)
    return response


query_names = st.sampled_from(
    ["active_at", "bbox", "type", "controller", "operator", "organisation", "status", "visibility", "area",
     "personal_data", "installed_after", "installed_before", "name", "reference", "page", "page_size", "format",
     "cursor", "ordering", "geometry", "owner", "area_type"]
) | text  # fmt: skip
queries = st.dictionaries(query_names, text | moment_text | numbers.map(str), max_size=5)
raw_queries = st.lists(
    st.sampled_from(["%00", "%ED%A0%80", "%FF", "%", "&", "=", "+", "%25", "[]", "active_at=", "bbox=", "page=", "a"])
    | st.text(alphabet=string.ascii_letters + string.digits, max_size=5),
    max_size=8,
).map("".join)


@pytest.mark.django_db
@fuzz()
@given(query=queries, raw=raw_queries)
def test_register_filters(anonymous, sensor, query, raw):
    cache.clear()  # the anonymous rate would otherwise end the run with 429s
    answered(anonymous.get("/api/v1/public/sensors/", query))
    answered(anonymous.get(f"/api/v1/public/sensors/?{raw}"))


@pytest.mark.django_db
@fuzz()
@given(query=queries, body=st.dictionaries(
    st.sampled_from(["reference", "name", "sensor_type", "controller", "operator", "location", "area", "measures",
                     "active_periods", "installed_at", "active_until", "visibility", "raw_data_retention_hours",
                     "contact_email", "personal_data_at_edge"]),
    json_values | moment_text,
))  # fmt: skip
def test_sensors(steward, sensor, query, body):
    answered(steward.get("/api/v1/sensors/", query))
    answered(steward.post("/api/v1/sensors/", encoded(body), content_type="application/json"))
    answered(steward.patch(f"/api/v1/sensors/{sensor.pk}/", encoded(body), content_type="application/json"))


@pytest.mark.django_db
@fuzz()
@given(geometry=geometries, thresholds=json_values, query=queries)
def test_areas(steward, area, geometry, thresholds, query):
    body = {"name": "Plein 2", "area_type": "square", "geometry": geometry}
    created = answered(steward.post("/api/v1/areas/", encoded(body), content_type="application/json"))
    if created.status_code == 201:
        answered(steward.delete(f"/api/v1/areas/{created.json()['id']}/?format=geojson"))
    patch = {"thresholds": thresholds, "geometry": SQUARE}
    answered(steward.patch(f"/api/v1/areas/{area['id']}/", encoded(patch), content_type="application/json"))
    answered(steward.get("/api/v1/areas/", query))


record_fields = st.sampled_from(["sensor", "sensor_id", "observed_from", "observed_to", "count_in", "count_out"])
record = st.dictionaries(record_fields, json_values | moment_text, max_size=6) | st.fixed_dictionaries(
    {"sensor": st.just("gate-1"), "observed_from": moment_text, "observed_to": moment_text, "count_in": numbers,
     "count_out": numbers}
)  # fmt: skip


@pytest.mark.django_db
@fuzz()
@given(
    records_=st.lists(record, max_size=3),
    raw=st.binary(max_size=200),
    content_type=st.sampled_from([*records.FORMATS, "application/ld+json", "text/plain"]),
    partial=st.booleans(),
)
def test_records_ingest(integrator, dataset, records_, raw, content_type, partial):
    path = f"/api/v1/datasets/{dataset.pk}/records/{'?partial=true' if partial else ''}"
    answered(integrator.post(path, encoded({"records": records_}), content_type="application/json"))
    answered(integrator.post(path, b"\n".join(map(encoded, records_)), content_type="application/x-ndjson"))
    answered(integrator.post(path, raw, content_type=content_type))
    answered(integrator.post(f"/api/v1/datasets/{dataset.pk}/records/fiware/", raw, content_type="application/json"))


@pytest.mark.django_db
@fuzz()
@given(
    query=st.fixed_dictionaries(
        {},
        optional={
            "from": moment_text,
            "to": moment_text,
            "cursor": text,
            "page_size": text | numbers.map(str),
            "fields": text,
            "sensor": text | numbers.map(str),
            "bucket": text,
            "by": text,
            "format": st.sampled_from(["json", "csv", "ndjson", "geojson", "xml"]) | text,
        },
    )
)
def test_records_read(steward, dataset, purpose, query):
    for path in ("/api/v1/records/", "/api/v1/aggregates/counts/"):
        answered(steward.get(path, {"dataset": dataset.pk, **query}, HTTP_X_PURPOSE=purpose.code))


# Every route: arbitrary lookups, queries and bodies ------------------------------------------------------

PARAMETER = re.compile(r"\(\?P<(\w+)>[^)]*\)|<(?:\w+:)?(\w+)>")


def routes(methods: set[str]) -> list[tuple[str, str]]:
    """(method, route template) for every API route answering one of `methods`."""
    found = []
    for route, callback, cls in api_views():
        actions = getattr(callback, "actions", None)
        allowed = (
            {m.upper() for m in actions} if actions else {m.upper() for m in getattr(cls, "http_method_names", [])}
        )
        for method in sorted(allowed & methods):
            found.append((method, "/" + route.removesuffix("$")))
    return found


def field_names() -> list[str]:
    """Every field name a serializer of the platform declares: the keys bodies are made of."""
    names = set()
    for serializer in subclasses(serializers.Serializer):
        if serializer.__module__.split(".")[0] in {"sensors", "datasets", "purposes", "accounts", "api"}:
            names.update(serializer._declared_fields)
            names.update(getattr(getattr(serializer, "Meta", None), "fields", None) or [])
    return sorted(name for name in names if isinstance(name, str))


def subclasses(klass):
    for sub in klass.__subclasses__():
        yield sub
        yield from subclasses(sub)


@st.composite
def paths(draw, method_routes, known):
    method, template = draw(st.sampled_from(method_routes))

    def value(match):
        name = match.group(1) or match.group(2)
        chosen = draw(st.sampled_from(known.get(name, [])) | text.map(str) if known.get(name) else text)
        return urllib.parse.quote(str(chosen), safe="")

    return method, PARAMETER.sub(value, template)


@pytest.fixture
def known(city, sensor, area, dataset, purpose, steward):
    """Real values for path parameters, so that arbitrary requests also reach existing objects."""
    return {
        "pk": [sensor.pk, area["id"], dataset.pk],
        "slug": [city.slug],
        "code": [purpose.code, "crowd-count-line", "lidar-counter"],
        "version": ["1.0.0"],
        "prefix": ["nosuchpr"],
    }


@pytest.mark.django_db
@fuzz(EXAMPLES * 3)
@given(data=st.data(), query=queries)
def test_every_get_route(steward, anonymous, known, data, query):
    cache.clear()
    method, path = data.draw(paths(routes({"GET"}), known))
    answered(steward.get(path, query))
    answered(anonymous.get(path, query))


@pytest.mark.django_db
@fuzz(EXAMPLES * 3)
@given(data=st.data(), body=st.dictionaries(st.sampled_from(field_names()), json_values | moment_text, max_size=6))
def test_every_write_route(steward, known, data, body):
    # No path names the steward's own key (`known` has no real prefix), so it is never revoked.
    method, path = data.draw(paths(routes({"POST", "PUT", "PATCH", "DELETE"}), known))
    answered(steward.generic(method, path, encoded(body), content_type="application/json"))
