"""Set-based writes whose cost stays one statement however many rows change."""

from __future__ import annotations

from django.db import connection


def bulk_update_rows(model, objects: list, fields: list[str]) -> int:
    """Write ``fields`` of each object in one UPDATE.

    On PostgreSQL: ``UPDATE … FROM unnest(array, array, …)``, one array parameter per column, so the
    statement's size and the database's work grow linearly with the rows. (Django's ``bulk_update``
    writes a CASE with one branch per row for every field, which PostgreSQL evaluates row by row:
    quadratic, 23 s for 5,000 rows where this takes a fraction of a second.) Elsewhere (the SQLite
    demo) it falls back to ``bulk_update``.
    """
    if not objects:
        return 0
    if connection.vendor != "postgresql":
        return model.objects.bulk_update(objects, fields)
    meta = model._meta
    pk = meta.pk
    columns = [meta.get_field(name) for name in fields]
    arrays = [[pk.get_db_prep_value(obj.pk, connection) for obj in objects]]
    for field in columns:
        arrays.append([field.get_db_prep_value(getattr(obj, field.attname), connection) for obj in objects])
    quote = connection.ops.quote_name
    aliases = ["pk"] + [f"c{index}" for index in range(len(columns))]
    unnest = ", ".join(f"%s::{field.db_type(connection)}[]" for field in [pk, *columns])
    assignments = ", ".join(f"{quote(field.column)} = v.{alias}" for field, alias in zip(columns, aliases[1:]))
    sql = (
        f"UPDATE {quote(meta.db_table)} AS t SET {assignments} "
        f"FROM unnest({unnest}) AS v({', '.join(aliases)}) WHERE t.{quote(pk.column)} = v.pk"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, arrays)
        return cursor.rowcount
