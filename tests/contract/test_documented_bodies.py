"""Bodies are what the document says for their media type: GeoJSON as Features, CSV as text, nulls as nullable."""

import pytest

from accounts.models import OrganisationKind, Role
from tests.datasets.conftest import make_dataset, make_sensor
from tests.factories import OrganisationFactory

pytestmark = pytest.mark.django_db

V1 = "/api/v1"
SQUARE = {
    "type": "Polygon",
    "coordinates": [[[5.0, 52.0], [5.001, 52.0], [5.001, 52.001], [5.0, 52.001], [5.0, 52.0]]],
}


@pytest.fixture
def city(db):
    return OrganisationFactory(kind=OrganisationKind.MUNICIPALITY)


@pytest.fixture
def client(city, key_client):
    return key_client(city, Role.ADMIN)


@pytest.fixture
def area(client):
    response = client.post(f"{V1}/areas/", {"name": "Plein", "area_type": "square", "geometry": SQUARE}, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def test_areas_as_geojson_are_documented_as_features(assert_conforms, client, area):
    listed = assert_conforms("get", f"{V1}/areas/", client.get(f"{V1}/areas/", {"format": "geojson"}))
    assert listed.json()["type"] == "FeatureCollection"
    one = client.get(f"{V1}/areas/{area['id']}/", {"format": "geojson"})
    assert assert_conforms("get", f"{V1}/areas/{{id}}/", one).json()["type"] == "Feature"


def test_sensors_as_geojson_and_csv_are_documented(assert_conforms, city, client):
    sensor = make_sensor(city, city, "gate-1")
    for media in ("geojson", "csv"):
        assert_conforms("get", f"{V1}/sensors/", client.get(f"{V1}/sensors/", {"format": media}))
        one = client.get(f"{V1}/sensors/{sensor.pk}/", {"format": media})
        assert_conforms("get", f"{V1}/sensors/{{id}}/", one)
        public = client.get(f"{V1}/public/sensors/{sensor.pk}/", {"format": media})
        assert_conforms("get", f"{V1}/public/sensors/{{id}}/", public)


@pytest.mark.parametrize("path", ["/public/sensors/", "/sensors/"])
def test_an_empty_csv_list_keeps_its_content_type(assert_conforms, client, path):
    response = client.get(f"{V1}{path}", {"format": "csv", "name": "no such sensor"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert_conforms("get", f"{V1}{path}", response)


def test_a_key_made_from_the_shell_has_no_creator_and_no_expiry(assert_conforms, client):
    # The client's own key was made without a person (as `manage.py apikey` does) and never expires.
    listed = assert_conforms("get", f"{V1}/api-keys/", client.get(f"{V1}/api-keys/"))
    assert listed.json()["results"][0]["created_by"] is None
    assert listed.json()["results"][0]["expires_at"] is None
    assert_conforms("get", f"{V1}/me/", client.get(f"{V1}/me/"))


def test_a_batch_sent_with_a_key_has_no_user(assert_conforms, city, client, key_client):
    dataset = make_dataset(city, sensors=[make_sensor(city, city, "gate-1")])
    body = "sensor,observed_from,observed_to,count_in,count_out\ngate-1,2026-01-05T10:00:00Z,2026-01-05T10:05:00Z,1,2\n"
    sent = key_client(city, Role.INTEGRATOR).post(f"{V1}/datasets/{dataset.pk}/records/", body, content_type="text/csv")
    assert sent.status_code == 201, sent.content
    batches = client.get(f"{V1}/datasets/{dataset.pk}/batches/")
    assert batches.json()["results"][0]["user"] is None
    assert_conforms("get", f"{V1}/datasets/{{id}}/batches/", batches)


SERIALIZER_MODULES = [
    "accounts.api.serializers",
    "sensors.api.serializers",
    "datasets.api.serializers",
    "purposes.api.serializers",
]


def nullable_columns_documented_as_not_null():
    """(serializer, field) pairs whose model column may be NULL but whose declared field does not allow null:
    drf-spectacular documents those as never null (it infers nullability only for fields it builds itself)."""
    import importlib
    import inspect

    from django.core.exceptions import FieldDoesNotExist
    from rest_framework import serializers

    found = []
    for module_name in SERIALIZER_MODULES:
        module = importlib.import_module(module_name)
        for name, serializer in inspect.getmembers(module, inspect.isclass):
            if not issubclass(serializer, serializers.ModelSerializer) or serializer.__module__ != module_name:
                continue
            model = serializer.Meta.model
            for field_name, field in serializer().fields.items():
                source = field.source or field_name
                try:
                    column = model._meta.get_field(source)
                except FieldDoesNotExist:
                    continue
                if column.concrete and column.null and not field.allow_null:
                    found.append(f"{name}.{field_name}")
    return found


def test_every_nullable_column_is_documented_as_nullable():
    assert nullable_columns_documented_as_not_null() == []
