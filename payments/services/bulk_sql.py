"""Set-based inserts for the batch writers (autopay, the outbox): rows as
tuples, one INSERT per table. On PostgreSQL the VALUES list is rendered by
psycopg2 (`mogrify`) and sent through Django's cursor (so it is counted and
logged like any query); ids are taken from the table's sequence first, so
related rows can point at each other without a RETURNING round trip. ORM
bulk_create spends most of a batch's CPU preparing each field of each object:
at thousands of rows a second that is the difference (performance.md).
Elsewhere (SQLite in development) it falls back to bulk_create."""

from collections.abc import Sequence
from typing import Any

from django.db import connection, models


class _JSON:
    """A JSON value for a jsonb column."""

    def __init__(self, value: Any) -> None:
        self.value = value


def as_json(value: Any) -> _JSON:
    return _JSON(value)


def reserve_ids(model: type[models.Model], n: int) -> list[int] | None:
    """`n` fresh primary keys of the model's table (PostgreSQL), else None."""
    if n <= 0:
        return []
    if connection.vendor != "postgresql":
        return None
    table = model._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)", [table, n]
        )
        return [row[0] for row in cursor.fetchall()]


def insert_rows(model: type[models.Model], columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """INSERT the rows (tuples in `columns` order: database column names)."""
    if not rows:
        return
    if connection.vendor != "postgresql":
        objs = []
        for row in rows:
            values = {c: (v.value if isinstance(v, _JSON) else v) for c, v in zip(columns, row, strict=True)}
            objs.append(model(**{_attname(model, c): v for c, v in values.items()}))
        model.objects.bulk_create(objs)
        return
    template = "(" + ", ".join(["%s"] * len(columns)) + ")"
    with connection.cursor() as cursor:
        raw = cursor.cursor
        values = b",".join(raw.mogrify(template, sql_row(row)) for row in rows)
        table = connection.ops.quote_name(model._meta.db_table)
        cols = ", ".join(connection.ops.quote_name(c) for c in columns)
        cursor.execute(f"INSERT INTO {table} ({cols}) VALUES " + values.decode())  # noqa: S608 - rendered by psycopg2


def sql_row(row: Sequence[Any]) -> list[Any]:
    """A row's values as psycopg2 adapts them (PostgreSQL): `as_json` values as jsonb."""
    from psycopg2.extras import Json

    return [Json(v.value) if isinstance(v, _JSON) else v for v in row]


def _attname(model: type[models.Model], column: str) -> str:
    for f in model._meta.concrete_fields:
        if f.column == column:
            return f.attname
    return column
