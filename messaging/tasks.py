"""Celery tasks for messaging: thin, they take IDs and call a service.

All tasks are acks_late with reject_on_worker_lost (settings): a task whose worker was killed runs
again, and the services make that harmless (conditional claims, idempotency keys).
"""

from celery import shared_task

from messaging import services


@shared_task(bind=True, max_retries=None, acks_late=True)
def message_deliver_task(self, message_id: int):
    countdown = services.message_deliver(message_id)
    if countdown is not None:
        raise self.retry(countdown=countdown)


@shared_task(bind=True, max_retries=None, acks_late=True)
def broadcast_run_task(self, broadcast_id: int):
    # One chunk per run, then the next chunk goes to the back of the queue, so a large broadcast
    # never blocks a worker and a cancel takes effect between chunks.
    if services.broadcast_run_chunk(broadcast_id):
        broadcast_run_task.delay(broadcast_id)


@shared_task
def template_sync_all_task():
    return services.template_sync_all()


@shared_task
def message_reconcile_task():
    return services.message_reconcile()
