"""Reads of the public API."""

from __future__ import annotations

from messaging.api.models import ApiKey


def api_key_list():
    return ApiKey.objects.select_related("created_by", "revoked_by")


def message_for_public_id(public_id: str):
    """A message by the id the API gave out: Meta's wamid, or ours ("wbd.<n>")."""
    from messaging.models import Message

    if public_id.startswith("wbd."):
        number = public_id[4:]
        if not number.isdigit() or len(number) > 18:
            return None
        return Message.objects.filter(pk=int(number)).select_related("phone_number").first()
    if len(public_id) > 128:
        return None
    return Message.objects.filter(wamid=public_id).select_related("phone_number").first()


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
