"""Migration operations shared by the apps."""

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db.migrations.operations import AddIndex

__all__ = ["AddIndexOnline"]


class AddIndexOnline(AddIndexConcurrently):
    """Add an index without blocking writes on PostgreSQL (`CREATE INDEX CONCURRENTLY`: the
    audit and check-in tables take a write on every volunteer action, and a plain build of an
    index on millions of rows would stop them all for its whole duration); elsewhere (SQLite)
    a plain AddIndex. The migration must be non-atomic (`atomic = False`)."""

    def _postgres(self, schema_editor) -> bool:
        return schema_editor.connection.vendor == "postgresql"

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if self._postgres(schema_editor):
            return super().database_forwards(app_label, schema_editor, from_state, to_state)
        return AddIndex.database_forwards(self, app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if self._postgres(schema_editor):
            return super().database_backwards(app_label, schema_editor, from_state, to_state)
        return AddIndex.database_backwards(self, app_label, schema_editor, from_state, to_state)
