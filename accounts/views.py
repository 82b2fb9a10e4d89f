from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count, Prefetch
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST
from django_htmx.http import HttpResponseClientRedirect

from accounts import roles, selectors, services
from accounts.decorators import require
from accounts.graph import GraphAPIError
from accounts.models import WABA, AccessToken, Alert, PhoneNumber, RotationAudit


def home(request):
    if request.user.has_perm(roles.perm(roles.BROWSE)):
        return redirect("consent:contact_list")
    return render(request, "home.html")


def _waba_cards(wabas):
    return [{"waba": waba, "health": selectors.waba_token_health(waba)} for waba in wabas]


def _wabas():
    return WABA.objects.select_related("app").prefetch_related(
        Prefetch("phone_numbers", queryset=PhoneNumber.objects.order_by("display_phone_number")))


@require(roles.MANAGE_CREDENTIALS)
def overview(request):
    context = {"cards": _waba_cards(_wabas()), "open_alerts": selectors.alerts_unresolved().count()}
    return render(request, "accounts/overview.html", context)


@require(roles.MANAGE_CREDENTIALS)
def token_health(request):
    context = {
        "cards": _waba_cards(_wabas()),
        "tokens": AccessToken.objects.select_related("waba").exclude(activated_at=None)[:100],
        "audits": RotationAudit.objects.select_related("waba", "actor")[:50],
    }
    return render(request, "accounts/token_health.html", context)


@require(roles.MANAGE_CREDENTIALS)
@require_POST
def token_check_now(request, waba_id):
    """Re-run /debug_token for the WABA's active token now (instead of waiting for the hourly job)."""
    waba = get_object_or_404(WABA.objects.select_related("app"), waba_id=waba_id)
    token = selectors.waba_active_token(waba)
    if token is not None:
        services.token_validate(token.pk)
    card = {"waba": waba, "health": selectors.waba_token_health(waba)}
    if request.htmx:
        return render(request, "accounts/overview.html#waba_card", {"card": card, "checked": True})
    messages.success(request, f"Token of {waba} checked.")
    return redirect("accounts:overview")


@require(roles.MANAGE_CREDENTIALS)
def token_rotate(request, waba_id):
    """Two steps on one URL: step=check (paste → /debug_token → facts) and step=confirm."""
    waba = get_object_or_404(WABA.objects.select_related("app"), waba_id=waba_id)
    context = {"waba": waba, "current": selectors.waba_active_token(waba)}
    if request.method == "POST" and request.POST.get("step") == "confirm":
        try:
            new = services.token_rotate(waba, request.POST.get("pending"), request.user)
        except services.RotationRefused as refused:
            context.update(refused=refused.reasons, check=refused.check)
        else:
            messages.success(request, f"Token {new.masked} is now active for {waba}; the old token was retired.")
            if request.htmx:
                return HttpResponseClientRedirect(reverse("accounts:overview"))
            return redirect("accounts:overview")
    elif request.method == "POST":
        try:
            check, pending = services.token_rotation_prepare(waba, request.POST.get("token", ""), request.user)
        except ValidationError as error:
            context["form_error"] = " ".join(error.messages)
        else:
            context.update(check=check, pending=pending)
    template = "accounts/token_rotate.html"
    if request.htmx:
        template += "#rotation"
    return render(request, template, context)


@require(roles.MANAGE_CREDENTIALS)
def phone_list(request):
    numbers = PhoneNumber.objects.select_related("waba").prefetch_related("history")
    wabas = WABA.objects.all()
    return render(request, "accounts/phone_list.html", {"numbers": numbers, "wabas": wabas})


@require(roles.MANAGE_CREDENTIALS)
def phone_detail(request, phone_number_id):
    phone = get_object_or_404(PhoneNumber.objects.select_related("waba"), phone_number_id=phone_number_id)
    return render(request, "accounts/phone_detail.html", {
        "phone": phone, "history": phone.history.all()[:200], "alerts": phone.alerts.all()[:50]})


@require(roles.MANAGE_CREDENTIALS)
@require_POST
def phone_sync(request, waba_id):
    waba = get_object_or_404(WABA.objects.select_related("app"), waba_id=waba_id)
    try:
        result = services.phone_numbers_sync(waba)
    except selectors.NoActiveToken as error:
        messages.error(request, str(error))
    except GraphAPIError as error:
        messages.error(request, f"Sync of {waba} failed: {error}")
    else:
        messages.success(request, f"Phone numbers of {waba} synced: {result}.")
    return redirect("accounts:phone_list")


@require(roles.RUN_DIAGNOSTICS)
def identify(request):
    result = None
    value = request.POST.get("id", request.GET.get("id", "")).strip()
    if value:
        result = services.id_identify(value)
    template = "accounts/identify.html"
    if request.htmx:
        template += "#result"
    return render(request, template, {"value": value, "result": result})


ALERT_TABS = [("open", "Open"), ("acknowledged", "Acknowledged"), ("resolved", "Resolved")]


@require(roles.BROWSE)
def alert_list(request):
    status = request.GET.get("status", "open")
    if status not in dict(ALERT_TABS):
        status = "open"
    alerts = Alert.objects.filter(status=status).select_related("waba", "phone_number", "acknowledged_by")[:200]
    can_ack = request.user.has_perm(roles.perm(roles.OPERATE))
    return render(request, "accounts/alert_list.html",
                  {"alerts": alerts, "status": status, "tabs": _alert_tabs(), "can_ack": can_ack})


def _alert_tabs():
    counts = dict(Alert.objects.values_list("status").annotate(n=Count("id")))
    return [(s, label, counts.get(s, 0)) for s, label in ALERT_TABS]


@require(roles.OPERATE)
@require_POST
def alert_acknowledge(request, pk):
    alert = services.alert_acknowledge(pk, request.user)
    if alert is None:
        return render(request, "404.html", status=404)
    if request.htmx:
        # The row in place, and the tab counts out of band.
        return render(request, "accounts/alert_list.html#acknowledged",
                      {"alert": alert, "can_ack": True, "tabs": _alert_tabs(), "status": "open", "oob": True})
    messages.success(request, f"Alert acknowledged: {alert.title}")
    return redirect(f"{reverse('accounts:alert_list')}?status=acknowledged")
