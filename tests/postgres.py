"""Tests that need PostgreSQL: threads or processes writing the same rows at once
(SQLite, make test's fallback without PostgreSQL, lets one writer in at a time
and answers the others "database is locked"). tests/run.sh says they were skipped."""

import pytest
from django.conf import settings

needs_postgres = pytest.mark.skipif(
    not settings.DATABASES["default"]["ENGINE"].endswith("postgresql"), reason="concurrent writers need PostgreSQL"
)
