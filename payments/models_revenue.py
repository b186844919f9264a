"""State budget revenue collected by a treasury office, as the tax collection
system hands it to the treasury (issue 12: the leaders' revenue/expenditure
summary). One row per collection, classified with the codes of the budget
lines (payments.models.BudgetLine: chapter, economic-content code, budget
level) and kept in whole đồng. The sending system's reference is unique per
office: it is the idempotency key of the import (payments.services.revenue).
The row is its own event: it is written once and never updated. Imported by
payments.models."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from payments.models import BudgetLevel

# The largest amount of one row (as the other money rows: payments.services.budget.MAX_AMOUNT).
MAX_REVENUE_AMOUNT = 10**15


class RevenueSource(models.TextChoices):
    TAX = "tax", _("Thuế")
    FEE = "fee", _("Phí, lệ phí")
    LAND = "land", _("Thu từ đất, nhà")
    OTHER = "other", _("Thu khác")


class RevenueCollection(models.Model):
    office = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, related_name="+", verbose_name=_("kho bạc thu"),
        limit_choices_to={"kind": "treasury_office"},
    )
    collected_on = models.DateField(_("ngày thu"))
    budget_level = models.CharField(_("cấp ngân sách"), max_length=1, choices=BudgetLevel.choices)
    chapter = models.CharField(_("chương"), max_length=3)
    ndkt = models.CharField(_("nội dung kinh tế"), max_length=4)
    source = models.CharField(_("loại thu"), max_length=10, choices=RevenueSource.choices)
    amount = models.BigIntegerField(_("số tiền"))
    reference = models.CharField(_("số tham chiếu của hệ thống gửi"), max_length=64)
    payer_name = models.CharField(_("người nộp"), max_length=255, blank=True)
    created_at = models.DateTimeField(_("thời điểm nhận"), auto_now_add=True)
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        verbose_name=_("người nhập"),
    )

    class Meta:
        verbose_name = _("khoản thu ngân sách")
        verbose_name_plural = pgettext_lazy("plural", "khoản thu ngân sách")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["office", "reference"], name="revenue_collection_reference_unique"),
            models.CheckConstraint(
                condition=Q(amount__gt=0) & Q(amount__lte=MAX_REVENUE_AMOUNT),
                name="revenue_collection_amount_positive",
            ),
            models.CheckConstraint(
                condition=Q(chapter__regex=r"^[0-9]{3}$")
                & Q(ndkt__regex=r"^[0-9]{4}$")
                & Q(budget_level__in=["1", "2", "3", "4"])
                & Q(source__in=["tax", "fee", "land", "other"])
                & Q(reference__regex=r"^[0-9A-Za-z._/:-]{1,64}$"),
                name="revenue_collection_classification_format",
            ),
        ]
        indexes = [
            # The reports: an office's (and the offices below) collections of a period.
            models.Index(fields=["office", "collected_on"], name="revenue_by_office_day"),
            # The API's list, newest first by cursor.
            models.Index(fields=["office", "-created_at", "-id"], name="revenue_by_office_created"),
        ]

    def __str__(self) -> str:
        return f"{self.reference}: {self.chapter}.{self.ndkt}.{self.budget_level} {self.amount}"
