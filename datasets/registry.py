"""The standard schemas shipped in datasets/schemas/: checked, loaded, and never changed once published.

A file holds one version. Loading creates versions that are missing and refuses a published version
whose content changed: a change is a new version (a new file).
"""

import hashlib
import json
from pathlib import Path

import jsonschema_rs
from django.db import transaction

SCHEMA_DIR = Path(__file__).parent / "schemas"
REQUIRED_KEYS = {
    "code",
    "version",
    "title",
    "description",
    "subject",
    "time_semantics",
    "measures",
    "quality",
    "privacy_class",
    "record_schema",
    "examples",
    "mappings",
}
COLUMNS = {"count_in", "count_out", "count", "gauge", None}


class SchemaDocumentError(ValueError):
    """A schema document that cannot be published as it is."""


def document_sha256(document: dict) -> str:
    return hashlib.sha256(json.dumps(document, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def check_document(document: dict, source: str = "") -> None:
    """Structure, a valid JSON Schema (draft 2020-12), measures mapped to known columns, examples valid."""
    missing = REQUIRED_KEYS - set(document)
    if missing:
        raise SchemaDocumentError(f"{source}: missing {', '.join(sorted(missing))}")
    try:
        validator = jsonschema_rs.validator_for(document["record_schema"], validate_formats=True)
    except Exception as error:  # the library raises its own error types for a broken schema
        raise SchemaDocumentError(f"{source}: record_schema is not a valid JSON Schema: {error}") from error
    if not isinstance(validator, jsonschema_rs.Draft202012Validator):
        raise SchemaDocumentError(f"{source}: record_schema must declare draft 2020-12")
    properties = document["record_schema"].get("properties", {})
    from datasets.rollups import KINDS

    for measure in document["measures"]:
        if measure.get("aggregation") not in KINDS:
            raise SchemaDocumentError(
                f"{source}: measure {measure['name']} has no known aggregation ({', '.join(sorted(KINDS))})"
            )
        if measure.get("column") not in COLUMNS:
            raise SchemaDocumentError(f"{source}: measure {measure['name']} maps to unknown column")
        if measure["name"] not in properties:
            raise SchemaDocumentError(f"{source}: measure {measure['name']} is not a property of the record")
    from datasets.models import MAX_COUNT

    for measure in document["measures"]:
        spec = properties[measure["name"]]
        if spec.get("type") == "integer" and not 0 <= spec.get("maximum", MAX_COUNT + 1) <= MAX_COUNT:
            # Plausible bounds are part of the contract, and the database holds the columns to MAX_COUNT.
            raise SchemaDocumentError(f"{source}: measure {measure['name']} needs a maximum of at most {MAX_COUNT}")
    if not document["examples"]:
        raise SchemaDocumentError(f"{source}: at least one example is needed")
    for index, example in enumerate(document["examples"]):
        errors = [f"{'/'.join(map(str, e.instance_path))}: {e.message}" for e in validator.iter_errors(example)]
        if errors:
            raise SchemaDocumentError(f"{source}: example {index} does not validate: {'; '.join(errors)}")


def schema_documents(folder: Path = SCHEMA_DIR) -> list[dict]:
    documents = []
    for path in sorted(folder.glob("*.json")):
        document = json.loads(path.read_text(encoding="utf-8"))
        check_document(document, path.name)
        if path.stem != f"{document['code']}-{document['version']}":
            raise SchemaDocumentError(
                f"{path.name}: the file must be named {document['code']}-{document['version']}.json"
            )
        documents.append(document)
    return documents


def schemas_load(*, using: str = "default", folder: Path = SCHEMA_DIR) -> int:
    """Publish the versions that are not in the database yet; returns how many were added."""
    from datasets.models import SchemaVersion, StandardSchema

    added = 0
    with transaction.atomic(using=using):
        for document in schema_documents(folder):
            sha = document_sha256(document)
            schema, _ = StandardSchema.objects.using(using).update_or_create(
                code=document["code"], defaults={"title": document["title"], "description": document["description"]}
            )
            existing = SchemaVersion.objects.using(using).filter(schema=schema, version=document["version"]).first()
            if existing is not None:
                if existing.content_sha256 != sha:
                    raise SchemaDocumentError(
                        f"{document['code']} {document['version']} is published and may not change: "
                        "publish the change as a new version."
                    )
                continue
            SchemaVersion.objects.using(using).create(
                schema=schema,
                version=document["version"],
                title=document["title"],
                description=document["description"],
                subject=document["subject"],
                time_semantics=document["time_semantics"],
                measures=document["measures"],
                derived_columns=document.get("derived_columns", {}),
                quality=document["quality"],
                privacy_class=document["privacy_class"],
                record_schema=document["record_schema"],
                examples=document["examples"],
                mappings=document["mappings"],
                content_sha256=sha,
            )
            added += 1
    return added
