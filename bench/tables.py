"""Models found by their table, not their module: the benchmark writes and reads
tables by name (COPY, SQL), and the apps may move a model (autopay's models left
payments for their own app with the same tables) without the benchmark caring."""

from __future__ import annotations

from typing import Any


def model(table: str) -> Any:
    """The installed model whose table is `table`; LookupError if none."""
    from django.apps import apps

    for m in apps.get_models():
        if m._meta.db_table == table and not m._meta.proxy:
            return m
    raise LookupError(f"no model has the table {table}")


def missing(*tables: str) -> str | None:
    """Why a scenario cannot run: the first of `tables` no model has, or None."""
    for table in tables:
        try:
            model(table)
        except LookupError:
            return f"no model has the table {table} yet"
    return None


def task_missing(name: str) -> str | None:
    """None when a Celery task of that name is registered (whatever module defines it)."""
    from treasury_portal.celery import app

    app.loader.import_default_modules()
    return None if name in app.tasks else f"task {name} does not exist yet"


def columns(table_model: Any) -> set[str]:
    return {f.column for f in table_model._meta.concrete_fields}
