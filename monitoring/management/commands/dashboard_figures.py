"""Fill the leader dashboard's per-day figures (monitoring.daily): at
installation over existing vouchers, or after restoring a backup. The minute
task's cursor is set to the newest event first, so what happens during the run
is refreshed by the task after it.

    python manage.py dashboard_figures            # the whole history
    python manage.py dashboard_figures --days 35  # the last 35 days (what the nightly task does)
"""

import time

from django.core.management.base import BaseCommand

from monitoring.daily import cursor_start_now, daily_figures_recompute


class Command(BaseCommand):
    help = "Recompute the leader dashboard's per-office, per-day figures."

    def add_arguments(self, parser) -> None:  # noqa: ANN001
        parser.add_argument("--days", type=int, default=None, help="only the last N days (default: everything)")

    def handle(self, *args, **options) -> None:  # noqa: ANN002, ANN003
        t = time.perf_counter()
        cursor_start_now()
        days = daily_figures_recompute(options["days"])
        self.stdout.write(f"{days} days recomputed in {time.perf_counter() - t:.1f} s")
