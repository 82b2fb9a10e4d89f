"""Celery tasks for messaging: thin, they take IDs and call a service.

All tasks are acks_late with reject_on_worker_lost (settings): a task whose worker was killed runs
again, and the services make that harmless (conditional claims, idempotency keys).
"""

from celery import shared_task
from django.db import DatabaseError
from redis.exceptions import RedisError

from messaging import services

# Infrastructure failures a delivery or a broadcast retries after (a bug is not retried forever).
OUTAGES = (DatabaseError, RedisError, OSError)


def _retry_after_outage(task, error):
    """The retry a task raises after an outage: the same arguments, backing off to 5 minutes."""
    return task.retry(exc=error, countdown=min(300, 2 ** task.request.retries))


@shared_task(bind=True, max_retries=None, acks_late=True)
def message_deliver_task(self, message_id: int):
    try:
        countdown = services.message_deliver(message_id)
    except OUTAGES as error:
        # Redis or the database failed before the POST: the message is back in `queued`, run again.
        raise _retry_after_outage(self, error)
    if countdown is not None:
        raise self.retry(countdown=countdown)


@shared_task(bind=True, max_retries=None, acks_late=True)
def message_deliver_batch_task(self, message_ids: list[int]):
    # Bulk sends (broadcasts): one task per batch, so Celery's cost is paid once per batch. What a
    # rate limit stopped comes back as the same task with only the ids still to send.
    try:
        later = services.message_deliver_many(message_ids)
    except OUTAGES as error:
        # Redis or the database failed mid-batch: the messages not yet claimed are still `queued` with
        # no other task to deliver them, so the whole batch runs again (the claimed ones are skipped).
        raise _retry_after_outage(self, error)
    if later is not None:
        raise self.retry(args=[later.message_ids], countdown=later.countdown)


@shared_task(bind=True, max_retries=None, acks_late=True)
def broadcast_run_task(self, broadcast_id: int):
    # One chunk per run, then the next chunk goes to the back of the queue, so a large broadcast
    # never blocks a worker and a cancel takes effect between chunks.
    try:
        more = services.broadcast_run_chunk(broadcast_id)
    except OUTAGES as error:
        # The database or Redis failed mid-chunk: its recipients are still pending (the chunk is one
        # transaction) and nothing else would ever run them. A chunk is safe to run again.
        raise _retry_after_outage(self, error)
    if more:
        broadcast_run_task.delay(broadcast_id)


@shared_task
def template_sync_all_task():
    return services.template_sync_all()


@shared_task
def message_reconcile_task():
    return {**services.message_reconcile(), "broadcasts_resumed": services.broadcast_resume_stalled()}
