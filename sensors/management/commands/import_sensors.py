"""`manage.py import_sensors FILE`: import sensors from CSV, as the API's import does."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from accounts.models import Organisation, Role
from accounts.selectors import Caller
from api.problems import ItemsRejected
from sensors import importers


class Command(BaseCommand):
    help = "Import sensors from a CSV file with a column mapping (atomic; re-imports update)."

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument("--mapping", default="platform", choices=list(importers.MAPPINGS))
        parser.add_argument("--controller", required=True, help="controller's slug")
        parser.add_argument("--operator", help="operator's slug (default: the controller)")
        parser.add_argument("--sensor-type", required=True, help="sensor type code for rows that name none")
        parser.add_argument("--personal-data-at-edge", action="store_true")
        parser.add_argument("--legal-basis", default="")
        parser.add_argument("--contact-email", default="")

    def handle(self, *args, file, mapping, controller, operator, sensor_type, **options):
        organisations = {o.slug: o for o in Organisation.objects.filter(slug__in=[controller, operator or controller])}
        if controller not in organisations or (operator or controller) not in organisations:
            raise CommandError("Unknown controller or operator slug.")
        controlling, operating = organisations[controller], organisations[operator or controller]
        # The shell acts with the controller's and the operator's authority: a server administrator runs this
        # (a controller alone only updates the sensors of another operator; new ones the operator registers).
        caller = Caller(roles={operating.pk: Role.DATA_STEWARD, controlling.pk: Role.DATA_STEWARD})
        try:
            result = importers.sensors_import(
                caller=caller,
                text=file.read_text(encoding="utf-8-sig"),
                mapping=mapping,
                controller=controlling,
                operator=operating,
                sensor_type=sensor_type,
                personal_data_at_edge=options["personal_data_at_edge"],
                legal_basis=options["legal_basis"],
                contact_email=options["contact_email"],
            )
        except ItemsRejected as rejected:
            lines = "\n".join(
                f"  line {e['line']}: {e['column'] or ''} {e['detail']}" for e in rejected.problem_extra["errors"]
            )
            raise CommandError(f"{rejected.detail}\n{lines}") from None
        self.stdout.write(
            f"{result.rows} rows: {result.created} created, {result.updated} updated, {result.unchanged} unchanged."
        )
        for note in result.notes:
            self.stdout.write(f"  line {note['line']} ({note['reference']}): {note['detail']}.")
