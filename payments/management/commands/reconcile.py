"""`python manage.py reconcile`: check every invariant of the money and exit
non-zero with a report on any mismatch (payments/selectors/reconcile.py)."""

from django.core.management.base import BaseCommand, CommandError

from payments.selectors.reconcile import reconcile


class Command(BaseCommand):
    help = "Check the ledger, the budget counters and the payments against each other."

    def handle(self, *args, **options) -> None:  # noqa: ANN002, ANN003
        report = reconcile()
        for name, value in report.facts.items():
            self.stdout.write(f"{name:>16}: {value}")
        if report.ok:
            self.stdout.write(self.style.SUCCESS("Reconciled: every invariant holds."))
            return
        self.stdout.write(self.style.ERROR(f"{len(report.problems)} mismatch(es):"))
        for problem in report.problems:
            self.stdout.write(f"  - {problem}")
        raise CommandError("reconciliation failed", returncode=1)
