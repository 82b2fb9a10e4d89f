"""Reads for messaging."""

from __future__ import annotations

from django.db.models import Count, Exists, OuterRef, Q, QuerySet

from messaging.models import BlacklistEntry, Broadcast, BroadcastRecipient, Message, Template


def blacklist_contains(phone: str) -> bool:
    return BlacklistEntry.objects.filter(phone=phone).exists()


def blacklist_phones(phones) -> set[str]:
    """Which of these numbers are blacklisted (one query for a whole delivery group)."""
    return set(BlacklistEntry.objects.filter(phone__in=list(phones)).order_by().values_list("phone", flat=True))


def blacklist_search(q: str = ""):
    entries = BlacklistEntry.objects.select_related("added_by")
    q = (q or "").strip()
    if q:
        entries = entries.filter(Q(phone__icontains=q.replace(" ", "")) | Q(reason__icontains=q))
    return entries


def template_search(*, q="", status="", category="", language="", waba_id=""):
    templates = Template.objects.all()
    if q:
        templates = templates.filter(name__icontains=q)
    for field, value in (("status", status), ("category", category), ("language", language), ("waba_id", waba_id)):
        if value:
            templates = templates.filter(**{field: value})
    return templates


def templates_sendable(waba_id: str | None = None):
    templates = Template.objects.filter(status=Template.Status.APPROVED)
    return templates.filter(waba_id=waba_id) if waba_id else templates


def message_search(*, status="", error_code="", contact=None, q=""):
    messages = Message.objects.select_related("phone_number", "contact", "template")
    if contact is not None:
        messages = messages.filter(contact=contact)
    if status:
        messages = messages.filter(status=status)
    if str(error_code).strip().lstrip("-").isdigit():
        messages = messages.filter(error_code=int(error_code))
    if q:
        messages = messages.filter(to__icontains=q.strip())
    return messages


def message_error_codes():
    return list(Message.objects.exclude(error_code=None).order_by("error_code")
                .values_list("error_code", flat=True).distinct())


def broadcast_preview(contacts: QuerySet) -> dict:
    """What a broadcast to `contacts` would do, counted in one query (a segment can be millions of
    contacts): skipped as blacklisted first, then skipped for no consent, the rest sent. The same
    order as the send path; the 24-hour window is irrelevant, broadcasts send templates."""
    from consent.selectors import CAN_SEND

    listed = Exists(BlacklistEntry.objects.filter(phone=OuterRef("phone")))
    counts = contacts.order_by().aggregate(total=Count("id"), blacklisted=Count("id", filter=Q(listed)),
                                           send=Count("id", filter=~Q(listed) & CAN_SEND))
    return {**counts, "no_consent": counts["total"] - counts["blacklisted"] - counts["send"]}


def broadcast_progress(broadcast: Broadcast) -> dict:
    """Counts for the progress bar and the summary: recipients by outcome, messages by status,
    failures by error code."""
    outcomes = dict(broadcast.recipients.values_list("outcome").annotate(n=Count("id")))
    statuses = dict(broadcast.messages.values_list("status").annotate(n=Count("id")))
    skipped = dict(broadcast.recipients.filter(outcome=BroadcastRecipient.Outcome.SKIPPED)
                   .values_list("reason").annotate(n=Count("id")))
    by_code = list(broadcast.messages.filter(status=Message.Status.FAILED).values("error_code")
                   .annotate(n=Count("id")).order_by("-n"))
    pending = outcomes.get("pending", 0)
    in_flight = statuses.get("queued", 0) + statuses.get("sending", 0)
    done = broadcast.total - pending - in_flight
    return {
        "total": broadcast.total,
        "done": done,
        "percent": int(100 * done / broadcast.total) if broadcast.total else 100,
        "pending": pending,
        "skipped": sum(skipped.values()),
        "skipped_by_reason": skipped,
        "cancelled": outcomes.get("cancelled", 0) + statuses.get("cancelled", 0),
        "sent": sum(statuses.get(s, 0) for s in ("sent", "delivered", "read")),
        "failed": statuses.get("failed", 0),
        "unknown": statuses.get("unknown", 0),
        "in_flight": in_flight,
        "by_code": by_code,
        "finished": broadcast.status != Broadcast.Status.RUNNING and in_flight == 0,
    }
