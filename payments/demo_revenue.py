"""Demo state budget revenue (seed_demo runs it after payments.demo.seed): a
few collections for each demo office that serves units (0101, 0201), dated
this year, so the leaders' revenue/expenditure summary (monitoring/reports,
kind `revenue`) is not empty. Idempotent: one row per office and fixed
reference (the import's own idempotency key)."""

from datetime import date, timedelta

from django.db import transaction
from django.utils import timezone

from payments.models import RevenueCollection

# (days before today, budget level, chapter, economic-content code, kind, amount in đồng, payer)
ROWS = [
    (40, "1", "754", "1701", "tax", 850_000_000, "Công ty Cổ phần Vật liệu Xây dựng (demo)"),
    (35, "2", "754", "1052", "tax", 420_000_000, "Công ty TNHH Thương mại Dịch vụ (demo)"),
    (28, "2", "757", "1003", "tax", 95_000_000, ""),
    (21, "3", "757", "2632", "fee", 12_500_000, "Hộ kinh doanh (demo)"),
    (14, "4", "757", "1401", "land", 60_000_000, ""),
    (7, "2", "422", "4949", "other", 8_000_000, ""),
    (2, "2", "422", "2662", "fee", 3_500_000, ""),
]
OFFICES = {"0101": 1, "0201": 2}  # office → a multiplier, so the two offices differ


@transaction.atomic
def seed_revenue(world) -> None:  # noqa: ANN001 - accounts.demo.DemoWorld
    today = timezone.localdate()  # the portal's time zone (Asia/Ho_Chi_Minh)
    start = date(today.year, 1, 1)
    for code, factor in OFFICES.items():
        office = world.offices.get(code)
        if office is None:
            continue
        for number, (days, level, chapter, ndkt, source, amount, payer) in enumerate(ROWS, 1):
            RevenueCollection.objects.get_or_create(
                office=office, reference=f"DEMO-TCT-{code}-{number:03d}",
                defaults={
                    "collected_on": max(start, today - timedelta(days=days)), "budget_level": level,
                    "chapter": chapter, "ndkt": ndkt, "source": source, "amount": amount * factor,
                    "payer_name": payer,
                },
            )
