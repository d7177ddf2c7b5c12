"""FIWARE Smart Data Models CrowdFlowObserved entities (key-values or NGSI-LD normalized) as records.

The entity's `id` is the sensor's reference (register the sensor with it), unless the request names
one sensor for every entity. Field names follow the crowd-flow schema's FIWARE mapping.
"""

from api.problems import ItemsRejected
from datasets import records
from datasets.models import SchemaVersion

MEDIA_TYPES = {"application/json", "application/ld+json"}

ENTITY_TYPE = "CrowdFlowObserved"
# Entity attributes that describe the entity, not the observation.
DESCRIPTIVE = {
    "id", "type", "@context", "location", "name", "description", "dataProvider", "source", "owner",
    "dateCreated", "dateModified", "refRoadSegment", "dateObserved", "dateObservedFrom", "dateObservedTo",
}  # fmt: skip


class FiwareError(ValueError):
    def __init__(self, index: int, attribute: str, detail: str):
        super().__init__(detail)
        self.index, self.attribute = index, attribute


def _value(attribute):
    """The plain value of a key-values attribute or an NGSI-LD Property/GeoProperty."""
    if isinstance(attribute, dict) and attribute.get("type") in {"Property", "GeoProperty"}:
        attribute = attribute.get("value")
    if isinstance(attribute, dict) and "@value" in attribute:
        attribute = attribute["@value"]
    return attribute


def entity_to_record(entity: dict, index: int, mapping: dict, sensor: str | None) -> dict:
    if not isinstance(entity, dict) or entity.get("type") != ENTITY_TYPE:
        raise FiwareError(index, "type", f"Not a {ENTITY_TYPE} entity.")
    start, end = _value(entity.get("dateObservedFrom")), _value(entity.get("dateObservedTo"))
    if (start is None or end is None) and isinstance(_value(entity.get("dateObserved")), str):
        interval = _value(entity["dateObserved"])
        if "/" in interval:
            start, end = interval.split("/", 1)
    if not start or not end:
        raise FiwareError(index, "dateObservedFrom", "Needs dateObservedFrom and dateObservedTo (or an interval).")
    record = {"sensor": sensor or entity.get("id", ""), "observed_from": start, "observed_to": end}
    for attribute, value in entity.items():
        if attribute in DESCRIPTIVE:
            continue
        target = mapping.get(attribute)
        if target is None:
            raise FiwareError(index, attribute, f"{attribute} has no place in this dataset's schema.")
        record[target] = _value(value)
    return record


def entities_to_records(document, schema_version: SchemaVersion, sensor: str | None = None) -> list[dict]:
    mapping = (schema_version.mappings or {}).get("fiware_crowd_flow_observed")
    if not mapping:
        raise FiwareError(0, "", f"Schema {schema_version} has no FIWARE CrowdFlowObserved mapping.")
    mapping = {k: v for k, v in mapping.items() if k not in DESCRIPTIVE}
    entities = document if isinstance(document, list) else [document]
    return [entity_to_record(entity, index, mapping, sensor) for index, entity in enumerate(entities)]


def parser(sensor: str | None = None):
    """A `parse` for services.records_ingest: entities in the body become records of the dataset's schema."""

    def parse(body: bytes, content_type: str, schema_version: SchemaVersion):
        media_type = (content_type or "").split(";")[0].strip().lower()
        if media_type not in MEDIA_TYPES:
            raise records.unsupported(media_type, sorted(MEDIA_TYPES))
        records.check_not_empty(body)
        document = records.json_document(body)
        if document == []:
            raise records.no_records("The list of entities is empty.")
        try:
            entities = entities_to_records(document, schema_version, sensor)
        except FiwareError as error:
            detail = str(error)
            pointer = f"/{error.index}/{error.attribute}"
            raise ItemsRejected(detail, [{"pointer": pointer, "detail": detail, "code": "fiware"}]) from None
        records.check_count(len(entities))
        return "fiware", [(None, entity) for entity in entities], []

    return parse
