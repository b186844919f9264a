from django.core.management.base import BaseCommand

from autopay.services import DEFAULT_BATCH_SIZE, autopay_run


class Command(BaseCommand):
    help = (
        "One autopay run now (the same work the scheduled run does): pay the pending supplier invoices "
        "or list them as exceptions."
    )

    def add_arguments(self, parser) -> None:  # noqa: ANN001
        parser.add_argument("--batch-size", type=int, default=DEFAULT_BATCH_SIZE)

    def handle(self, *args, **options) -> None:  # noqa: ANN002, ANN003
        run = autopay_run(trigger="command", batch_size=options["batch_size"])
        amount = f"{run.paid_amount:,}".replace(",", ".")
        self.stdout.write(
            f"Autopay run {run.pk}: {run.processed} invoices processed, {run.paid} paid ({amount} đồng), "
            f"{run.excepted} exceptions."
        )
