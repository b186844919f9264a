"""`python manage.py import_bank_status FILE...`: import banks' pain.002 status
reports (payments/services/bank_status.py). Safe to run twice on the same file."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from payments.services.bank_status import bank_status_report_import
from treasury_portal.errors import ApplicationError


class Command(BaseCommand):
    help = "Import bank status reports (ISO 20022 pain.002): reverse every rejected transfer once."

    def add_arguments(self, parser) -> None:  # noqa: ANN001
        parser.add_argument("files", nargs="+", type=Path)

    def handle(self, *args, **options) -> None:  # noqa: ANN002, ANN003
        failed = 0
        for path in options["files"]:
            try:
                result = bank_status_report_import(actor=None, content=path.read_bytes(), filename=path.name)
            except (OSError, ApplicationError) as exc:
                failed += 1
                self.stderr.write(f"{path}: {getattr(exc, 'message', exc)}")
                continue
            reversed_count = sum(1 for r in result.rejections if r.reversed)
            state = "imported" if result.created else "already imported"
            self.stdout.write(
                f"{path}: {state} {result.report.message_id} on {result.report.bank_file.message_id}: "
                f"{len(result.rejections)} rejected, {reversed_count} reversed"
            )
        if failed:
            raise CommandError(f"{failed} file(s) not imported", returncode=1)
