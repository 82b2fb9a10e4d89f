from celery import shared_task

from consent import services


@shared_task(bind=True, max_retries=None)
def contact_import_task(self, job_id: int) -> None:
    try:
        services.contact_import_run(job_id)
    except services.ImportBusy as busy:
        # Redelivered while the job still shows progress: look again later; if the heartbeat has
        # stopped by then, this delivery takes the job over.
        raise self.retry(countdown=busy.retry_after) from None
