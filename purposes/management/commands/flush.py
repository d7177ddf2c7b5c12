"""Django's `flush`, which also empties the append-only access log: it lifts the log's triggers for the
flush and puts them back. Emptying the database needs the table owner's rights, which the app's role in
production does not have (docs/purpose-binding.md, "Production grants"). The test suite flushes with it."""

from django.core.management.commands import flush
from django.db import connections

from purposes import triggers


class Command(flush.Command):
    help = flush.Command.help + " The access log's append-only triggers are lifted for the flush and restored."

    def handle(self, **options):
        connection = connections[options["database"]]
        triggers.execute(connection, triggers.drop_sql(connection.vendor))
        try:
            return super().handle(**options)
        finally:
            triggers.execute(connection, triggers.create_sql(connection.vendor))
