"""Celery tasks of the public API (thin: they call a service)."""

from celery import shared_task

from messaging.api import services


@shared_task
def idempotency_purge_task():
    """Free the space of Idempotency-Key records past their 24 h (beat: hourly)."""
    return services.idempotency_purge()
