from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.utils.module_loading import import_string

# Each app seeds its own demo data from the organisations and users made first.
SEEDERS = [
    "vouchers.demo.seed", "payments.demo.seed", "autopay.demo.seed", "payments.demo_revenue.seed_revenue",
]


class Command(BaseCommand):
    help = "Create (or complete) the demo: offices, units, users in every role, suppliers, catalogue, budgets."

    def handle(self, *args, **options) -> None:  # noqa: ANN002, ANN003
        from accounts import demo

        world = demo.seed()
        for dotted in SEEDERS:
            try:
                seeder = import_string(dotted)
            except ImportError:
                continue  # that app has no demo data yet
            seeder(world)
        # Each treasury office signs its result PDFs with its own key (docs/signing.md).
        call_command("treasury_certificates", stdout=self.stdout)
        self.stdout.write(self.style.SUCCESS("Demo ready. Users (password: value of DEMO_PASSWORD):"))
        for username, user in world.users.items():
            roles = ", ".join(
                f"{m.role}@{m.organisation.code}" for m in user.memberships.select_related("organisation")
            )
            self.stdout.write(f"  {username:<12} {roles}")
        if settings.DEMO_PASSWORD == "demo-Password-2026":
            self.stdout.write("Password: demo-Password-2026")
