"""The full-text, geographic and trigram indexes of each database (see search.backends)."""

from typing import Any

from django.db import migrations


def create(apps: Any, schema_editor: Any) -> None:
    from agora.search.backends import backend_for

    backend = backend_for(schema_editor.connection.alias)
    for statement in backend.CREATE:
        schema_editor.execute(statement)


def drop(apps: Any, schema_editor: Any) -> None:
    from agora.search.backends import backend_for

    backend = backend_for(schema_editor.connection.alias)
    for statement in backend.DROP:
        schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("search", "0001_initial")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
