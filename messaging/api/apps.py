from django.apps import AppConfig


class PublicApiConfig(AppConfig):
    """The public send API (API keys, Graph-shaped errors, idempotency): part of messaging."""

    name = "messaging.api"
    label = "publicapi"
