from celery import shared_task

from consent import services


@shared_task
def contact_import_task(job_id: int) -> None:
    services.contact_import_run(job_id)
