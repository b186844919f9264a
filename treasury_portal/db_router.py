"""Where the reports and dashboards read: a PostgreSQL replica when
DATABASE_REPLICA_URL is set (settings: DATABASES["replica"]), else the primary.

Only reads that may be a few seconds behind go there (monitoring.reports'
figures): they ask `reporting_db()` for their alias and pass it to `.using()`.
Everything else, every write and every permission check, stays on "default"
(ReplicaRouter sends nothing to the replica on its own and refuses migrations
there: the replica is a copy of the primary, migrated through it)."""

from django.conf import settings

REPLICA = "replica"


def reporting_db() -> str:
    """The alias the reports read from (settings.REPORTS_DATABASE: "replica"
    when DATABASE_REPLICA_URL is set)."""
    return getattr(settings, "REPORTS_DATABASE", "default")


class ReplicaRouter:
    def db_for_read(self, model: type, **hints: object) -> str | None:
        return None  # the primary, unless a query asks .using(reporting_db())

    def db_for_write(self, model: type, **hints: object) -> str | None:
        return "default"

    def allow_relation(self, obj1: object, obj2: object, **hints: object) -> bool | None:
        # The replica holds the same rows: an object read there relates to the primary's.
        return True

    def allow_migrate(self, db: str, app_label: str, model_name: str | None = None, **hints: object) -> bool | None:
        return db != REPLICA
