"""The schema registry: documents valid, examples valid, versions immutable, served without login."""

import copy
import json
import shutil
from io import StringIO
from pathlib import Path

import jsonschema_rs
import pytest
from django.core.management import call_command

from datasets import registry
from datasets.management.commands.schemas_doc import render
from datasets.models import SchemaVersion

PROJECT = Path(__file__).resolve().parents[2]
REQUIRED_CODES = {
    "crowd-count-line",
    "area-occupancy",
    "crowd-flow",
    "crowd-density",
    "group-observation",
    "distance-keeping",
    "sound-anomaly",
    "event-calendar",
    "hourly-pedestrian-count",
}


def test_every_required_schema_is_shipped_and_its_examples_validate():
    documents = registry.schema_documents()
    assert {d["code"] for d in documents} >= REQUIRED_CODES
    for document in documents:
        validator = jsonschema_rs.validator_for(document["record_schema"], validate_formats=True)
        assert isinstance(validator, jsonschema_rs.Draft202012Validator)
        for example in document["examples"]:
            assert validator.is_valid(example), (document["code"], example)
        assert document["time_semantics"] in {"interval", "instant"}
        kinds = {"additive_count", "gauge", "sound_level", "ratio"}
        assert all(m["aggregation"] in kinds for m in document["measures"])
        assert {"accuracy", "completeness", "latency_seconds", "update_frequency"} <= set(document["quality"])
        assert "fiware_crowd_flow_observed" in document["mappings"] and "sensorthings" in document["mappings"]


def test_a_broken_example_fails_the_check():
    document = copy.deepcopy(registry.schema_documents()[0])
    document["examples"][0]["observed_from"] = "yesterday"
    with pytest.raises(registry.SchemaDocumentError, match="example 0 does not validate"):
        registry.check_document(document, "broken.json")


def test_the_crowd_flow_schema_is_a_superset_of_crowd_flow_observed():
    document = next(d for d in registry.schema_documents() if d["code"] == "crowd-flow")
    fiware = set(document["mappings"]["fiware_crowd_flow_observed"])
    assert {"peopleCount", "averageCrowdSpeed", "averageHeadwayTime", "congested", "direction", "occupancy",
            "dateObservedFrom", "dateObservedTo"} <= fiware  # fmt: skip


@pytest.mark.django_db
def test_a_published_version_never_changes(tmp_path):
    folder = tmp_path / "schemas"
    shutil.copytree(registry.SCHEMA_DIR, folder)
    assert registry.schemas_load(folder=folder) == 0  # all published at migrate
    path = folder / "crowd-count-line-1.0.0.json"
    document = json.loads(path.read_text())
    document["description"] += " Changed."
    path.write_text(json.dumps(document))
    with pytest.raises(registry.SchemaDocumentError, match="may not change"):
        registry.schemas_load(folder=folder)
    document["version"] = "1.1.0"
    path.unlink()
    (folder / "crowd-count-line-1.1.0.json").write_text(json.dumps(document))
    assert registry.schemas_load(folder=folder) == 1
    assert SchemaVersion.objects.filter(schema__code="crowd-count-line").count() == 2


@pytest.mark.django_db
@pytest.mark.smoke
def test_the_schema_endpoints_answer_without_login(api_client):
    listing = api_client.get("/api/v1/schemas/").json()
    assert {s["code"] for s in listing["results"]} >= REQUIRED_CODES
    detail = api_client.get("/api/v1/schemas/crowd-count-line/").json()
    assert detail["latest"]["version"] == "1.0.0"
    assert [v["version"] for v in detail["versions"]] == ["1.0.0"]
    version = api_client.get("/api/v1/schemas/crowd-count-line/versions/1.0.0/")
    assert version.status_code == 200
    assert version.json()["measures"][0]["name"] == "count_in"
    raw = api_client.get("/api/v1/schemas/crowd-count-line/versions/1.0.0/json-schema")
    assert raw.status_code == 200
    assert raw["Content-Type"] == "application/schema+json"
    assert raw.json()["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert api_client.get("/api/v1/schemas/crowd-count-line/versions/9.9.9/").status_code == 404


def test_docs_schemas_md_is_generated_from_the_registry():
    committed = (PROJECT / "docs" / "schemas.md").read_text()
    assert committed == render(registry.schema_documents()), "run `manage.py schemas_doc` and commit docs/schemas.md"


@pytest.mark.django_db
def test_load_schemas_command_reports(capsys):
    out = StringIO()
    call_command("load_schemas", stdout=out)
    assert "0 schema version(s) published" in out.getvalue()
