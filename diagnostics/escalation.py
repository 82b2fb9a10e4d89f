"""Escalation bundles: everything a Meta support ticket asks for, and whether to open one at all.

Meta asks for the full error JSON, the endpoint and method, a sanitised request payload and the
/debug_token output. The criteria come from the error reference; those wabadesk cannot judge from
its own records are reported as such rather than guessed.
"""

from __future__ import annotations

import json
from datetime import timedelta

from django.utils import timezone

from accounts.graph import GraphAPIError, GraphClient
from diagnostics.models import GraphErrorEvent
from diagnostics.redaction import sanitize

HOLDS, DOES_NOT_HOLD, CANNOT_EVALUATE, NOT_RELEVANT = "holds", "does_not_hold", "cannot_evaluate", "not_relevant"
CRITERION_LABELS = {HOLDS: "holds", DOES_NOT_HOLD: "does not hold",
                    CANNOT_EVALUATE: "cannot be evaluated automatically", NOT_RELEVANT: "not relevant"}


def _events_for(code: int, subcode, object_ids: set[str], since=None):
    qs = GraphErrorEvent.objects.filter(code=code)
    if subcode is not None:
        qs = qs.filter(subcode=subcode)
    if since is not None:
        qs = qs.filter(occurred_at__gte=since)
    return [e for e in qs.order_by("occurred_at") if e.object_id in object_ids
            or e.context.get("waba_id") in object_ids or e.context.get("phone_number_id") in object_ids]


def criterion(name: str, status: str, evidence: str) -> dict:
    return {"criterion": name, "status": status, "label": CRITERION_LABELS[status], "evidence": evidence}


def _quality_unchanged(name: str, span: str, phone_number_id: str, since) -> dict:
    """368 persists: the criterion holds if the number's quality rating did not change meanwhile."""
    from accounts.models import PhoneNumber, PhoneNumberChange

    number = PhoneNumber.objects.filter(phone_number_id=phone_number_id).first()
    if number is None or number.last_synced_at is None:
        return criterion(name, CANNOT_EVALUATE, span + " Persisting beyond 72 hours: yes. The number's quality history "
                         "is not synced in wabadesk — check WhatsApp Manager → Insights for a rating change.")
    changes = PhoneNumberChange.objects.filter(phone_number=number, field=PhoneNumberChange.Field.QUALITY,
                                               observed_at__gte=since)
    if changes.exists():
        latest = changes.first()
        return criterion(name, DOES_NOT_HOLD, span + f" The quality rating changed since ({latest}): give the change "
                         "time to take effect before escalating.")
    return criterion(name, HOLDS, span + f" Persisting beyond 72 hours with no quality rating change (still "
                     f"{number.quality_rating}, synced {number.last_synced_at:%Y-%m-%d %H:%M} UTC).")


def evaluate_criteria(*, waba, phone_number_id: str, object_ids: set[str], debug_data: dict | None,
                      focus_event: GraphErrorEvent | None = None, now=None) -> list[dict]:
    """The four criteria of the error reference, from the error log, /debug_token and Graph lookups.

    `focus_event` is the error the bundle is about (it is the one re-checked for 100/33)."""
    from accounts.selectors import waba_active_token

    now = now or timezone.now()
    results = []

    # 1. 368 persisting beyond 72 h with no quality change.
    name = "Error 368 persists beyond 72 hours with no quality rating change"
    blocks = _events_for(368, None, {phone_number_id} | object_ids)
    if not blocks:
        results.append(criterion(name, NOT_RELEVANT, "No 368 recorded for this number."))
    else:
        first, last = blocks[0].occurred_at, blocks[-1].occurred_at
        persisting = first <= now - timedelta(hours=72) and last >= now - timedelta(hours=24)
        span = f"368 first seen {first:%Y-%m-%d %H:%M} UTC, last seen {last:%Y-%m-%d %H:%M} UTC ({len(blocks)} times)."
        if not persisting:
            results.append(criterion(name, DOES_NOT_HOLD, span + " Not persisting beyond 72 hours: wait 24–48 h and "
                                                                 "fix the root cause."))
        else:
            results.append(_quality_unchanged(name, span, phone_number_id, first))

    # 2. 190 recurring on a valid System User token.
    name = "Error 190 recurs on a valid System User token"
    # Only errors met with the token in use count: 190s of a token since replaced say nothing about it.
    token = waba_active_token(waba) if waba else None
    since = max(filter(None, [now - timedelta(days=7), getattr(token, "activated_at", None)]))
    recent = _events_for(190, None, object_ids, since=since)
    if not recent:
        results.append(criterion(name, NOT_RELEVANT, "No 190 recorded for this WABA with the current token in the "
                                                     "last 7 days."))
    elif not debug_data:
        results.append(criterion(name, CANNOT_EVALUATE, f"{len(recent)} × 190 with the current token, but /debug_token gave no answer."))
    else:
        valid, kind = bool(debug_data.get("is_valid")), debug_data.get("type", "")
        facts = f"{len(recent)} × 190 with the current token in the last 7 days; /debug_token: is_valid={valid}, type={kind}."
        holds = len(recent) >= 2 and valid and kind == "SYSTEM_USER"
        results.append(criterion(name, HOLDS if holds else DOES_NOT_HOLD,
                                 facts + ("" if holds else " Replace the token first; escalate only if 190 recurs "
                                                           "on a valid System User token.")))

    # 3. 100/33 on an ID that exists with the right permissions.
    name = "Error 100/33 on an ID that exists, with the right permissions"
    masked = _events_for(100, 33, object_ids)
    object_check = None
    if masked:
        event = focus_event if focus_event in masked else masked[-1]
        object_check = object_exists(waba, event.object_id, event.endpoint)
    if not masked:
        results.append(criterion(name, NOT_RELEVANT, "No 100/33 recorded for these IDs."))
    elif not object_check:
        results.append(criterion(name, CANNOT_EVALUATE, "The ID could not be looked up (no active token)."))
    else:
        scopes_ok = bool(debug_data) and {"whatsapp_business_messaging", "whatsapp_business_management"} <= set(
            debug_data.get("scopes") or [])
        expected, kind = object_check.get("expected"), object_check.get("kind")
        # An ID that exists but is the wrong kind for the call (a WABA ID on /messages) is our mistake.
        right_kind = not expected or kind == expected
        holds = object_check.get("exists") and right_kind and scopes_ok
        note = "" if right_kind else f" The call needs a {expected}: this is the wrong kind of ID, not a Meta problem."
        results.append(criterion(name, HOLDS if holds else DOES_NOT_HOLD,
                                 f"{object_check.get('evidence')}; both scopes present: {scopes_ok}.{note}"
                                 + ("" if holds else " Fix the ID or the token's access first.")))

    results.append(criterion("App Review rejections recur after addressing the stated reasons", CANNOT_EVALUATE,
                             "wabadesk does not see App Review decisions: check the App Dashboard."))
    return results


def verdict(criteria: list[dict]) -> str:
    if any(c["status"] == HOLDS for c in criteria):
        return "Escalate to Meta: at least one criterion holds."
    # The App Review criterion can never be judged here; it alone shouldn't hold back a verdict.
    if any(c["status"] == CANNOT_EVALUATE and "App Review" not in c["criterion"] for c in criteria):
        return "Undecided: check the criteria that cannot be evaluated automatically before escalating."
    return "Do not escalate yet: fix the cause with the diagnosis first."


def debug_token_sanitised(waba) -> tuple[dict | None, list[str], str]:
    """(/debug_token data, secrets to redact, a note) for the WABA's active token."""
    from accounts.selectors import waba_active_token

    token = waba_active_token(waba) if waba else None
    if token is None:
        return None, [], "No active token for this WABA."
    app = waba.app
    secrets = [token.token, getattr(app, "app_secret", "")]
    try:
        data = GraphClient(None, max_retries=0, context={"source": "escalation"}).debug_token(
            token.token, app.app_id, app.app_secret)
    except GraphAPIError as error:
        return None, secrets, f"/debug_token failed: {error.code} {error.message}"
    return data, secrets, ""


def expected_kind(endpoint: str) -> str:
    if endpoint.rstrip("/").endswith("/messages"):
        return "whatsapp_business_phone_number"
    if endpoint.rstrip("/").endswith(("/phone_numbers", "/message_templates")):
        return "whatsapp_business_account"
    return ""


def object_exists(waba, object_id: str, endpoint: str = "") -> dict | None:
    """Does the ID exist for the WABA's token, and what is it? (GET /{id}?metadata=1)"""
    from accounts.selectors import waba_active_token

    token = waba_active_token(waba) if waba else None
    if token is None or not object_id:
        return None
    try:
        body = GraphClient(token.token, max_retries=0, context={"source": "escalation"}).get(
            f"/{object_id}", {"fields": "id", "metadata": "1"})
    except GraphAPIError as error:
        return {"exists": False, "kind": "", "expected": expected_kind(endpoint),
                "evidence": f"GET /{object_id}?metadata=1 → {error.code}/{error.subcode}"}
    kind = (body.get("metadata") or {}).get("type", "")
    return {"exists": True, "kind": kind, "expected": expected_kind(endpoint),
            "evidence": f"GET /{object_id}?metadata=1 → exists ({kind or 'unknown type'})"}


def to_text(data: dict) -> str:
    """The bundle as plain text for pasting into Meta's support form."""
    lines = [data["title"], f"Generated {data['generated_at']} by {data.get('generated_by') or 'wabadesk'}", ""]
    lines += ["== Escalation criteria =="]
    for c in data["criteria"]:
        lines.append(f"- {c['criterion']}: {c['label']}. {c['evidence']}")
    lines += [f"Verdict: {data['verdict']}", ""]
    for i, req in enumerate(data["requests"], 1):
        failed = req.get("error") is not None
        lines += [f"== {'Failed request' if failed else 'Request checked (not sent)'} {i} ==",
                  f"{req['method']} {req['endpoint']}"]
        if failed:
            lines += ["Error response:", json.dumps(req["error"], indent=2)]
        lines += ["Request payload (sanitised):",
                  json.dumps(req.get("payload"), indent=2) if req.get("payload") is not None
                  else req.get("payload_note") or "(no body)", ""]
    lines += ["== /debug_token (sanitised) ==", json.dumps(data.get("debug_token"), indent=2)]
    if data.get("debug_token_note"):
        lines.append(data["debug_token_note"])
    if data.get("checklist"):
        lines += ["", "== Checklist =="]
        lines += [f"- [{i['status']}] {i['title']}: {i['summary']}" for i in data["checklist"]]
    if data.get("context"):
        lines += ["", "== Context ==", json.dumps(data["context"], indent=2)]
    return "\n".join(lines)


def finalise(data: dict, secrets: list[str]) -> dict:
    """Sanitise the whole bundle once more: nothing secret leaves wabadesk in it."""
    return sanitize(data, secrets)
