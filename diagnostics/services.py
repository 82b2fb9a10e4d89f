"""Writes for the diagnostics app: the error log, checklist runs, escalation bundles."""

from __future__ import annotations

from datetime import timedelta

import structlog
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from diagnostics import escalation
from diagnostics.checklist import CHECKS, FAIL, WARN, CheckContext, run_check
from diagnostics.models import ChecklistRun, EscalationBundle, GraphErrorEvent
from diagnostics.redaction import sanitize

log = structlog.get_logger(__name__)
PRUNE_BATCH = 5000


# --- Error log -------------------------------------------------------------------------------------
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
        context=sanitize(context or {}),
    )


def error_log_prune(now=None, days: int | None = None) -> int:
    """Delete errors older than the retention period, in batches (no long table lock)."""
    days = settings.ERROR_LOG_RETENTION_DAYS if days is None else days
    cutoff = (now or timezone.now()) - timedelta(days=days)
    deleted = 0
    while True:
        ids = list(GraphErrorEvent.objects.filter(occurred_at__lt=cutoff).values_list("pk", flat=True)[:PRUNE_BATCH])
        if not ids:
            break
        deleted += GraphErrorEvent.objects.filter(pk__in=ids).delete()[0]
    log.info("error_log_pruned", deleted=deleted, retention_days=days)
    return deleted


# --- Checklist runs ------------------------------------------------------------------------------------
def checklist_run_start(*, user, waba_id: str, phone_number_id: str, recipient: str = "", template_name: str = "",
                        template_language: str = "", text: str = "") -> ChecklistRun:
    return ChecklistRun.objects.create(
        created_by=user, waba_id=waba_id.strip(), phone_number_id=phone_number_id.strip(),
        recipient=recipient.strip(), template_name=template_name, template_language=template_language, text=text,
    )


def checklist_run_step(run_id: int, index: int) -> tuple[ChecklistRun, dict | None]:
    """Run the checklist up to item `index` (in order) and return the run and that item.

    The row lock makes a double-loaded step (two tabs, a retry) wait and then read the stored
    item instead of calling Meta twice.
    """
    with transaction.atomic():
        run = ChecklistRun.objects.select_for_update().get(pk=run_id)
        if index >= len(CHECKS):
            return run, None
        if index < len(run.items):
            return run, run.items[index]
        ctx = CheckContext(run)
        while len(run.items) <= index:
            check = CHECKS[len(run.items)]
            item = run_check(check, ctx)
            run.items = [*run.items, sanitize(item, ctx.secrets)]
        run.facts = sanitize(ctx.facts, ctx.secrets)
        if len(run.items) == len(CHECKS):
            _finish(run)
        run.save()
        return run, run.items[index]


def _finish(run: ChecklistRun) -> None:
    statuses = {i["status"] for i in run.items}
    run.result = FAIL if FAIL in statuses else WARN if WARN in statuses else ChecklistRun.Result.PASS
    run.status = ChecklistRun.Status.DONE
    run.finished_at = timezone.now()
    log.info("checklist_run_finished", run=run.pk, result=run.result,
             failed=[i["key"] for i in run.items if i["status"] == FAIL])


def checklist_run_all(run: ChecklistRun) -> ChecklistRun:
    run, _ = checklist_run_step(run.pk, len(CHECKS) - 1)
    return run


# --- Escalation bundles --------------------------------------------------------------------------------
def _waba_for(waba_id: str = "", phone_number_id: str = ""):
    from accounts.models import WABA, PhoneNumber

    if waba_id:
        waba = WABA.objects.select_related("app").filter(waba_id=waba_id).first()
        if waba:
            return waba
    number = PhoneNumber.objects.select_related("waba__app").filter(phone_number_id=phone_number_id).first() \
        if phone_number_id else None
    return number.waba if number else None


def _bundle_save(*, user, title: str, requests: list[dict], waba, phone_number_id: str, object_ids: set[str],
                 extra: dict, run=None, event=None, debug=None) -> EscalationBundle:
    if debug is None:
        debug = escalation.debug_token_sanitised(waba)
    debug_data, secrets, note = debug
    if waba is not None:
        object_ids = object_ids | {waba.waba_id, *waba.phone_numbers.values_list("phone_number_id", flat=True)}
    object_ids.discard("")
    criteria = escalation.evaluate_criteria(
        waba=waba, phone_number_id=phone_number_id, object_ids=object_ids, debug_data=debug_data, focus_event=event,
    )
    data = {
        "title": title,
        "generated_at": timezone.now().isoformat(timespec="seconds"),
        "generated_by": user.get_username() if user else "",
        "criteria": criteria,
        "verdict": escalation.verdict(criteria),
        "requests": requests,
        "debug_token": debug_data,
        "debug_token_note": note,
        **extra,
    }
    data = escalation.finalise(data, secrets)
    data["text"] = escalation.to_text(data)
    return EscalationBundle.objects.create(created_by=user, title=title[:255], data=data, run=run, event=event)


def bundle_build_for_event(event: GraphErrorEvent, user) -> EscalationBundle:
    ctx = event.context or {}
    waba = _waba_for(ctx.get("waba_id", ""), ctx.get("phone_number_id") or event.object_id)
    payload = ctx.get("payload")
    if payload is None and ctx.get("message_id"):
        payload = _message_payload(ctx["message_id"])
    request = {"method": event.method, "endpoint": event.endpoint, "error": event.body,
               "http_status": event.http_status, "fbtrace_id": event.fbtrace_id,
               "occurred_at": event.occurred_at.isoformat(timespec="seconds"),
               "payload": payload}
    if payload is None and event.method != "GET":
        request["payload_note"] = "The request body was not recorded with this error."
    sub = f"/{event.subcode}" if event.subcode is not None else ""
    return _bundle_save(
        user=user, title=f"Graph error {event.code}{sub} on {event.method} {event.endpoint}", requests=[request],
        waba=waba, phone_number_id=ctx.get("phone_number_id") or event.object_id, object_ids={event.object_id},
        extra={"context": ctx}, event=event,
    )


def _message_payload(message_id) -> dict | None:
    from messaging.models import Message

    message = Message.objects.filter(pk=message_id).first()
    return message.payload if message else None


def bundle_build_for_run(run: ChecklistRun, user) -> EscalationBundle:
    waba = _waba_for(run.waba_id, run.phone_number_id)
    requests = [{"method": e["method"], "endpoint": e["endpoint"], "error": e["body"], "payload": None,
                 "item": e["item"]} for e in run.facts.get("graph_errors", [])]
    # The message the run was checking: what would be sent, sanitised like the rest.
    requests.append({"method": "POST", "endpoint": f"/{settings.GRAPH_API_VERSION}/{run.phone_number_id}/messages",
                     "error": None, "payload": run.facts.get("payload"), "item": "the message being checked"})
    debug = run.facts.get("debug_token")
    fresh = escalation.debug_token_sanitised(waba)
    if debug is not None:  # the run's own answer is what the failure was judged on
        fresh = (debug, fresh[1], "")
    return _bundle_save(
        user=user, title=f"Checklist run #{run.pk} ({run.result or run.status}) for {run.phone_number_id}",
        requests=requests, waba=waba, phone_number_id=run.phone_number_id, object_ids={run.phone_number_id},
        extra={"checklist": [{"status": i["status"], "title": i["title"], "summary": i["summary"]} for i in run.items]},
        run=run, debug=fresh,
    )
