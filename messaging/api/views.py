"""Dashboard pages for API keys (admins only). The public API itself is messaging.api.public."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_http_methods, require_POST

from accounts import roles
from accounts.decorators import require
from messaging.api import selectors, services
from messaging.api.forms import ApiKeyForm
from messaging.api.models import ApiKey
from messaging.api.openapi import ERROR_REASONS


@require(roles.MANAGE_CREDENTIALS)
@require_http_methods(["GET", "POST"])
def key_list(request):
    template = "api/key_list.html"
    form = ApiKeyForm(request.POST or None)
    created_key = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        api_key, created_key = services.api_key_create(
            name=data["name"], scopes=data["scopes"], allowed_ips=data["allowed_ips"],
            rate_limit_per_minute=data["rate_limit_per_minute"], require_signature=data["require_signature"],
            expires_at=data["expires_at"], created_by=request.user)
        form = ApiKeyForm()
    if request.htmx:
        template += "#keys"
    return render(request, template, {"form": form, "keys": selectors.api_key_list(), "created_key": created_key,
                                      "error_reasons": ERROR_REASONS})


@require(roles.MANAGE_CREDENTIALS)
@require_POST
def key_revoke(request, pk):
    api_key = get_object_or_404(ApiKey, pk=pk)
    if services.api_key_revoke(api_key, by=request.user):
        messages.success(request, f"Key {api_key.prefix}… revoked: requests with it now get 190/401.")
    template = "api/key_list.html"
    if request.htmx:
        template += "#keys"
    return render(request, template, {"form": ApiKeyForm(), "keys": selectors.api_key_list(),
                                      "error_reasons": ERROR_REASONS})


@require(roles.MANAGE_CREDENTIALS)
def docs(request):
    return render(request, "api/docs.html", {"error_reasons": ERROR_REASONS})
