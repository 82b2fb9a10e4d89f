"""Beat tasks of the diagnostics app (thin: the work is in diagnostics.services)."""

from celery import shared_task

from diagnostics.services import error_log_prune


@shared_task(name="diagnostics.tasks.error_log_prune_task")
def error_log_prune_task() -> int:
    """Daily (schedule installed by migration 0003): drop errors past ERROR_LOG_RETENTION_DAYS."""
    return error_log_prune()
