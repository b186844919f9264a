"""The reports read from a real second PostgreSQL database when a replica is
configured (treasury_portal/db_router.py), and write nowhere but the primary.

The test makes the second database on the same server (the test database's
schema through pg_dump, then the rows the report reads copied into it), makes
it differ from the primary, and checks which one the report shows."""

import shutil
import subprocess
from copy import deepcopy

import pytest
from django.conf import settings
from django.db import connection, connections
from django.db.utils import load_backend
from django.test import override_settings

from accounts.models import Organisation
from monitoring.reports import selectors, services
from monitoring.reports.models import ReportExport
from payments.models import BudgetLine, BudgetMovement
from treasury_portal import db_router

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(shutil.which("pg_dump") is None or shutil.which("psql") is None,
                       reason="the PostgreSQL client programs are not installed"),
]
REPLICA = db_router.REPLICA


def _psql_args(cfg: dict) -> tuple[list[str], dict]:
    args = ["-h", cfg.get("HOST") or "127.0.0.1", "-p", str(cfg.get("PORT") or 5432), "-U", cfg.get("USER") or
            "postgres"]
    env = {"PGPASSWORD": cfg.get("PASSWORD") or "", "PATH": "/usr/bin:/bin"}
    return args, env


def _admin(args: list[str], env: dict, sql: str) -> None:
    # CREATE/DROP DATABASE cannot run in the test's transaction: a connection of its own.
    subprocess.run(["psql", *args, "-q", "-v", "ON_ERROR_STOP=1", "-d", "postgres", "-c", sql], env=env,  # noqa: S603, S607
                   capture_output=True, check=True, timeout=60)


@pytest.fixture
def replica(world):  # noqa: ANN001, ANN201
    if connection.vendor != "postgresql":
        pytest.skip("the replica is a PostgreSQL feature")
    primary = connection.settings_dict
    name = f"{primary['NAME']}_replica"
    args, env = _psql_args(primary)
    _admin(args, env, f'DROP DATABASE IF EXISTS "{name}"')
    _admin(args, env, f'CREATE DATABASE "{name}"')
    # The primary's schema (committed by the migrations), as a streaming replica would have it.
    schema = subprocess.run(  # noqa: S603
        ["pg_dump", *args, "--schema-only", "--no-owner", primary["NAME"]], env=env,  # noqa: S607
                            capture_output=True, check=True, timeout=120).stdout
    subprocess.run(["psql", *args, "-q", "-v", "ON_ERROR_STOP=1", name], input=schema, env=env,  # noqa: S603, S607
                   capture_output=True, check=True, timeout=120)
    cfg = deepcopy(primary)
    cfg["NAME"] = name
    # A connection made here, as the alias of settings.DATABASES would be (the
    # test keeps the primary's connections to itself).
    connections[REPLICA] = load_backend(cfg["ENGINE"]).DatabaseWrapper(cfg, REPLICA)
    try:
        with override_settings(REPORTS_DATABASE=REPLICA):
            yield name
    finally:
        connections[REPLICA].close()
        del connections[REPLICA]
        _admin(args, env, f'DROP DATABASE IF EXISTS "{name}"')


def _copy_to_replica() -> None:
    """The rows a report reads, as the replica would have received them."""
    orgs = sorted(Organisation.objects.all(), key=lambda o: len(o.path))
    for org in orgs:
        Organisation.objects.using(REPLICA).bulk_create([org])
    BudgetLine.objects.using(REPLICA).bulk_create(list(BudgetLine.objects.all()))
    movements = list(BudgetMovement.objects.all())
    for m in movements:
        m.voucher_id = m.actor_id = None  # the vouchers and users are not needed by the report
    BudgetMovement.objects.using(REPLICA).bulk_create(movements)


def test_reports_read_the_replica_when_it_is_configured(world, kit, replica):
    officer = world.users["officer"]
    params = selectors.ReportParams.default()
    kit.paid(amount=2_000_000)
    _copy_to_replica()
    line = kit.line()
    # The replica is behind: it has not seen a later allocation on the primary.
    BudgetLine.objects.filter(pk=line.pk).update(allocated=line.allocated + 777)
    assert db_router.reporting_db() == REPLICA
    rows = {(r["unit"], r["ndkt"]): r for r in selectors.report_rows(officer, "expenditure", params)}
    assert rows[("1012345", "7000")]["allocated"] == line.allocated  # the replica's figure
    assert rows[("1012345", "7000")]["paid_period"] == 2_000_000
    on_primary = selectors.report_rows(officer, "expenditure", params, using="default")
    assert {(r["unit"], r["ndkt"]): r["allocated"] for r in on_primary}[("1012345", "7000")] == line.allocated + 777


def test_an_export_is_written_to_the_primary_and_its_figures_read_from_the_replica(world, kit, replica):
    _copy_to_replica()
    BudgetLine.objects.using(REPLICA).filter(unit=kit.unit, ndkt="7000").update(allocated=123_456_789)
    export = services.report_request(actor=world.users["officer"], kind="expenditure", fmt="csv",
                                     params=selectors.ReportParams.default())
    services.report_generate(export.pk)
    assert ReportExport.objects.using("default").filter(pk=export.pk, status="done").exists()
    assert not ReportExport.objects.using(REPLICA).exists()
    export.refresh_from_db()
    assert "123456789" in export.file.open("rb").read().decode("utf-8-sig")


def test_without_a_replica_everything_is_the_primary():
    assert REPLICA not in settings.DATABASES and settings.REPORTS_DATABASE == "default"
    assert db_router.reporting_db() == "default"
    router = db_router.ReplicaRouter()
    assert router.db_for_write(BudgetLine) == "default" and router.db_for_read(BudgetLine) is None
    assert router.allow_migrate(REPLICA, "payments") is False and router.allow_migrate("default", "payments") is True


def test_the_setting_adds_the_replica(monkeypatch):
    """DATABASE_REPLICA_URL adds the alias (settings/base.py), with the primary's connection options."""
    import importlib

    import treasury_portal.settings.base as base

    monkeypatch.setenv("DATABASE_REPLICA_URL", "postgres://reader@replica.example:5432/treasury")
    try:
        reloaded = importlib.reload(base)
        assert reloaded.DATABASES[REPLICA]["HOST"] == "replica.example"
        assert reloaded.DATABASES[REPLICA]["NAME"] == "treasury"
        assert reloaded.REPORTS_DATABASE == REPLICA
        assert reloaded.DATABASE_ROUTERS == ["treasury_portal.db_router.ReplicaRouter"]
    finally:
        monkeypatch.delenv("DATABASE_REPLICA_URL")
        importlib.reload(base)
