"""Facts about Meta's tokens and numbers that wabadesk's rules rely on (kept in one place).

Sources: /work/shared/reference/graph-api-error-reference.txt and graph-api-facts.md.
"""

MESSAGING_SCOPE = "whatsapp_business_messaging"
MANAGEMENT_SCOPE = "whatsapp_business_management"
REQUIRED_SCOPES = (MESSAGING_SCOPE, MANAGEMENT_SCOPE)

SUBCODE_MEANINGS = {
    460: "the session was invalidated: the user changed their password (or Meta reset the session)",
    463: "the token has expired",
    467: "the session is invalid: the user logged out or the token was revoked",
}

APP_REVIEW_HINT = (
    "App Review approval does not add scopes to existing tokens: generate a new token after approval "
    "and select both whatsapp_business_messaging and whatsapp_business_management."
)
SYSTEM_USER_FIX = (
    "A user token expires (error 190/463) and stops every send. Use a System User token: Business "
    "Settings → System Users → assign the WABA → Generate token; it does not expire."
)

# Messaging limit tiers, lowest first (TIER_50/TIER_1K are older names still returned).
TIER_ORDER = ["TIER_50", "TIER_250", "TIER_1K", "TIER_2K", "TIER_10K", "TIER_100K", "TIER_UNLIMITED"]


def tier_rank(tier: str) -> int:
    """-1 for an unknown or empty tier, so it never counts as 'lowered'."""
    return TIER_ORDER.index(tier) if tier in TIER_ORDER else -1


def describe_190(subcode: int | None) -> str:
    meaning = SUBCODE_MEANINGS.get(subcode) if subcode else None
    if meaning:
        return f"invalid token (190/{subcode}: {meaning})"
    return "invalid token (190: not accepted by Meta — revoked, for another app, or malformed)"
