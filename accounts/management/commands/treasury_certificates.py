from django.core.management.base import BaseCommand

from accounts import pki
from accounts.models import Organisation, OrgKind


class Command(BaseCommand):
    help = (
        "Create the treasury's root CA (if missing) and a signing key and X.509 certificate for every treasury "
        "office that has none, under TREASURY_PKI_DIR (docs/signing.md)."
    )

    def add_arguments(self, parser) -> None:  # noqa: ANN001
        parser.add_argument("--renew", action="store_true", help="Issue a new key and certificate for every office.")
        parser.add_argument("--office", action="append", default=[], help="Only this office code (repeatable).")

    def handle(self, *args, renew: bool = False, office: list[str] | None = None, **options) -> None:  # noqa: ANN002, ANN003
        if pki.ensure_root():
            self.stdout.write(f"Root CA created: {pki.root_cert_path()}")
        offices = Organisation.objects.filter(kind=OrgKind.TREASURY_OFFICE).order_by("path")
        if office:
            offices = offices.filter(code__in=office)
        issued = 0
        for org in offices:
            if pki.ensure_office(org.code, org.name, renew=renew):
                issued += 1
                self.stdout.write(f"  {org.code:<6} {org.name}: {pki.office_paths(org.code)[0]}")
        self.stdout.write(self.style.SUCCESS(
            f"Treasury certificates: {issued} issued, {offices.count() - issued} already present ({pki.pki_dir()})."
        ))
