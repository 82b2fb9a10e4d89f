"""The Graph API / WhatsApp Cloud API error catalogue: the one place wabadesk explains an error.

Every app that shows an error (message log, alerts, paste-an-error, the error log) asks
`lookup(code, subcode)`. A subcode-specific entry wins; an unknown subcode falls back to the
code's own entry, so a new subcode from Meta still gets the family's explanation.

Category follows the error reference: *developer-controlled* errors are fixed in our request or
configuration; *platform-enforced* ones need waiting, a process change or Meta.
`retryable` means "the same request may succeed later without any change" — it is advice for
people; the Graph client's own retry rule lives in accounts/graph.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field

DEVELOPER = "developer"
PLATFORM = "platform"
CATEGORY_LABELS = {DEVELOPER: "Developer-controlled", PLATFORM: "Platform-enforced"}


@dataclass(frozen=True)
class Action:
    """A place in wabadesk where the fix is done."""

    key: str
    label: str
    url_name: str


ACTIONS = {
    a.key: a
    for a in (
        Action("rotate_token", "Rotate or replace the access token", "accounts:overview"),
        Action("phone_numbers", "Check the WABA and its phone numbers", "accounts:overview"),
        Action("contact", "Open the contact (consent and 24-hour window)", "consent:contact_list"),
        Action("templates", "Open the templates list", "messaging:template_list"),
        Action("blacklist", "Open the blacklist", "messaging:blacklist"),
        Action("messages", "Open the message log", "messaging:message_list"),
        Action("checklist", "Run the debugging checklist", "diagnostics:checklist"),
        Action("error_log", "See how often it happened (error log)", "diagnostics:error_log"),
    )
}


@dataclass(frozen=True)
class CatalogueEntry:
    code: int
    name: str
    category: str
    retryable: bool
    why: str
    fix: tuple[str, ...]
    prevention: str
    actions: tuple[str, ...] = ()
    subcode: int | None = None
    # For a subcode entry: what this subcode adds to the code's meaning.
    subcode_meaning: str = ""
    escalate_when: str = ""
    keywords: tuple[str, ...] = field(default=())

    @property
    def key(self) -> str:
        return f"{self.code}" if self.subcode is None else f"{self.code}/{self.subcode}"

    @property
    def category_label(self) -> str:
        return CATEGORY_LABELS[self.category]

    @property
    def action_links(self) -> list[Action]:
        return [ACTIONS[k] for k in self.actions]

    def matches(self, query: str) -> bool:
        """Case-insensitive search over the code, the name and the explanation."""
        q = query.strip().lower()
        if not q:
            return True
        haystack = " ".join(
            [self.key, str(self.code), self.name, self.why, self.subcode_meaning, self.prevention,
             self.category_label, *self.fix, *self.keywords]
        ).lower()
        return all(word in haystack for word in q.split())


_TOKEN_STEPS_DEBUG = "Open the token in Accounts and run “Check token” (it calls /debug_token): is_valid must be true."
_SYSTEM_USER_STEPS = (
    "Business Manager → Business Settings → System Users: create or select a System User.",
    "Assign the WhatsApp Business Account to it as an asset.",
    "Generate a token with whatsapp_business_messaging and whatsapp_business_management, then store it in "
    "wabadesk (Accounts → the WABA → Replace token).",
)

ENTRIES: tuple[CatalogueEntry, ...] = (
    # --- Authentication -------------------------------------------------------------------------
    CatalogueEntry(
        code=190, name="Invalid OAuth access token", category=DEVELOPER, retryable=False,
        why="Meta could not accept the access token. Without a subcode this is almost always our mistake: the "
            "Authorization header lacks the “Bearer ” prefix, the token was pasted with extra characters, or it "
            "belongs to another app or environment. With a subcode (460, 463, 467) Meta invalidated the token.",
        fix=(
            "Confirm the request sends “Authorization: Bearer <token>” (wabadesk's client always does; scripts "
            "and other integrations often forget the prefix).",
            _TOKEN_STEPS_DEBUG,
            "If is_valid is false, replace the token before any other debugging step.",
            "In production use a System User token, which does not expire.",
        ),
        prevention="Keep one Graph client that builds the header; validate the token with /debug_token when it "
                   "is stored and every day after (wabadesk's token check task).",
        actions=("rotate_token", "checklist"),
        subcode_meaning="No subcode: the header is missing the Bearer prefix, or the token is malformed or "
                        "belongs to a different app.",
        escalate_when="It recurs on a System User token that /debug_token reports as valid (possible "
                      "account-level revocation).",
        keywords=("oauth", "token", "bearer", "authorization", "expired", "auth"),
    ),
    CatalogueEntry(
        code=190, subcode=460, name="Token invalidated by a password change", category=PLATFORM, retryable=False,
        why="The Facebook user who generated the token changed their password (or Meta reset the session for "
            "security), which invalidates every token tied to that user. Any long-running integration built on "
            "a personal user token meets this eventually.",
        fix=(
            "Generate a new token and store it in wabadesk (Accounts → Replace token).",
            *_SYSTEM_USER_STEPS,
        ),
        prevention="Use System User tokens: they are not tied to a person's password. Handle 190/460 in the "
                   "error handler by alerting, never by retrying.",
        actions=("rotate_token",),
        subcode_meaning="460 — the user changed their password; all their tokens are invalid.",
        keywords=("password", "session invalidated"),
    ),
    CatalogueEntry(
        code=190, subcode=463, name="Access token expired", category=PLATFORM, retryable=False,
        why="The token's lifetime ended. Short-lived user tokens last about one to two hours and long-lived ones "
            "about 60 days. A recurring 463 in production means the wrong token type is in use.",
        fix=(
            "Generate a new token and store it in wabadesk (Accounts → Replace token).",
            *_SYSTEM_USER_STEPS,
        ),
        prevention="Use a System User token (expires_at 0 = never). wabadesk alerts before a token with an "
                   "expiry date runs out.",
        actions=("rotate_token", "checklist"),
        subcode_meaning="463 — the token has expired.",
        keywords=("expired", "session has expired"),
    ),
    CatalogueEntry(
        code=190, subcode=467, name="Invalid session (token revoked)", category=PLATFORM, retryable=False,
        why="The session behind the token is no longer valid: the user logged out, the app was removed, or the "
            "token's permissions were changed or revoked.",
        fix=(
            _TOKEN_STEPS_DEBUG,
            "Generate a new token with both WhatsApp scopes and store it in wabadesk.",
        ),
        prevention="Use System User tokens and change their permissions only together with a token rotation.",
        actions=("rotate_token",),
        subcode_meaning="467 — the session is invalid: revoked, logged out or permissions changed.",
        keywords=("revoked", "logged out", "session"),
    ),
    CatalogueEntry(
        code=0, name="AuthException", category=DEVELOPER, retryable=False,
        why="A generic authentication failure: the app or the token could not be authenticated for this call.",
        fix=(_TOKEN_STEPS_DEBUG, "Check that the token was generated for the same app as the one in wabadesk."),
        prevention="Validate every stored token with /debug_token and keep one token per WABA.",
        actions=("rotate_token", "checklist"),
        keywords=("auth",),
    ),
    CatalogueEntry(
        code=101, name="Invalid app secret (client secret)", category=DEVELOPER, retryable=False,
        why="The app access token (app_id|app_secret) used for /debug_token was refused: the app secret stored "
            "in wabadesk does not match the app, or the App ID is wrong.",
        fix=("Copy the App secret from developers.facebook.com → the app → Settings → Basic.",
             "Update it in wabadesk (Accounts → the app)."),
        prevention="Rotate the app secret in wabadesk at the same moment it is reset at Meta.",
        actions=("rotate_token",),
        keywords=("client secret", "app secret", "debug_token"),
    ),
    CatalogueEntry(
        code=3, name="Capability not available to the app", category=DEVELOPER, retryable=False,
        why="The app is not allowed to call this API method: the WhatsApp product is not added to the app, or "
            "the capability needs App Review or business verification.",
        fix=("Add the WhatsApp product to the app in the App Dashboard.",
             "Check App Review and business verification status for the permission this call needs."),
        prevention="Keep test and production apps separate and record which capabilities each has.",
        actions=("checklist",),
        keywords=("capability", "method", "app review"),
    ),
    CatalogueEntry(
        code=10, name="Permission denied", category=DEVELOPER, retryable=False,
        why="The token does not have permission for this object or action — typically the phone number or WABA "
            "is not assigned to the System User, or the permission was removed.",
        fix=("Check the token's scopes and granular target IDs with /debug_token.",
             "Assign the WABA to the System User in Business Settings and regenerate the token."),
        prevention="After every App Review approval or asset change, regenerate the token and re-run the checklist.",
        actions=("rotate_token", "checklist"),
        keywords=("permission",),
    ),
    CatalogueEntry(
        code=200, name="Permission required (missing scope)", category=DEVELOPER, retryable=False,
        why="The token lacks a required permission — usually whatsapp_business_messaging for sends or "
            "whatsapp_business_management for templates and numbers. App Review approval decides what an app "
            "may request; it does not add scopes to tokens that already exist. Codes 200–299 are the "
            "permission family.",
        fix=("Check the token's scopes with /debug_token (the checklist does it).",
             "Regenerate the token selecting both whatsapp_business_messaging and whatsapp_business_management.",
             "Store the new token in wabadesk."),
        prevention="Validate scopes when a token is stored and at startup; regenerate tokens after every App "
                   "Review approval.",
        actions=("rotate_token", "checklist"),
        keywords=("scope", "permission", "whatsapp_business_messaging", "whatsapp_business_management"),
    ),
    # --- Parameters and IDs ---------------------------------------------------------------------
    CatalogueEntry(
        code=100, name="Invalid parameter", category=DEVELOPER, retryable=False,
        why="The request itself is wrong: the wrong kind of ID, a missing required field, an unknown field, or "
            "a malformed phone number. Meta's message text is often misleading (“does not exist”).",
        fix=("Read the subcode and error_data.details: they name the parameter.",
             "Check the ID type: a Phone Number ID has 15 digits, a WABA ID 16.",
             "Check the recipient is E.164 (+ and digits only).",
             "Run the checklist to rebuild the payload and see which field is missing."),
        prevention="Validate IDs and phone numbers before a request is built (wabadesk does it on every send).",
        actions=("checklist", "phone_numbers"),
        keywords=("parameter", "invalid", "field"),
    ),
    CatalogueEntry(
        code=100, subcode=33, name="Object does not exist or cannot be loaded", category=DEVELOPER,
        retryable=False,
        why="The ID in the URL does not exist for this token. Most often a 16-digit WABA ID is used where the "
            "15-digit Phone Number ID belongs (POST /{id}/messages). Meta also uses 100/33 to mask a permission "
            "error: if the ID is right, the token may not have access to it.",
        fix=("Get the Phone Number ID from GET /{WABA_ID}/phone_numbers (Accounts lists them) and use it in "
             "/messages.",
             "If the ID is correct, check with /debug_token that the token's granular scopes include this WABA.",
             "Run the checklist: it resolves the ID with ?metadata=1 and tells you what kind of object it is."),
        prevention="Store Phone Number IDs only from /phone_numbers and validate the length (15 digits) on input.",
        actions=("phone_numbers", "checklist", "rotate_token"),
        subcode_meaning="33 — the object doesn't exist, was deleted, or a permission error is being masked.",
        escalate_when="It appears on an ID that definitely exists and the token has the right permissions.",
        keywords=("does not exist", "waba id", "phone number id", "unsupported post request", "wrong id"),
    ),
    CatalogueEntry(
        code=100, subcode=2500, name="Required parameter missing", category=DEVELOPER, retryable=False,
        why="A required field is absent from the request body: messaging_product, to, type, text.body, or "
            "template.name / template.language.code.",
        fix=("Compare the request body with the required fields: messaging_product=\"whatsapp\", "
             "recipient_type=\"individual\", to, type, and text.body or template.name + template.language.code.",
             "Run the checklist: it builds the payload wabadesk would send and checks every field."),
        prevention="Build payloads in one function that validates them (wabadesk's send path).",
        actions=("checklist",),
        subcode_meaning="2500 — a required parameter is missing from the request body.",
        keywords=("missing", "required", "payload"),
    ),
    CatalogueEntry(
        code=131008, name="Required parameter is missing", category=DEVELOPER, retryable=False,
        why="The message request lacks a parameter the message type needs (for example a template component "
            "or media ID).",
        fix=("Read error_data.details for the parameter's name.", "Add it and send again."),
        prevention="Build message payloads in one validated function.",
        actions=("checklist",),
        keywords=("missing parameter",),
    ),
    CatalogueEntry(
        code=131009, name="Parameter value is not valid", category=DEVELOPER, retryable=False,
        why="A parameter has a value Meta does not accept: a wrong phone number format, an unknown language "
            "code, or a value outside the allowed set.",
        fix=("Read error_data.details for the parameter.", "Correct the value (E.164 phones, Meta's language "
             "codes such as en_US) and send again."),
        prevention="Validate values before sending; keep template languages in sync with Meta.",
        actions=("checklist", "templates"),
        keywords=("invalid parameter value",),
    ),
    CatalogueEntry(
        code=131051, name="Unsupported message type", category=DEVELOPER, retryable=False,
        why="The message's `type` is not one the Cloud API supports (or is misspelled).",
        fix=("Use a supported type: text, template, image, document, audio, video, interactive, location …",),
        prevention="Send only through wabadesk's send path, which builds text and template messages.",
        actions=("checklist",),
        keywords=("type",),
    ),
    CatalogueEntry(
        code=131021, name="Recipient cannot be the sender", category=DEVELOPER, retryable=False,
        why="The `to` number is the business phone number itself.",
        fix=("Send to a different recipient; test with a separate WhatsApp account.",),
        prevention="Refuse the business's own numbers as recipients.",
        actions=("contact",),
        keywords=("sender", "same number"),
    ),
    CatalogueEntry(
        code=131030, name="Recipient not in the allowed list", category=DEVELOPER, retryable=False,
        why="The phone number is in test mode (or the app is in development mode) and can only message numbers "
            "added to its allowed list.",
        fix=("Add the recipient to the allowed list in the App Dashboard → WhatsApp → API Setup, or",
             "move the number to a live, verified business account."),
        prevention="Keep test numbers out of production sends; check account_mode (LIVE/SANDBOX).",
        actions=("phone_numbers",),
        keywords=("allowed list", "test number", "development mode"),
    ),
    CatalogueEntry(
        code=133010, name="Phone number not registered", category=DEVELOPER, retryable=False,
        why="The business phone number is not registered with the Cloud API (registration not done or lost).",
        fix=("Register the number: POST /{PHONE_NUMBER_ID}/register with the two-step verification PIN.",
             "Then re-sync the phone numbers in Accounts."),
        prevention="Check code_verification_status and status when adding a number.",
        actions=("phone_numbers",),
        keywords=("not registered", "register"),
    ),
    # --- Messaging policy ------------------------------------------------------------------------
    CatalogueEntry(
        code=131047, name="Re-engagement message (24-hour window closed)", category=PLATFORM, retryable=False,
        why="Free-form messages are allowed only within 24 hours of the customer's last inbound message. After "
            "that only approved templates may be sent — unconditionally. A malformed recipient number can also "
            "surface as 131047.",
        fix=("Open the contact: the window shows when the customer last wrote.",
             "Send an APPROVED template instead of free text.",
             "Check the recipient is in E.164."),
        prevention="Store the last inbound time per contact and let the send path choose a template when the "
                   "window is closed (wabadesk refuses free text outside the window).",
        actions=("contact", "templates"),
        keywords=("24 hours", "window", "re-engagement", "free-form", "customer service window"),
    ),
    CatalogueEntry(
        code=368, name="Temporarily blocked for policy violations", category=PLATFORM, retryable=False,
        why="Meta blocked sending because of messaging behaviour: recipients without opt-in, templates in the "
            "wrong category (marketing as utility), spam reports driving a low quality rating, or no opt-out "
            "path. No request or token change lifts it.",
        fix=("Check the phone number's quality rating (Accounts); RED: pause non-essential sends.",
             "Audit recent sends: recipients without an opt-in, miscategorised templates, no opt-out path.",
             "Wait: temporary blocks lift within 24–48 hours; there is no API to lift one early.",
             "Fix the root cause before resuming full volume."),
        prevention="Send only to contacts with a recorded opt-in, include an opt-out path, submit templates in "
                   "the right category, answer inbound messages promptly. Repeated blocks escalate to a ban.",
        actions=("phone_numbers", "contact", "templates", "blacklist"),
        escalate_when="It persists beyond 72 hours with no change in the quality rating.",
        keywords=("blocked", "policy", "spam", "quality", "ban"),
    ),
    CatalogueEntry(
        code=131026, name="Message undeliverable", category=PLATFORM, retryable=False,
        why="Meta could not deliver to this recipient: the number is not on WhatsApp, the recipient hasn't "
            "accepted the latest terms, uses an old WhatsApp version, or has blocked the business. "
            "(wabadesk's public-API documentation also lists 131026 for an expired 24-hour window; Meta's code "
            "for that is 131047.)",
        fix=("If the message says the 24-hour window has expired (wabadesk's public API), treat it as 131047: "
             "send an approved template.",
             "Otherwise check the number with the customer (is it their WhatsApp number?).",
             "Do not retry in a loop; contact the customer through another channel."),
        prevention="Collect WhatsApp numbers through an opt-in on WhatsApp itself; stop sending to numbers that "
                   "fail repeatedly (add them to the blacklist).",
        actions=("contact", "templates", "blacklist"),
        keywords=("undeliverable", "not on whatsapp", "blocked the business", "window"),
    ),
    CatalogueEntry(
        code=131049, name="Per-user marketing limit (healthy ecosystem)", category=PLATFORM, retryable=False,
        why="Meta chose not to deliver this marketing template to keep the user's experience healthy: the user "
            "already received several marketing messages recently.",
        fix=("Do not resend immediately; try again later (days, not seconds).",
             "Prefer a utility template if the message is really transactional."),
        prevention="Cap marketing frequency per contact and measure engagement.",
        actions=("templates", "contact"),
        keywords=("marketing", "frequency", "ecosystem"),
    ),
    CatalogueEntry(
        code=131050, name="User stopped marketing messages", category=PLATFORM, retryable=False,
        why="The recipient chose to stop receiving marketing messages from this business.",
        fix=("Record the opt-out for the contact (Contacts → record consent: opted out).",
             "Send only utility or authentication templates to this contact."),
        prevention="Respect opt-outs across channels; the consent rule in wabadesk blocks sends after an opt-out.",
        actions=("contact", "blacklist"),
        keywords=("opt-out", "stop", "marketing"),
    ),
    CatalogueEntry(
        code=131031, name="Business account locked", category=PLATFORM, retryable=False,
        why="The WhatsApp Business Account was locked, usually for a policy violation or failed verification of "
            "the two-step PIN.",
        fix=("Check WhatsApp Manager → Account quality for the reason.", "Request a review if you believe it is "
             "a mistake."),
        prevention="Follow the Business and Commerce policies; keep opt-in records.",
        actions=("phone_numbers",),
        escalate_when="The lock persists after the stated reason was addressed.",
        keywords=("locked", "account"),
    ),
    CatalogueEntry(
        code=130497, name="Business restricted from messaging users in this country", category=PLATFORM,
        retryable=False,
        why="The business is restricted from sending to users in the recipient's country.",
        fix=("Check the restriction in WhatsApp Manager.", "Do not send to numbers in that country."),
        prevention="Check the business's allowed countries before adding contacts.",
        actions=("phone_numbers", "contact"),
        keywords=("country", "restricted"),
    ),
    CatalogueEntry(
        code=131042, name="Business eligibility — payment issue", category=PLATFORM, retryable=False,
        why="A problem with the payment method of the WABA (no payment method, expired card, credit limit).",
        fix=("Fix the payment method in Business Settings → Payments.",),
        prevention="Watch billing alerts from Meta.",
        actions=("phone_numbers",),
        keywords=("payment", "billing"),
    ),
    CatalogueEntry(
        code=131045, name="Incorrect certificate (registration)", category=DEVELOPER, retryable=False,
        why="The phone number's registration is incomplete or its certificate is invalid.",
        fix=("Register the phone number again with the Cloud API.",),
        prevention="Complete registration before sending.",
        actions=("phone_numbers",),
        keywords=("certificate", "registration"),
    ),
    # --- Templates -------------------------------------------------------------------------------
    CatalogueEntry(
        code=132000, name="Template parameter count mismatch", category=DEVELOPER, retryable=False,
        why="The number of parameters sent does not match the number of placeholders ({{1}}, {{2}} …) in the "
            "template.",
        fix=("Open the template and count its placeholders per component.", "Send exactly that many parameters."),
        prevention="Build template components from the synced template definition.",
        actions=("templates",),
        keywords=("template", "parameters", "placeholders"),
    ),
    CatalogueEntry(
        code=132001, name="Template does not exist", category=DEVELOPER, retryable=False,
        why="No approved template with this name exists in this language for the WABA (a typo, the wrong "
            "language code, a template of another WABA, or one not approved yet).",
        fix=("Sync templates and check the name and language code exactly.", "Use an APPROVED template."),
        prevention="Pick templates from the synced list instead of typing names.",
        actions=("templates",),
        keywords=("template", "translation", "language"),
    ),
    CatalogueEntry(
        code=132005, name="Translated text too long", category=DEVELOPER, retryable=False,
        why="After the parameters were filled in, the text exceeds the allowed length.",
        fix=("Shorten the parameter values.",),
        prevention="Limit parameter lengths in the form that fills them.",
        actions=("templates",),
        keywords=("too long", "length"),
    ),
    CatalogueEntry(
        code=132007, name="Template format character policy violated", category=DEVELOPER, retryable=False,
        why="The template content or a parameter value violates WhatsApp's formatting policy (for example new "
            "lines or too many consecutive spaces in a parameter).",
        fix=("Remove new lines, tabs and repeated spaces from parameter values.",),
        prevention="Sanitise parameter values before sending.",
        actions=("templates",),
        keywords=("format", "policy", "characters"),
    ),
    CatalogueEntry(
        code=132008, name="Template parameter value invalid", category=DEVELOPER, retryable=False,
        why="A parameter value is of the wrong type or empty.",
        fix=("Check each parameter matches its declared type (text, currency, date_time, media).",),
        prevention="Validate parameters against the template definition.",
        actions=("templates",),
        keywords=("parameter",),
    ),
    CatalogueEntry(
        code=132012, name="Template parameter format mismatch", category=DEVELOPER, retryable=False,
        why="A parameter is in a different format from the one the template declares (e.g. positional vs named, "
            "media header given as text).",
        fix=("Compare parameter_format (POSITIONAL/NAMED) and header format with what is sent.",),
        prevention="Build parameters from the synced template definition.",
        actions=("templates",),
        keywords=("format", "named", "positional"),
    ),
    CatalogueEntry(
        code=132015, name="Template paused", category=PLATFORM, retryable=False,
        why="Meta paused the template because of low quality (recipients blocked or reported it).",
        fix=("Use another approved template for now.", "Edit the template content and resubmit it."),
        prevention="Watch template quality_score and recipient feedback; avoid sending marketing to cold lists.",
        actions=("templates",),
        keywords=("paused", "quality"),
    ),
    CatalogueEntry(
        code=132016, name="Template disabled", category=PLATFORM, retryable=False,
        why="The template was paused too many times for low quality and is permanently disabled.",
        fix=("Create a new template with different content and submit it for approval.",),
        prevention="Act on the first pause: fix content and audience before it recurs.",
        actions=("templates",),
        keywords=("disabled", "quality"),
    ),
    # --- Rate limits and availability ----------------------------------------------------------
    CatalogueEntry(
        code=4, name="Application request limit reached", category=PLATFORM, retryable=True,
        why="Too many API calls across the whole app in a short time. Limits apply at several scopes at once; "
            "immediate retries from many workers make it worse.",
        fix=("Back off exponentially with jitter and honour Retry-After (wabadesk's client does).",
             "Spread bulk sends over time instead of bursts."),
        prevention="Throttle at the application layer (per-number rate in Accounts) and batch background jobs.",
        actions=("error_log",),
        keywords=("rate limit", "throttle", "too many"),
    ),
    CatalogueEntry(
        code=17, name="User request limit reached", category=PLATFORM, retryable=True,
        why="Too many calls made with one user token in a short window.",
        fix=("Back off with jitter and honour Retry-After.", "Use a System User token per integration."),
        prevention="Throttle calls per token; cache reads such as template lists.",
        actions=("error_log",),
        keywords=("rate limit", "user"),
    ),
    CatalogueEntry(
        code=32, name="Page/account request limit reached", category=PLATFORM, retryable=True,
        why="Too many calls against one account (the WABA-level limit in the error reference).",
        fix=("Back off with jitter and honour Retry-After.",),
        prevention="Throttle per WABA and avoid polling endpoints in tight loops.",
        actions=("error_log",),
        keywords=("rate limit", "waba"),
    ),
    CatalogueEntry(
        code=80007, name="WABA rate limit reached", category=PLATFORM, retryable=True,
        why="The WhatsApp Business Account hit its rate limit for management calls.",
        fix=("Back off and retry later (Retry-After when present).",),
        prevention="Reduce management calls (syncs, template listings) and spread them out.",
        actions=("error_log",),
        keywords=("rate limit", "waba"),
    ),
    CatalogueEntry(
        code=80008, name="WABA rate limit reached (messaging)", category=PLATFORM, retryable=True,
        why="Too many requests against this WhatsApp Business Account in a short time.",
        fix=("Back off and retry later.",),
        prevention="Throttle sends per WABA.",
        actions=("error_log",),
        keywords=("rate limit", "waba"),
    ),
    CatalogueEntry(
        code=130429, name="Cloud API throughput reached", category=PLATFORM, retryable=True,
        why="The phone number exceeded its messages-per-second throughput (80/s by default, up to 1,000 after "
            "an automatic upgrade; 20/s for numbers shared with the WhatsApp Business app). Inbound messages "
            "count too.",
        fix=("Retry after the delay (wabadesk's send queue does).", "Lower the per-number rate in Accounts."),
        prevention="Send through the queue at the number's configured rate.",
        actions=("phone_numbers", "error_log"),
        keywords=("throughput", "rate limit", "mps"),
    ),
    CatalogueEntry(
        code=131056, name="Pair rate limit (too many messages to one user)", category=PLATFORM, retryable=True,
        why="Too many messages from this business number to the same recipient in a short time.",
        fix=("Wait before messaging this recipient again; retry later, not immediately.",),
        prevention="Collapse repeated notifications to one user into one message.",
        actions=("contact",),
        keywords=("pair", "same user", "rate limit"),
    ),
    CatalogueEntry(
        code=131048, name="Spam rate limit hit", category=PLATFORM, retryable=False,
        why="Meta restricted how many messages this number may send because previous messages were blocked or "
            "reported as spam.",
        fix=("Check the quality rating and pause marketing sends.", "Review opt-in and message content."),
        prevention="Send only to opted-in contacts, with an opt-out path and relevant content.",
        actions=("phone_numbers", "contact", "templates"),
        keywords=("spam", "quality", "limit"),
    ),
    CatalogueEntry(
        code=131057, name="Account in maintenance mode", category=PLATFORM, retryable=True,
        why="The business account is in maintenance mode, e.g. during a throughput upgrade (up to a minute).",
        fix=("Retry after a short wait.",),
        prevention="Let the send queue retry with backoff.",
        actions=("error_log",),
        keywords=("maintenance", "throughput upgrade"),
    ),
    CatalogueEntry(
        code=131016, name="Service unavailable", category=PLATFORM, retryable=True,
        why="A WhatsApp service is temporarily unavailable.",
        fix=("Retry with backoff.", "Check Meta's platform status page if it lasts."),
        prevention="Queue sends and retry transient failures automatically.",
        actions=("error_log",),
        keywords=("unavailable", "outage"),
    ),
    CatalogueEntry(
        code=2, name="Temporary API service error", category=PLATFORM, retryable=True,
        why="Meta's API had a temporary problem or downtime.",
        fix=("Retry with backoff.", "Check Meta's platform status page."),
        prevention="Queue calls and retry transient failures automatically.",
        actions=("error_log",),
        keywords=("temporary", "downtime"),
    ),
    CatalogueEntry(
        code=131000, name="Something went wrong (generic send failure)", category=PLATFORM, retryable=True,
        why="A generic failure while sending. In wabadesk's public API, 131000 with HTTP 422 and "
            "error_data.reason = recipient_blacklisted means the recipient is on the tenant blacklist — final, "
            "not a retry target.",
        fix=("If error_data.reason is recipient_blacklisted: check the blacklist entry; do not retry.",
             "Otherwise retry once with backoff; if it persists, collect the fbtrace_id and build an escalation "
             "bundle."),
        prevention="Keep fbtrace_id of every failure (wabadesk's error log does).",
        actions=("blacklist", "error_log"),
        keywords=("generic", "unknown", "blacklist", "recipient_blacklisted"),
    ),
    CatalogueEntry(
        code=135000, name="Generic user error", category=DEVELOPER, retryable=False,
        why="Meta rejected the message for an unspecified reason in the request.",
        fix=("Rebuild the payload with the checklist and compare it with the API reference.",),
        prevention="Send through the validated send path.",
        actions=("checklist",),
        keywords=("generic",),
    ),
    CatalogueEntry(
        code=131005, name="Access denied", category=DEVELOPER, retryable=False,
        why="The token is not allowed to perform this action on this phone number (permission not granted or "
            "revoked).",
        fix=("Check the token's scopes and target IDs with /debug_token.", "Regenerate it with access to the WABA."),
        prevention="Re-run the checklist after any permission change.",
        actions=("rotate_token", "checklist"),
        keywords=("access denied", "permission"),
    ),
    CatalogueEntry(
        code=131052, name="Media download error", category=PLATFORM, retryable=True,
        why="The media sent by the user could not be downloaded.",
        fix=("Ask the user to send the media again.",),
        prevention="Download inbound media promptly.",
        keywords=("media",),
    ),
    CatalogueEntry(
        code=131053, name="Media upload error", category=DEVELOPER, retryable=False,
        why="The media to be sent could not be uploaded (unsupported type or size).",
        fix=("Check the media's MIME type and size against the Cloud API limits.",),
        prevention="Validate media before upload.",
        keywords=("media", "upload"),
    ),
)

_INDEX: dict[tuple[int, int | None], CatalogueEntry] = {(e.code, e.subcode): e for e in ENTRIES}
assert len(_INDEX) == len(ENTRIES), "duplicate catalogue entry"


def _as_int(value) -> int | None:
    if value is None or value == "":
        return None
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return None


def lookup(code, subcode=None) -> CatalogueEntry | None:
    """The entry for `code`/`subcode`; an unknown subcode falls back to the code's entry."""
    code, subcode = _as_int(code), _as_int(subcode)
    if code is None:
        return None
    if subcode is not None and (code, subcode) in _INDEX:
        return _INDEX[(code, subcode)]
    return _INDEX.get((code, None))


def subcodes_of(code: int) -> list[CatalogueEntry]:
    return [e for e in ENTRIES if e.code == code and e.subcode is not None]


def search(query: str = "", category: str = "") -> list[CatalogueEntry]:
    """Entries matching every word of `query` (code, name, text), by category then code."""
    q = query.strip()
    if q.replace("/", "").isdigit():
        # A number is a code or subcode, not a word to find in the prose ("463" is in 190's text too).
        matches = lambda e: q in (e.key, str(e.code), str(e.subcode))  # noqa: E731
    else:
        matches = lambda e: e.matches(q)  # noqa: E731
    found = [e for e in ENTRIES if matches(e) and (not category or e.category == category)]
    return sorted(found, key=lambda e: (e.category, e.code, e.subcode or 0))
