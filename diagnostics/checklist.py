"""The debugging checklist, run for real against the Graph API and wabadesk's own records.

Order matters and follows the error reference: authentication first (it explains ~70 % of
failures), then request construction, then messaging policy. Each check is a function taking a
`CheckContext` and returning an `Outcome`; `CHECKS` is the order. Checks never raise: a Graph
error or a missing record becomes a fail (or "not applicable") with evidence and a fix.

Evidence says what was asked and what came back, already masked; the service sanitises it again
before it is stored.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cached_property
from typing import Callable

from django.core.exceptions import ValidationError
from django.db import transaction

from accounts.graph import GraphAPIError, GraphClient, GraphNetworkError
from config.logging import mask
from diagnostics.catalogue import lookup
from diagnostics.redaction import app_access_token_shown

PASS, WARN, FAIL, NA = "pass", "warn", "fail", "na"
STATUS_LABELS = {PASS: "pass", WARN: "warn", FAIL: "fail", NA: "not applicable"}
REQUIRED_SCOPES = ("whatsapp_business_messaging", "whatsapp_business_management")
AUTH, REQUEST, POLICY = "Authentication", "Request construction", "Messaging policy"


@dataclass
class Outcome:
    status: str
    summary: str
    evidence: list[dict] = field(default_factory=list)
    fix: list[str] = field(default_factory=list)
    actions: list[str] = field(default_factory=list)
    # The Graph error this item met, for a link to its diagnosis.
    error: dict | None = None


def _error_evidence(error: GraphAPIError) -> dict:
    return {"http_status": error.status, **error.as_body()} if not isinstance(error, GraphNetworkError) else {
        "network_error": error.message}


def _fix_for(error: GraphAPIError) -> tuple[list[str], list[str]]:
    entry = lookup(error.code, error.subcode)
    return (list(entry.fix), list(entry.actions)) if entry else ([f"Look up code {error.code} in the catalogue."], [])


class CheckContext:
    """What the checks share: the run's inputs, resolved records and facts learnt so far."""

    def __init__(self, run):
        self.run = run
        self.facts = run.facts

    # -- records (other apps, by their contracts) --------------------------------------------------
    @cached_property
    def waba(self):
        from accounts.models import WABA

        return WABA.objects.select_related("app").filter(waba_id=self.run.waba_id).first()

    @cached_property
    def token(self):
        from accounts.selectors import waba_active_token

        return waba_active_token(self.waba) if self.waba else None

    @property
    def token_value(self) -> str:
        return (self.token.token or "") if self.token else ""

    @property
    def secrets(self) -> list[str]:
        app = getattr(self.waba, "app", None)
        return [self.token_value, getattr(app, "app_secret", "") or ""]

    def client(self) -> GraphClient:
        # No retries: the checklist reports what Meta answers, it doesn't wait out rate limits.
        return GraphClient(self.token_value, max_retries=0,
                           context={"source": "checklist", "checklist_run": self.run.pk, "waba_id": self.run.waba_id})

    def bearer_shown(self) -> str:
        return f"Authorization: Bearer {mask(self.token_value)}"

    def endpoint(self, path: str) -> str:
        return f"/{GraphClient(None).version}/{path.lstrip('/')}"

    @cached_property
    def recipient_e164(self) -> str | None:
        from consent.validators import validate_e164

        if not self.run.recipient:
            return None
        try:
            return validate_e164(self.run.recipient)
        except ValidationError:
            return None

    @cached_property
    def contact(self):
        from consent.models import Contact

        return Contact.objects.filter(phone=self.recipient_e164).first() if self.recipient_e164 else None

    @cached_property
    def template(self):
        from messaging.models import Template

        if not self.run.template_name:
            return None
        return Template.objects.filter(waba_id=self.run.waba_id, name=self.run.template_name,
                                       language=self.run.template_language).first()

    def graph_error(self, key: str, error: GraphAPIError, method: str, path: str) -> None:
        """Remember a Graph error met during the run (the escalation bundle includes them)."""
        self.facts.setdefault("graph_errors", []).append(
            {"item": key, "method": method, "endpoint": self.endpoint(path), "body": _error_evidence(error)})


# --- Authentication --------------------------------------------------------------------------------
def check_bearer(ctx: CheckContext) -> Outcome:
    if ctx.waba is None:
        return Outcome(FAIL, f"wabadesk has no WABA {ctx.run.waba_id}.", fix=["Add the WABA in Accounts."],
                       actions=["phone_numbers"])
    if ctx.token is None:
        return Outcome(FAIL, "This WABA has no active access token, so no request can be authenticated.",
                       fix=["Add a System User token for this WABA in Accounts."], actions=["rotate_token"])
    value = ctx.token_value
    if value.lower().startswith("bearer") or any(c.isspace() for c in value):
        return Outcome(FAIL, "The stored token contains “Bearer” or whitespace, so the header sent would be "
                             "malformed (“Bearer Bearer …”).",
                       evidence=[{"asked": "The stored token's format", "answer": mask(value)}],
                       fix=["Store only the token itself (it starts with EAA), without “Bearer ” or spaces."],
                       actions=["rotate_token"])
    path = f"/{ctx.run.waba_id}"
    asked = f"GET {ctx.endpoint(path)}?fields=id,name with {ctx.bearer_shown()}"
    try:
        body = ctx.client().get(path, {"fields": "id,name"})
    except GraphNetworkError as error:
        return Outcome(FAIL, "The Graph API did not answer.", [{"asked": asked, "answer": error.message}],
                       ["Check GRAPH_API_BASE_URL and the network, then run the checklist again."])
    except GraphAPIError as error:
        ctx.graph_error("auth.bearer", error, "GET", path)
        if error.code == 190 and error.subcode is None:
            return Outcome(FAIL, "Meta could not parse the access token from the Authorization header.",
                           [{"asked": asked, "answer": _error_evidence(error)}],
                           ["wabadesk sends “Authorization: Bearer <token>”; the token itself is unknown to Meta "
                            "or belongs to another app.", *lookup(190).fix[1:]], ["rotate_token"],
                           error={"code": 190, "subcode": None})
        return Outcome(PASS, f"The Bearer header was accepted; Meta answered {error.code}"
                             f"{'/' + str(error.subcode) if error.subcode else ''}, which the next items explain.",
                       [{"asked": asked, "answer": _error_evidence(error)}])
    return Outcome(PASS, "Requests carry “Authorization: Bearer …” and Meta accepts it.",
                   [{"asked": asked, "answer": body}])


def check_debug_token(ctx: CheckContext) -> Outcome:
    if ctx.token is None:
        return Outcome(NA, "No token to debug (see the first item).")
    app = ctx.waba.app
    if not getattr(app, "app_secret", ""):
        return Outcome(FAIL, "The App has no app secret stored, so /debug_token can't be called.",
                       fix=["Add the App secret in Accounts (developers.facebook.com → Settings → Basic)."],
                       actions=["rotate_token"])
    asked = (f"GET {ctx.endpoint('/debug_token')}?input_token={mask(ctx.token_value)}"
             f"&access_token={app_access_token_shown(app.app_id)}")
    try:
        data = GraphClient(None, max_retries=0, context={"source": "checklist", "checklist_run": ctx.run.pk}
                           ).debug_token(ctx.token_value, app.app_id, app.app_secret)
    except GraphAPIError as error:
        ctx.graph_error("auth.debug_token", error, "GET", "/debug_token")
        fix, actions = _fix_for(error)
        return Outcome(FAIL, f"/debug_token failed: {error.message}", [{"asked": asked, "answer": _error_evidence(error)}],
                       fix, actions, error={"code": error.code, "subcode": error.subcode})
    ctx.facts["debug_token"] = data
    if data.get("is_valid"):
        return Outcome(PASS, "/debug_token reports is_valid: true.", [{"asked": asked, "answer": data}])
    err = data.get("error") or {}
    entry = lookup(err.get("code", 190), err.get("subcode"))
    sub = err.get("subcode")
    return Outcome(FAIL, f"/debug_token reports is_valid: false ({err.get('message', 'no reason given')}).",
                   [{"asked": asked, "answer": data}],
                   ["Replace the token before any other debugging step.", *(entry.fix if entry else ())],
                   ["rotate_token"], error={"code": err.get("code", 190), "subcode": sub})


def check_scopes(ctx: CheckContext) -> Outcome:
    data = ctx.facts.get("debug_token")
    if not data:
        return Outcome(NA, "No /debug_token answer to read the scopes from (see the item above).")
    scopes = list(data.get("scopes") or [])
    missing = [s for s in REQUIRED_SCOPES if s not in scopes]
    evidence = [{"asked": "scopes in the /debug_token answer", "answer": scopes}]
    if missing:
        return Outcome(FAIL, f"The token is missing {', '.join(missing)}.", evidence,
                       ["Regenerate the token selecting both whatsapp_business_messaging and "
                        "whatsapp_business_management (App Review approval doesn't add scopes to existing tokens).",
                        "Store the new token in Accounts."], ["rotate_token"], error={"code": 200, "subcode": None})
    return Outcome(PASS, "The token has both whatsapp_business_messaging and whatsapp_business_management.",
                   evidence)


def check_system_user(ctx: CheckContext) -> Outcome:
    data = ctx.facts.get("debug_token")
    if not data:
        return Outcome(NA, "No /debug_token answer to read the token type from.")
    kind, expires_at = data.get("type", ""), int(data.get("expires_at") or 0)
    evidence = [{"asked": "type and expires_at in the /debug_token answer",
                 "answer": {"type": kind, "expires_at": expires_at}}]
    if kind != "SYSTEM_USER":
        return Outcome(FAIL, f"This is a {kind or 'unknown'} token, not a System User token: it expires "
                             "(recurring 190/463 in production).", evidence,
                       list(lookup(190, 463).fix), ["rotate_token"], error={"code": 190, "subcode": 463})
    if expires_at:
        return Outcome(WARN, "A System User token, but with an expiry date.", evidence,
                       ["Generate a System User token that never expires (expires_at 0)."], ["rotate_token"])
    return Outcome(PASS, "A System User token that never expires.", evidence)


# --- Request construction ----------------------------------------------------------------------------
def check_phone_number_id(ctx: CheckContext) -> Outcome:
    from accounts.validators import validate_phone_number_id

    pid = ctx.run.phone_number_id.strip()
    ctx.facts["phone_resolved"] = False
    try:
        validate_phone_number_id(pid)
        format_problem = ""
    except ValidationError as exc:
        format_problem = " ".join(exc.messages)
    if ctx.token is None:
        return Outcome(FAIL if format_problem else NA, format_problem or "No token to resolve the ID with.",
                       fix=["Use the 15-digit id from GET /{WABA_ID}/phone_numbers."] if format_problem else [])
    path = f"/{pid}"
    asked = f"GET {ctx.endpoint(path)}?fields=id&metadata=1"
    fix_ids = ["Use the Phone Number ID (15 digits) from GET /{WABA_ID}/phone_numbers — Accounts lists them.",
               "A 16-digit number is the WABA ID: it belongs in /phone_numbers and /message_templates, not /messages."]
    try:
        body = ctx.client().get(path, {"fields": "id", "metadata": "1"})
    except GraphAPIError as error:
        ctx.graph_error("request.phone_number_id", error, "GET", path)
        summary = format_problem or f"The ID does not resolve for this token ({error.code}/{error.subcode})."
        return Outcome(FAIL, summary, [{"asked": asked, "answer": _error_evidence(error)}],
                       fix_ids + list(lookup(100, 33).fix[1:2]), ["phone_numbers"],
                       error={"code": error.code, "subcode": error.subcode})
    kind = (body.get("metadata") or {}).get("type", "")
    evidence = [{"asked": asked, "answer": body}]
    if kind == "whatsapp_business_account":
        return Outcome(FAIL, "This ID is a WABA ID, not a Phone Number ID: POST /{id}/messages would fail with "
                             "100/33.", evidence, fix_ids, ["phone_numbers"], error={"code": 100, "subcode": 33})
    if kind and kind != "whatsapp_business_phone_number":
        return Outcome(FAIL, f"This ID is a {kind}, not a phone number.", evidence, fix_ids, ["phone_numbers"],
                       error={"code": 100, "subcode": 33})
    if format_problem:
        return Outcome(FAIL, format_problem, evidence, fix_ids, ["phone_numbers"])
    ctx.facts["phone_resolved"] = True
    return Outcome(PASS, "A 15-digit Phone Number ID that resolves to a WhatsApp phone number.", evidence)


def check_recipient(ctx: CheckContext) -> Outcome:
    from consent.validators import validate_e164

    if not ctx.run.recipient:
        return Outcome(NA, "No recipient given.")
    asked = f"validate_e164({ctx.run.recipient!r})"
    try:
        value = validate_e164(ctx.run.recipient)
    except ValidationError as exc:
        reasons = " ".join(exc.messages)
        return Outcome(FAIL, f"The recipient is not E.164: {reasons}", [{"asked": asked, "answer": reasons}],
                       ["Write the number as + followed by country code and number, digits only "
                        "(e.g. +15551234567): no spaces, dashes, or 00 prefix."], ["contact"],
                       error={"code": 100, "subcode": None})
    return Outcome(PASS, f"{value} is valid E.164.", [{"asked": asked, "answer": value}])


def build_payload(ctx: CheckContext) -> dict:
    """The /messages body wabadesk would send for these inputs (never sent by the checklist)."""
    payload = {"messaging_product": "whatsapp", "recipient_type": "individual"}
    if ctx.recipient_e164:
        payload["to"] = ctx.recipient_e164
    if ctx.run.template_name:
        template = {"name": ctx.run.template_name, "language": {"code": ctx.run.template_language}}
        variables = ctx.template.variables() if ctx.template else []
        if variables:
            template["components"] = [{"type": "body", "parameters": [
                {"type": "text", "text": f"<value {name}>"} for name in variables]}]
        payload.update(type="template", template=template)
    else:
        payload.update(type="text", text={"body": ctx.run.text})
    return payload


def missing_fields(payload: dict) -> list[str]:
    missing = [f for f in ("messaging_product", "recipient_type", "to", "type") if not payload.get(f)]
    if payload.get("type") == "text" and not (payload.get("text") or {}).get("body"):
        missing.append("text.body")
    if payload.get("type") == "template":
        template = payload.get("template") or {}
        if not template.get("name"):
            missing.append("template.name")
        if not (template.get("language") or {}).get("code"):
            missing.append("template.language.code")
    return missing


def check_payload(ctx: CheckContext) -> Outcome:
    payload = build_payload(ctx)
    ctx.facts["payload"] = payload
    evidence = [{"asked": f"The body of POST {ctx.endpoint(f'/{ctx.run.phone_number_id}/messages')}",
                 "answer": payload}]
    missing = missing_fields(payload)
    if missing == ["to"] and not ctx.run.recipient:
        return Outcome(NA, "No recipient given, so the payload has no “to”; the other fields are present.", evidence)
    if missing:
        return Outcome(FAIL, f"The payload would lack {', '.join(missing)} (Meta answers 100/2500).", evidence,
                       ["Give a valid recipient and either a message text or a template.",
                        *lookup(100, 2500).fix[:1]], error={"code": 100, "subcode": 2500})
    return Outcome(PASS, "messaging_product, recipient_type, to, type and "
                         f"{'template.name + language' if payload['type'] == 'template' else 'text.body'} are present.",
                   evidence)


# --- Messaging policy ------------------------------------------------------------------------------
def check_window(ctx: CheckContext) -> Outcome:
    if not ctx.recipient_e164:
        return Outcome(NA, "No valid recipient to check the 24-hour window for.")
    window = ctx.contact.window() if ctx.contact else None
    last = getattr(ctx.contact, "last_inbound_at", None)
    evidence = [{"asked": f"The 24-hour window of {ctx.recipient_e164}",
                 "answer": {"contact_known": ctx.contact is not None,
                            "last_inbound_at": last.isoformat() if last else None,
                            "open": bool(window and window.is_open),
                            "closes_at": window.closes_at.isoformat() if window and window.closes_at else None}}]
    if window and window.is_open and not ctx.run.template_name:
        return Outcome(PASS, "The 24-hour window is open: free-form text is allowed.", evidence)
    if ctx.run.template_name:
        t = ctx.template
        evidence.append({"asked": f"Template {ctx.run.template_name} ({ctx.run.template_language})",
                         "answer": {"status": t.status, "category": t.category} if t else "not in wabadesk"})
        if t is not None and t.is_approved:
            return Outcome(PASS, "An APPROVED template is used, which works whether or not the window is open.",
                           evidence)
        status = t.status if t else "unknown to wabadesk"
        code = {"PAUSED": 132015, "DISABLED": 132016}.get(getattr(t, "status", ""), 132001)
        return Outcome(FAIL, f"The template is {status}, not APPROVED: Meta would refuse it.", evidence,
                       ["Pick an APPROVED template (sync templates first if it was approved recently).",
                        *lookup(code).fix], ["templates"], error={"code": code, "subcode": None})
    return Outcome(FAIL, "The 24-hour window is closed and no template is used: free text fails with 131047.",
                   evidence, list(lookup(131047).fix), ["contact", "templates"], error={"code": 131047, "subcode": None})


def check_opt_in(ctx: CheckContext) -> Outcome:
    from consent.selectors import contact_can_send
    from messaging.selectors import blacklist_contains

    if not ctx.recipient_e164:
        return Outcome(NA, "No valid recipient to check consent for.")
    contact = ctx.contact
    blacklisted = blacklist_contains(ctx.recipient_e164)
    answer = {"contact_known": contact is not None,
              "consent_state": getattr(contact, "consent_state", None),
              "consent_channel": getattr(contact, "consent_channel", None),
              "blacklisted": blacklisted}
    evidence = [{"asked": f"Consent and blacklist for {ctx.recipient_e164}", "answer": answer}]
    if blacklisted:
        return Outcome(FAIL, "The recipient is on the blacklist.", evidence,
                       ["Do not send; remove the entry only if it was added by mistake."], ["blacklist"])
    if contact is None or not contact_can_send(contact):
        why = "no contact record" if contact is None else f"consent is “{contact.consent_state}”"
        return Outcome(FAIL, f"No opt-in on record ({why}). Sending without opt-in leads to 368 blocks.", evidence,
                       ["Record the opt-in with its channel (Contacts → the contact) before sending, or don't send.",
                        "An opt-out after an opt-in always wins."], ["contact"], error={"code": 368, "subcode": None})
    return Outcome(PASS, "An opt-in is on record and the recipient isn't blacklisted.", evidence)


def check_quality(ctx: CheckContext) -> Outcome:
    if not ctx.facts.get("phone_resolved"):
        return Outcome(NA, "The phone number did not resolve (see “Phone Number ID”).")
    path = f"/{ctx.run.phone_number_id}"
    asked = f"GET {ctx.endpoint(path)}?fields=quality_rating,status"
    try:
        body = ctx.client().get(path, {"fields": "quality_rating,status"})
    except GraphAPIError as error:
        ctx.graph_error("policy.quality", error, "GET", path)
        fix, actions = _fix_for(error)
        return Outcome(FAIL, f"Could not read the quality rating: {error.message}",
                       [{"asked": asked, "answer": _error_evidence(error)}], fix, actions)
    rating, status = body.get("quality_rating", "UNKNOWN"), body.get("status", "")
    ctx.facts["quality_rating"] = rating
    evidence = [{"asked": asked, "answer": body}]
    if status in ("BANNED", "RESTRICTED", "FLAGGED", "DISCONNECTED", "DELETED"):
        return Outcome(FAIL, f"The number's status is {status}.", evidence, list(lookup(368).fix), ["phone_numbers"],
                       error={"code": 368, "subcode": None})
    if rating == "RED":
        return Outcome(FAIL, "Quality rating is RED.", evidence,
                       ["Pause non-essential sends.", "Fix opt-in flows and audit recent messages before resuming.",
                        *lookup(368).fix[1:2]], ["phone_numbers", "contact", "templates"])
    if rating == "YELLOW":
        return Outcome(WARN, "Quality rating is YELLOW (allowed, but audit recent outbound messages now).", evidence,
                       ["Audit recent sends for missing opt-ins, miscategorised templates and missing opt-out paths."],
                       ["templates"])
    if rating != "GREEN":
        return Outcome(WARN, f"Quality rating is {rating}.", evidence, ["Check WhatsApp Manager → Insights."])
    return Outcome(PASS, "Quality rating is GREEN.", evidence)


def check_template_category(ctx: CheckContext) -> Outcome:
    if not ctx.run.template_name:
        return Outcome(NA, "No template chosen.")
    t = ctx.template
    if t is None:
        return Outcome(WARN, "The template isn't in wabadesk, so its category can't be checked.",
                       fix=["Sync templates (Templates page)."], actions=["templates"])
    words = t.marketing_words()
    evidence = [{"asked": f"Category and text of {t.name} ({t.language})",
                 "answer": {"category": t.category, "text": t.text(), "marketing_words": words}}]
    if words:
        return Outcome(FAIL, f"A UTILITY template that reads like marketing ({', '.join(words)}): the commonest "
                             "road to a 368 block.", evidence,
                       ["Resubmit the content as a MARKETING template, or remove the promotional wording.",
                        "Send marketing only to contacts who opted in to marketing."], ["templates"],
                       error={"code": 368, "subcode": None})
    return Outcome(PASS, f"{t.category} template; its content is consistent with the category.", evidence)


@dataclass(frozen=True)
class Check:
    key: str
    group: str
    title: str
    run: Callable[[CheckContext], Outcome]


CHECKS: tuple[Check, ...] = (
    Check("auth.bearer", AUTH, "Authorization header uses the Bearer prefix", check_bearer),
    Check("auth.debug_token", AUTH, "Token passes /debug_token (is_valid)", check_debug_token),
    Check("auth.scopes", AUTH, "Token has both WhatsApp scopes", check_scopes),
    Check("auth.system_user", AUTH, "System User token, not a user token", check_system_user),
    Check("request.phone_number_id", REQUEST, "Phone Number ID (15 digits), not a WABA ID", check_phone_number_id),
    Check("request.recipient", REQUEST, "Recipient in E.164", check_recipient),
    Check("request.payload", REQUEST, "Required fields present in the payload", check_payload),
    Check("policy.window", POLICY, "24-hour window open, or an approved template", check_window),
    Check("policy.opt_in", POLICY, "Opt-in on record", check_opt_in),
    Check("policy.quality", POLICY, "Quality rating GREEN or YELLOW", check_quality),
    Check("policy.template_category", POLICY, "Template category matches its content", check_template_category),
)


def run_check(check: Check, ctx: CheckContext) -> dict:
    """One item as stored in ChecklistRun.items (JSON-safe)."""
    try:
        # A savepoint: a check whose query fails must not abort the run's transaction.
        with transaction.atomic():
            outcome = check.run(ctx)
    except Exception as exc:  # a check must never take the run down; the failure is the finding
        outcome = Outcome(FAIL, f"The check could not run: {type(exc).__name__}: {exc}",
                          fix=["Report this to the wabadesk maintainers with the run number."])
    return json.loads(json.dumps({
        "key": check.key, "group": check.group, "title": check.title, "status": outcome.status,
        "summary": outcome.summary, "evidence": outcome.evidence, "fix": outcome.fix, "actions": outcome.actions,
        "error": outcome.error,
    }, default=str))
