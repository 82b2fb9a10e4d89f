"""Reads of the public API."""

from __future__ import annotations

from accounts.validators import digits_only
from messaging.api.models import ApiKey


def api_key_list():
    return ApiKey.objects.select_related("created_by", "revoked_by")


def message_for_public_id(public_id: str, api_key: ApiKey):
    """A message by the id the API gave out (Meta's wamid, or ours: "wbd.<n>"), if `api_key` sent it.
    Any other message (another key's, a dashboard reply, a broadcast) is as unknown as a wrong id."""
    from messaging.models import Message

    messages = Message.objects.filter(api_key=api_key).select_related("phone_number")

    if public_id.startswith("wbd."):
        number = public_id[4:]
        if not digits_only(number) or len(number) > 18:
            return None
        return messages.filter(pk=int(number)).first()
    if len(public_id) > 128:
        return None
    return messages.filter(wamid=public_id).first()


def message_status_body(message_row) -> dict:
    """GET /messages/{id}: where the message is now (our statuses, Meta's error when it failed)."""
    body = {
        "messaging_product": "whatsapp",
        "id": f"wbd.{message_row.pk}",
        "wamid": message_row.wamid,
        "status": message_row.status,
        "to": message_row.to,
        "phone_number_id": message_row.phone_number.phone_number_id,
        "type": message_row.kind,
        "attempts": message_row.attempts,
        "created_at": message_row.created_at.isoformat(),
        "updated_at": message_row.updated_at.isoformat(),
    }
    if message_row.error_code is not None or message_row.status == "failed":
        body["error"] = {"code": message_row.error_code, "error_subcode": message_row.error_subcode,
                         "message": message_row.error_message, "fbtrace_id": message_row.fbtrace_id}
    return body
