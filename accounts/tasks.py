from celery import shared_task

from accounts import services


@shared_task
def purge_idempotency_keys() -> int:
    return services.idempotency_records_purge()
