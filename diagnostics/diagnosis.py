"""Paste an error → the diagnosis. Pure functions over text; nothing here touches the database.

Accepted input, because support staff paste whatever they have at hand:
- a Graph error body `{"error": {...}}` (or just the inner object),
- a webhook status with `errors[]`, a webhook `value`, or a whole webhook delivery,
- `/debug_token` output whose `data.error` carries `subcode` instead of `error_subcode`,
- a bare code such as `131047` or `190/463`.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from diagnostics.catalogue import CatalogueEntry, _as_int, lookup, subcodes_of

MAX_INPUT_CHARS = 200_000
_BARE_CODE_RE = re.compile(r"^\s*#?(\d{1,7})(?:\s*[/ ,.:-]\s*(\d{1,7}))?\s*$")


class DiagnosisInputError(ValueError):
    """The input can't be read as an error; the message says what to paste instead."""


@dataclass
class ReportedError:
    code: int | None
    subcode: int | None = None
    message: str = ""
    title: str = ""
    type: str = ""
    details: str = ""
    fbtrace_id: str = ""
    href: str = ""
    recipient_id: str = ""
    source: str = "graph"  # "graph" (a response body) or "webhook" (statuses[].errors[])


@dataclass
class Diagnosis:
    reported: ReportedError
    entry: CatalogueEntry | None
    # "exact": the subcode's own entry; "code": the code's entry (no or unknown subcode); "": unknown code
    match: str = ""
    subcode_meaning: str = ""
    known_subcodes: list[CatalogueEntry] = field(default_factory=list)

    @property
    def found(self) -> bool:
        return self.entry is not None


def diagnose(code, subcode=None, **reported) -> Diagnosis:
    """The catalogue's answer for one error, with what its subcode means."""
    error = ReportedError(code=_as_int(code), subcode=_as_int(subcode), **reported)
    entry = lookup(error.code, error.subcode)
    if entry is None:
        return Diagnosis(reported=error, entry=None)
    known = subcodes_of(entry.code)
    if error.subcode is not None and entry.subcode == error.subcode:
        return Diagnosis(error, entry, "exact", entry.subcode_meaning, known)
    if error.subcode is not None:
        meaning = (f"Subcode {error.subcode} is not in wabadesk's catalogue; the explanation of code "
                   f"{entry.code} applies. Keep the fbtrace_id if you escalate.")
    else:
        meaning = entry.subcode_meaning or "No subcode was given."
    return Diagnosis(error, entry, "code", meaning, known)


def parse_pasted(text: str) -> list[ReportedError]:
    """Every error found in pasted text. Raises DiagnosisInputError with a specific reason."""
    text = (text or "").strip()
    if not text:
        raise DiagnosisInputError("Paste a Graph API error body (JSON) or type an error code.")
    if len(text) > MAX_INPUT_CHARS:
        raise DiagnosisInputError(f"That is {len(text):,} characters; paste only the error body (under "
                                  f"{MAX_INPUT_CHARS:,}).")
    bare = _BARE_CODE_RE.match(text)
    if bare:
        return [ReportedError(code=int(bare.group(1)), subcode=_as_int(bare.group(2)))]
    try:
        data = json.loads(text)
        found: list[ReportedError] = []
        _collect(data, found, recipient_id="")
    except RecursionError:
        raise DiagnosisInputError("The JSON is nested too deeply to be an error body; paste only the error.") from None
    except json.JSONDecodeError as exc:
        raise DiagnosisInputError(
            f"This is not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno}). Paste the whole body "
            "starting with “{”, or type just the code and subcode."
        ) from None
    if not found:
        raise DiagnosisInputError(
            "The JSON is valid but contains no error: expected {\"error\": {\"code\": …}} from a Graph response or "
            "\"errors\": [{\"code\": …}] from a webhook status."
        )
    return found


def _looks_like_error(obj: dict) -> bool:
    return "code" in obj and any(k in obj for k in ("message", "title", "error_subcode", "subcode", "type",
                                                    "fbtrace_id", "error_data"))


def _collect(obj, found: list[ReportedError], recipient_id: str, source: str = "graph") -> None:
    if isinstance(obj, list):
        for item in obj:
            _collect(item, found, recipient_id, source)
        return
    if not isinstance(obj, dict):
        return
    recipient_id = str(obj.get("recipient_id") or recipient_id)
    if _looks_like_error(obj):
        found.append(_reported(obj, recipient_id, source))
        return
    for key, value in obj.items():
        # A status's errors[] (webhooks) is the other shape Meta reports failures in.
        _collect(value, found, recipient_id, "webhook" if key == "errors" else source)


def _reported(error: dict, recipient_id: str, source: str) -> ReportedError:
    data = error.get("error_data") if isinstance(error.get("error_data"), dict) else {}
    return ReportedError(
        code=_as_int(error.get("code")),
        subcode=_as_int(error.get("error_subcode", error.get("subcode"))),
        message=str(error.get("message") or error.get("error_user_msg") or ""),
        title=str(error.get("title") or error.get("error_user_title") or ""),
        type=str(error.get("type") or ""),
        details=str(data.get("details") or data.get("reason") or ""),
        fbtrace_id=str(error.get("fbtrace_id") or ""),
        href=str(error.get("href") or ""),
        recipient_id=recipient_id,
        source=source,
    )
