"""Writes for the diagnostics app."""

from diagnostics.models import GraphErrorEvent


def graph_error_record(error, context: dict | None = None) -> GraphErrorEvent:
    """Store one Graph API error. `context` holds IDs (phone number, message, contact), never secrets."""
    return GraphErrorEvent.objects.create(
        http_status=error.status,
        code=error.code,
        subcode=error.subcode,
        type=error.type,
        message=error.message[:2000],
        fbtrace_id=error.fbtrace_id,
        method=error.method,
        endpoint=error.endpoint[:255],
        body=error.as_body(),
        context=context or {},
    )
