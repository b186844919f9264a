"""Celery tasks of the integrations app (beat: settings.CELERY_BEAT_SCHEDULE).
Thin and safe to run twice: the cursors and unique rows make a second
collection a no-op, and a delivery is claimed before it is sent."""

from celery import shared_task


@shared_task(name="integrations.tasks.collect_webhook_events")
def collect_webhook_events() -> int:
    """Every 10 s: the lower apps' new event rows → webhook events and deliveries."""
    from integrations.services import events_collect

    return events_collect()


@shared_task(name="integrations.tasks.deliver_webhooks")
def deliver_webhooks() -> int:
    """Every 10 s: send the due deliveries (first attempts and retries)."""
    from integrations.services import deliveries_deliver

    return deliveries_deliver()


@shared_task(name="integrations.tasks.deliver_webhook")
def deliver_webhook(delivery_id: int) -> str:
    """One delivery now, if due: run twice, it is sent once."""
    from integrations.services import delivery_deliver_one

    return "skipped" if delivery_deliver_one(delivery_id=delivery_id) is None else "attempted"
