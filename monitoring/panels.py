"""The voucher page's monitoring panel (settings.VOUCHER_PAGE_PANELS): the
active alerts on the voucher, the high-severity ones first and in red, shown
to the control officer and the approver above their decision."""

from django.http import HttpRequest
from django.template.loader import render_to_string

from monitoring import selectors


def voucher_alerts(request: HttpRequest, voucher: object) -> str:
    alerts = selectors.voucher_alerts(request.user, voucher.pk)
    if not alerts:
        return ""
    rows = [
        {"alert": a, "rule": selectors.rule_name(a.rule), "sentence": selectors.evidence_sentence(a)} for a in alerts
    ]
    high = any(a.severity == "high" for a in alerts)
    return render_to_string("monitoring/_voucher_panel.html", {"rows": rows, "high": high}, request=request)
