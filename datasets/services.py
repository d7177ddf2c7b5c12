"""Writes for datasets: registering and describing them, and ingesting records in batches."""

import hashlib
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from rest_framework import status
from rest_framework.exceptions import APIException

from accounts.models import Organisation, Role
from accounts.selectors import Caller
from api.problems import Conflict, Forbidden, ItemsRejected, errors_listed
from datasets import partitions, records, selectors, storage
from datasets.models import Dataset, DatasetStatus, IdempotencyKey, IngestBatch, SchemaVersion
from sensors.models import SensorStatus

DESCRIBING_ROLES = {Role.ADMIN, Role.DATA_STEWARD}
INGEST_ROLES = {Role.ADMIN, Role.DATA_STEWARD, Role.INTEGRATOR}
OPERATOR_INGEST_ROLES = {Role.ADMIN, Role.INTEGRATOR}


class BodyProblem(APIException):
    def __init__(self, error: records.BodyError):
        super().__init__(str(error), error.code)
        self.status_code = error.status
        # Every refusal points somewhere: the field, or "" (RFC 6901: the whole body) when the body as a whole is
        # unreadable (not JSON, not UTF-8, empty).
        problem = {"pointer": error.pointer or "", "detail": str(error), "code": error.code}
        if error.line is not None:
            problem["line"] = error.line
        self.problem_extra = {"errors": [problem]}


def _check_sensors(owner: Organisation, sensors, schema_version: SchemaVersion) -> None:
    if schema_version.subject == SchemaVersion.Subject.EVENT and sensors:
        raise ValidationError({"sensors": "An event calendar is not fed by sensors."})
    for sensor in sensors:
        # A suspended or removed sensor may still feed a dataset: its records are checked against its
        # service life. A proposed one has none yet.
        if sensor.status == SensorStatus.PROPOSED:
            raise ValidationError(
                {"sensors": f"Sensor {sensor.pk} ({sensor.reference}) is proposed: its controller confirms it first."}
            )
        if owner.pk not in (sensor.controller_id, sensor.operator_id):
            raise ValidationError(
                {"sensors": f"Sensor {sensor.pk} is neither controlled nor operated by {owner.name}."}
            )


def _check_areas(owner: Organisation, areas) -> None:
    # A dataset publishes its areas' outline (spatial_coverage): only the owner's own. The API lets a caller
    # name its own organisations' areas only, so this names nothing the caller cannot see.
    if any(area.owner_id != owner.pk for area in areas):
        raise ValidationError({"areas": f"A dataset's areas are its owner's: name areas of {owner.name}."})


def _check_collection_purposes(dataset: Dataset, owner: Organisation, purposes) -> None:
    """Collection purposes are the owner's own, and fixed once data was collected for them: adding one
    later would re-purpose data already held, which only a grant with an assessment may do."""
    for purpose in purposes:
        if purpose.holder_id != owner.pk:
            raise ValidationError(
                {"collection_purposes": f"Purpose {purpose.code} is not held by {owner.name}: data collected for "
                 "another organisation's purpose is shared with it by a grant."}
            )  # fmt: skip
    if dataset.pk is None:
        return
    added = {purpose.pk for purpose in purposes} - set(dataset.collection_purposes.values_list("pk", flat=True))
    if added and selectors.dataset_holds_records(dataset):
        raise Conflict(
            "The dataset holds records collected for its present purposes: adding a purpose now is re-purposing. "
            "Grant the dataset to that purpose, with a compatibility assessment, instead.",
            "collection_purposes_fixed",
            pointer="/collection_purposes",
        )


@transaction.atomic
def dataset_register(
    *,
    caller: Caller,
    owner: Organisation,
    schema_version: SchemaVersion,
    sensors=(),
    areas=(),
    collection_purposes=(),
    **fields,
):
    if not caller.has_role(DESCRIBING_ROLES, organisation_id=owner.pk):
        raise Forbidden("Only a data steward or admin of the owner registers its datasets.", "not_the_owner")
    _check_sensors(owner, sensors, schema_version)
    _check_areas(owner, areas)
    dataset = Dataset(owner=owner, schema_version=schema_version, **fields)
    _check_collection_purposes(dataset, owner, collection_purposes)
    if not dataset.publisher:
        dataset.publisher = owner.name
    dataset.full_clean(exclude=["owner", "schema_version"])
    dataset.save()
    dataset.sensors.set(sensors)
    dataset.areas.set(areas)
    dataset.collection_purposes.set(collection_purposes)
    return dataset


@transaction.atomic
def dataset_update(
    *, caller: Caller, dataset: Dataset, sensors=None, areas=None, collection_purposes=None, **changes
) -> Dataset:
    if not caller.has_role(DESCRIBING_ROLES, organisation_id=dataset.owner_id):
        raise Forbidden("Only a data steward or admin of the owner changes its datasets.", "not_the_owner")
    if collection_purposes is not None:
        _check_collection_purposes(dataset, dataset.owner, collection_purposes)
    if "schema_version" in changes and changes["schema_version"] != dataset.schema_version:
        if selectors.dataset_holds_records(dataset):
            raise Conflict("The dataset holds records of its schema version; register a new dataset.", "schema_pinned")
    for name, value in changes.items():
        setattr(dataset, name, value)
    dataset.full_clean(exclude=["owner", "schema_version"])
    dataset.save()
    if sensors is not None:
        _check_sensors(dataset.owner, sensors, dataset.schema_version)
        dataset.sensors.set(sensors)
    if areas is not None:
        _check_areas(dataset.owner, areas)
        dataset.areas.set(areas)
    if collection_purposes is not None:
        dataset.collection_purposes.set(collection_purposes)
    return dataset


@transaction.atomic
def dataset_delete(*, caller: Caller, dataset: Dataset) -> None:
    if not caller.has_role(DESCRIBING_ROLES, organisation_id=dataset.owner_id):
        raise Forbidden("Only the owner deletes a dataset.", "not_the_owner")
    if selectors.dataset_holds_records(dataset):
        raise Conflict("The dataset holds records: retire it instead.", "dataset_has_records")
    if dataset.grants.exists():
        raise Conflict(
            "The dataset has grants (revoked ones too, kept as history): retire it instead.", "dataset_has_grants"
        )
    dataset.delete()


def ingest_operator_scope(caller: Caller, dataset: Dataset) -> set[int] | None:
    """None: the caller may push for every feeding sensor (the owner); else the operators it acts for."""
    if caller.has_role(INGEST_ROLES, organisation_id=dataset.owner_id):
        return None
    operators = set(caller.organisations_with(OPERATOR_INGEST_ROLES))
    feeding = set(dataset.sensors.values_list("operator_id", flat=True))
    if not operators & feeding:
        raise Forbidden(
            "Only the owner, or an integrator of an operator of a feeding sensor, sends records.", "not_allowed"
        )
    return operators & feeding


@dataclass
class IngestAnswer:
    status: int
    body: dict
    replayed: bool = False


class _Rejected(Exception):
    def __init__(self, prepared: records.Prepared):
        self.prepared = prepared


def _request_sha256(body: bytes, content_type: str, partial: bool) -> str:
    digest = hashlib.sha256()
    digest.update(f"{content_type.split(';')[0].strip().lower()}|{partial}|".encode())
    digest.update(body)
    return digest.hexdigest()


def ingest_acting_for(caller: Caller, dataset: Dataset, operator_ids: set[int] | None) -> int | None:
    """The organisation a batch is sent for: the owner when the caller may ingest for it, else the one
    operator it acts for (the lowest id when it acts for several operators of this dataset's sensors)."""
    if operator_ids is None:
        return dataset.owner_id
    return min(operator_ids) if operator_ids else None


def _batch(caller: Caller, dataset: Dataset, acting_for: int | None, **fields) -> IngestBatch:
    return IngestBatch.objects.create(
        dataset=dataset,
        organisation_id=acting_for,
        user=caller.user if caller.api_key is None else None,
        api_key_prefix=caller.api_key.prefix if caller.api_key else "",
        **fields,
    )


def records_ingest(
    *,
    caller: Caller,
    dataset: Dataset,
    body: bytes,
    content_type: str,
    partial: bool = False,
    idempotency_key: str = "",
    parse=records.parse_body,
) -> IngestAnswer:
    """Validate and store a batch. Atomic unless `partial`; a retried Idempotency-Key replays the answer."""
    if dataset.status == DatasetStatus.RETIRED:
        raise Conflict("The dataset is retired and takes no more records.", "dataset_retired")
    operator_ids = ingest_operator_scope(caller, dataset)
    acting_for = ingest_acting_for(caller, dataset, operator_ids)
    request_sha = _request_sha256(body, content_type, partial)
    try:
        source_format, items, parse_problems = parse(body, content_type, dataset.schema_version)
    except records.BodyError as error:
        raise BodyProblem(error) from None

    try:
        with transaction.atomic():
            entry = None
            if idempotency_key:
                entry, created = IdempotencyKey.objects.get_or_create(
                    dataset=dataset,
                    organisation_id=acting_for,
                    key=idempotency_key,
                    defaults={"request_sha256": request_sha},
                )
                if not created:
                    if entry.request_sha256 != request_sha:
                        raise ItemsRejected(
                            "This Idempotency-Key was used for a different request; use a new key.",
                            [
                                {
                                    "pointer": "",
                                    "detail": "Idempotency-Key reused with another body.",
                                    "code": "idempotency_key_reused",
                                }
                            ],
                        )
                    return IngestAnswer(entry.response_status, entry.response_body, replayed=True)
            prepared = records.prepare(dataset=dataset, items=items, now=timezone.now(), operator_ids=operator_ids)
            prepared.problems = parse_problems + prepared.problems
            rejected = prepared.rejected_indexes
            if rejected and not partial:
                raise _Rejected(prepared)
            rows = [row for row in prepared.rows if row.index not in rejected]
            batch = _batch(
                caller,
                dataset,
                acting_for,
                source_format=source_format,
                status=IngestBatch.Status.PARTIAL if rejected else IngestBatch.Status.STORED,
                received=prepared.received,
                rejected=len(rejected),
                rejected_by_reason=prepared.rejected_by_reason,
                idempotency_key=idempotency_key,
            )
            stored = storage.store(dataset=dataset, rows=rows, batch_id=batch.pk)
            storage.coverage_extend(dataset.pk, rows)
            batch.created, batch.updated, batch.unchanged = stored.created, stored.updated, stored.unchanged
            # By the table's key, (dataset_id, id), not by id alone (docs/adr/0008: one shard under Citus).
            IngestBatch.objects.filter(dataset_id=dataset.pk, pk=batch.pk).update(
                created=batch.created, updated=batch.updated, unchanged=batch.unchanged
            )
            answer_body = {
                "batch": batch.pk,
                "received": prepared.received,
                "created": stored.created,
                "updated": stored.updated,
                "unchanged": stored.unchanged,
                "rejected": len(rejected),
            }
            if rejected:
                answer_body.update(errors_listed([p.as_error() for p in prepared.problems]))
            answer = IngestAnswer(status.HTTP_201_CREATED if stored.created else status.HTTP_200_OK, answer_body)
            if entry is not None:
                entry.response_status, entry.response_body = answer.status, answer.body
                # By the table's key, the natural one (docs/adr/0008), not by id.
                IdempotencyKey.objects.filter(dataset=dataset, organisation_id=acting_for, key=idempotency_key).update(
                    response_status=entry.response_status, response_body=entry.response_body
                )
            return answer
    except partitions.MonthsMissing as missing:
        # The batch reaches months without a partition: its transaction is rolled back (nothing of it is
        # kept); create them outside any transaction (docs/adr/0008: no deadlock with other batches) and
        # store the batch again. The retry ends: `missing.months` are only months ingest may create (near
        # now, at most 2), and each is then either made or given up for a while (busy default: its rows go
        # to the default partition), so the second attempt raises no MonthsMissing for them.
        partitions.months_create(missing.months)
        return records_ingest(
            caller=caller,
            dataset=dataset,
            body=body,
            content_type=content_type,
            partial=partial,
            idempotency_key=idempotency_key,
            parse=parse,
        )
    except _Rejected as rejected:
        prepared = rejected.prepared
        bad = len(prepared.rejected_indexes)
        batch = _batch(
            caller,
            dataset,
            acting_for,
            source_format=source_format,
            status=IngestBatch.Status.REJECTED,
            received=prepared.received,
            rejected=bad,
            rejected_by_reason=prepared.rejected_by_reason,
            idempotency_key=idempotency_key,
        )
        raise ItemsRejected(
            f"{bad} of {prepared.received} records are invalid; nothing was stored. "
            "Fix them, or send ?partial=true to store the valid ones.",
            [p.as_error() for p in prepared.problems],
            batch=batch.pk,
        ) from None
