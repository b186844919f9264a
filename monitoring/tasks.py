"""Celery tasks of the monitoring app (beat: settings.CELERY_BEAT_SCHEDULE).
Thin and safe to run twice: the cursor and the one-alert-per-hit constraint
make a second run a no-op."""

from celery import shared_task


@shared_task(name="monitoring.tasks.evaluate_new_events")
def evaluate_new_events() -> int:
    """Every minute: the rules on the vouchers with events after the cursor."""
    from django.utils import timezone

    from monitoring.rule_checks import sweep_more
    from monitoring.services import enabled_rules
    from monitoring.services import evaluate_new_events as evaluate

    evaluated = evaluate()
    sweep_more(enabled_rules(), timezone.now(), nightly=False)  # autopay's held amounts
    return evaluated


@shared_task(name="monitoring.tasks.sweep_alerts")
def sweep_alerts() -> int:
    """Nightly: overdue and near-due vouchers, budget lines, the last two days again."""
    from monitoring.services import sweep

    return sweep()


@shared_task(name="monitoring.reports.tasks.generate_report")
def generate_report(export_id: int) -> str:
    """One report export (monitoring.reports.services.report_generate): safe to
    run twice (a finished export is left alone)."""
    from monitoring.reports.services import report_generate

    return report_generate(export_id)


@shared_task(name="monitoring.tasks.sweep_report_exports")
def sweep_report_exports() -> int:
    """Every 5 minutes: the exports still queued after a lost message, queued again."""
    from monitoring.reports.services import report_exports_sweep

    return report_exports_sweep()


@shared_task(name="monitoring.tasks.open_satisfaction_followups")
def open_satisfaction_followups() -> int:
    """Every minute: a follow-up for each new "dissatisfied" rating (one per rating)."""
    from monitoring.satisfaction.services import followups_open_new

    return followups_open_new()


@shared_task(name="monitoring.tasks.refresh_dashboard_figures")
def refresh_dashboard_figures() -> int:
    """Every minute: the dashboard's per-day figures of the days touched by new voucher events."""
    from monitoring.daily import daily_figures_refresh_new_events

    return daily_figures_refresh_new_events()


@shared_task(name="monitoring.tasks.recompute_dashboard_figures")
def recompute_dashboard_figures() -> int:
    """Nightly: the dashboard's per-day figures of the last 35 days recomputed."""
    from monitoring.daily import daily_figures_recompute

    return daily_figures_recompute()
