"""Reads of budget lines, scoped to what the user may see."""

from django.db.models import QuerySet

from accounts.selectors import unit_scope_q
from payments.models import BudgetLine
from treasury_portal.errors import NotFound

WARN_PERCENT = 80


def budget_lines_visible(user, *, unit=None, fiscal_year: int | None = None) -> QuerySet[BudgetLine]:  # noqa: ANN001
    """Unit members see their units' lines; treasury staff those of their offices'
    units. `unit` is an Organisation, its id or its 7-digit code."""
    qs = BudgetLine.objects.filter(unit_scope_q(user)).select_related("unit")
    if unit is not None and unit != "":
        if hasattr(unit, "pk"):
            qs = qs.filter(unit_id=unit.pk)
        elif isinstance(unit, int):
            qs = qs.filter(unit_id=unit)
        else:
            qs = qs.filter(unit__code=str(unit))
    if fiscal_year:
        qs = qs.filter(fiscal_year=fiscal_year)
    return qs


def access_budget_line(user, pk: int) -> BudgetLine:  # noqa: ANN001
    line = budget_lines_visible(user).filter(pk=pk).first()
    if line is None:
        raise NotFound()
    return line


def budget_line_usage(line: BudgetLine) -> dict:
    """How much of the line is used (reserved + spent), for the usage bar:
    level "ok" below 80%, "warn" from 80%, "full" when nothing is available."""
    used = line.reserved + line.spent
    if line.allocated <= 0:
        percent = 100.0  # nothing allocated: nothing can be spent
    else:
        percent = round(used * 100 / line.allocated, 1)
    available = line.allocated - used
    if available <= 0:
        level = "full"
    elif percent >= WARN_PERCENT:
        level = "warn"
    else:
        level = "ok"
    return {"used": used, "available": available, "percent": percent, "level": level}


def budget_line_usage_after(line: BudgetLine, amount: int) -> dict:
    """The usage if `amount` more were reserved (the preflight's warning)."""
    used = line.reserved + line.spent + amount
    percent = 100.0 if line.allocated <= 0 else round(used * 100 / line.allocated, 1)
    available = line.allocated - used
    level = "full" if available < 0 else ("warn" if percent >= WARN_PERCENT else "ok")
    return {"used": used, "available": available, "percent": percent, "level": level, "fits": available >= 0}
