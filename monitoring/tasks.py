"""Celery tasks of the monitoring app (beat: settings.CELERY_BEAT_SCHEDULE).
Thin and safe to run twice: the cursor and the one-alert-per-hit constraint
make a second run a no-op."""

from celery import shared_task


@shared_task(name="monitoring.tasks.evaluate_new_events")
def evaluate_new_events() -> int:
    """Every minute: the rules on the vouchers with events after the cursor."""
    from monitoring.services import evaluate_new_events as evaluate

    return evaluate()


@shared_task(name="monitoring.tasks.sweep_alerts")
def sweep_alerts() -> int:
    """Nightly: overdue and near-due vouchers, budget lines, the last two days again."""
    from monitoring.services import sweep

    return sweep()


@shared_task(name="monitoring.tasks.open_satisfaction_followups")
def open_satisfaction_followups() -> int:
    """Every minute: a follow-up for each new "dissatisfied" rating (one per rating)."""
    from monitoring.satisfaction.services import followups_open_new

    return followups_open_new()
