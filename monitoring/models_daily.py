"""The leader dashboard's pre-aggregation (issue 12): per treasury office and
local day, the figures the dashboard sums over a period instead of reading a
province's year of vouchers at each request. Filled and refreshed by
monitoring.daily (the minute task over new voucher events, the nightly
recompute of recent days); read by monitoring.dashboard. Imported by
monitoring.models.

Days are local (Asia/Ho_Chi_Minh). "Received" columns count the vouchers
received that day (their state now), "closed" columns the vouchers paid or
refused that day. Processing times are kept as a histogram of working seconds
in buckets of BUCKET_SECONDS (DailyOfficeTiming), so a period's median and 90th
percentile come from summed buckets: each value is known to within half a
bucket (3 minutes), a percentile likewise."""

from django.conf import settings
from django.db import models

# Width of a processing-time bucket: 0.1 working hour, the dashboard's display precision.
BUCKET_SECONDS = 360


class DailyOfficeFigures(models.Model):
    office = models.ForeignKey("accounts.Organisation", on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    # Received that day, by their status now.
    received = models.IntegerField(default=0)
    st_submitted = models.IntegerField(default=0)
    st_in_control = models.IntegerField(default=0)
    st_returned = models.IntegerField(default=0)
    st_pending_approval = models.IntegerField(default=0)
    st_approved = models.IntegerField(default=0)
    st_paid = models.IntegerField(default=0)
    st_payment_failed = models.IntegerField(default=0)
    st_refused = models.IntegerField(default=0)
    st_withdrawn = models.IntegerField(default=0)
    returned = models.IntegerField(default=0, help_text="Returned at least once.")
    second_returns = models.IntegerField(default=0, help_text="Returned more than once (exceptions).")
    # Closed (paid or refused) that day, received at some time.
    closed = models.IntegerField(default=0)
    on_time = models.IntegerField(default=0, help_text="Closed by their due time.")
    late = models.IntegerField(default=0, help_text="Closed after their due time.")
    timed = models.IntegerField(default=0, help_text="Closed with a working-time measure (in the histogram).")
    working_seconds = models.FloatField(default=0, help_text="Sum of their working seconds (mean = sum / timed).")
    refreshed_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["office", "day"], name="daily_office_figures_one")]
        indexes = [models.Index(fields=["day"], name="daily_office_figures_day")]


class DailyOfficeTiming(models.Model):
    """How many vouchers closed that day took [bucket, bucket + 1) × BUCKET_SECONDS working seconds."""

    office = models.ForeignKey("accounts.Organisation", on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    bucket = models.IntegerField()
    count = models.IntegerField()
    refreshed_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["office", "day", "bucket"], name="daily_office_timing_one")]


class DailyOfficeReason(models.Model):
    """Deficiency codes (kind "deficiency": vouchers returned or refused) and
    refusal reasons (kind "refusal": refused vouchers) of the vouchers received that day."""

    office = models.ForeignKey("accounts.Organisation", on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    kind = models.CharField(max_length=20)
    code = models.CharField(max_length=60)
    count = models.IntegerField()
    refreshed_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["office", "day", "kind", "code"], name="daily_office_reason_one"),
        ]


class DailyOfficerFigures(models.Model):
    """Per control officer (none: not assigned): vouchers closed that day and
    those refused among them, and the vouchers received that day returned more than once."""

    office = models.ForeignKey("accounts.Organisation", on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    controller = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+",
    )
    closed = models.IntegerField(default=0)
    refused = models.IntegerField(default=0)
    second_returns = models.IntegerField(default=0)
    refreshed_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["office", "day", "controller"], name="daily_officer_figures_one",
                                    nulls_distinct=False),
        ]
