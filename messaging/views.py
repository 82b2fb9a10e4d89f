import uuid

from django.contrib import messages as flash
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from accounts import roles
from accounts.decorators import require
from accounts.graph import GraphAPIError
from consent.selectors import contact_filter
from messaging import selectors, services
from messaging.forms import (
    BlacklistAddForm,
    BlacklistReasonForm,
    BroadcastForm,
    ComposeForm,
    MessageFilterForm,
    TemplateFilterForm,
    parameter_lines,
)
from messaging.models import BlacklistChange, BlacklistEntry, Broadcast, Template


def _page(request, queryset, per_page=50):
    return Paginator(queryset, per_page).get_page(request.GET.get("page"))


# --- Templates ------------------------------------------------------------------------------------
@require(roles.BROWSE)
def template_list(request):
    form = TemplateFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    templates = selectors.template_search(**{k: v for k, v in filters.items() if v})
    template = "messaging/template_list.html"
    if request.htmx:
        template += "#results"
    return render(request, template, {"form": form, "page_obj": _page(request, templates),
                                      "total": Template.objects.count()})


@require(roles.OPERATE)
@require_POST
def template_sync(request):
    from accounts.models import WABA
    from accounts.selectors import NoActiveToken

    for waba in WABA.objects.all():
        try:
            result = services.template_sync(waba)
        except NoActiveToken:
            flash.error(request, f"WABA {waba.waba_id}: no valid active token, templates not synced.")
        except GraphAPIError as error:
            flash.error(request, f"WABA {waba.waba_id}: sync failed — {error}")
        else:
            flash.success(request, f"WABA {waba.waba_id}: templates synced ({result}).")
    if request.htmx:
        return HttpResponseClientRedirect(request.META.get("HTTP_HX_CURRENT_URL") or "")
    return redirect("messaging:template_list")


@require(roles.BROWSE)
def template_detail(request, pk):
    template = get_object_or_404(Template, pk=pk)
    components = [{**c, "pieces": template.render_component(c)} for c in template.components]
    return render(request, "messaging/template_detail.html", {
        "template": template, "components": components, "marketing_words": template.marketing_words(),
    })


# --- Blacklist ------------------------------------------------------------------------------------
@require(roles.BROWSE)
@require_http_methods(["GET", "POST"])
def blacklist(request):
    form = BlacklistAddForm()
    result = None
    if request.method == "POST":
        if not request.user.has_perm(roles.perm(roles.OPERATE)):
            return HttpResponse("Your role does not allow editing the blacklist.", status=403)
        form = BlacklistAddForm(request.POST)
        if form.is_valid():
            result = services.blacklist_add_many(form.cleaned_data["numbers"], form.cleaned_data["reason"],
                                                 request.user)
            if not result.errors:
                form = BlacklistAddForm()
            else:
                # Keep only the refused lines in the box so they can be fixed and sent again.
                form = BlacklistAddForm(initial={"numbers": "\n".join(line for _, line, _ in result.errors),
                                                 "reason": form.cleaned_data["reason"]})
    q = request.GET.get("q", "")
    template = "messaging/blacklist.html"
    if request.htmx and request.method == "GET":
        template += "#entries"
    return render(request, template, {
        "form": form, "result": result, "q": q, "page_obj": _page(request, selectors.blacklist_search(q)),
        "history": BlacklistChange.objects.select_related("by")[:20],
    })


@require(roles.OPERATE)
@require_http_methods(["GET", "POST"])
def blacklist_edit(request, pk):
    entry = get_object_or_404(BlacklistEntry, pk=pk)
    if request.method == "POST":
        form = BlacklistReasonForm(request.POST, instance=entry)
        if form.is_valid():
            services.blacklist_reason_update(BlacklistEntry.objects.get(pk=pk), form.cleaned_data["reason"],
                                             request.user)
            return render(request, "messaging/blacklist.html#entry-row", {"entry": BlacklistEntry.objects.get(pk=pk)})
    else:
        form = BlacklistReasonForm(instance=entry)
    if request.GET.get("cancel"):
        return render(request, "messaging/blacklist.html#entry-row", {"entry": entry})
    return render(request, "messaging/blacklist.html#entry-edit", {"entry": entry, "form": form})


@require(roles.OPERATE)
@require_POST
def blacklist_remove(request, pk):
    entry = get_object_or_404(BlacklistEntry, pk=pk)
    phone = entry.phone
    services.blacklist_remove(entry, request.user)
    if request.htmx:
        return HttpResponse("")
    flash.success(request, f"{phone} removed from the blacklist.")
    return redirect("messaging:blacklist")


# --- Messages -------------------------------------------------------------------------------------
@require(roles.BROWSE)
def message_list(request):
    from consent.models import Contact

    form = MessageFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    contact = None
    if request.GET.get("contact"):
        contact = get_object_or_404(Contact, pk=request.GET["contact"])
    found = selectors.message_search(status=filters.get("status") or "", q=filters.get("q") or "",
                                     error_code=filters.get("error_code") if filters.get("error_code") is not None else "",
                                     contact=contact)
    template = "messaging/message_list.html"
    if request.htmx:
        template += "#results"
    return render(request, template, {"form": form, "contact": contact, "page_obj": _page(request, found),
                                      "error_codes": selectors.message_error_codes()})


@require(roles.OPERATE)
@require_http_methods(["GET", "POST"])
def compose(request):
    """Reply to one contact. The window decides what is offered: text while it is open, templates
    only once it has closed (and the send path refuses free-form anyway)."""
    from consent.models import Contact
    from consent.validators import validate_e164

    data = request.POST if request.method == "POST" else None
    to = (request.POST.get("to") or request.GET.get("to") or "").strip()
    contact = None
    if to:
        try:
            contact = Contact.objects.filter(phone=validate_e164(to)).first()
        except ValidationError:
            contact = None
    window = contact.window() if contact else None
    window_open = bool(window and window.is_open)
    form = ComposeForm(data, window_open=window_open, initial={"to": to})
    idempotency_key = request.POST.get("idempotency_key") or uuid.uuid4().hex
    if data is not None and form.is_valid():
        tpl = form.cleaned_data.get("template")
        try:
            message = services.message_send(
                phone_number_id=form.cleaned_data["phone_number_id"], to=form.cleaned_data["to"],
                text=None if tpl else form.cleaned_data.get("text"), template=tpl,
                components=services.template_components(parameter_lines(form.cleaned_data.get("parameters"))) if tpl else None,
                idempotency_key=idempotency_key, sender=request.user, source="dashboard",
            )
        except services.SendRefused as refused:
            form.add_error(None, f"Not sent: {refused.message}")
            if refused.reason == "idempotency_key_reused":
                # This form already sent another message (Back, edit, Send). Now that the person has
                # read that, the next Send is a new message.
                idempotency_key = uuid.uuid4().hex
        else:
            flash.success(request, f"Message to {message.to} queued ({message.status}).")
            url = f"{_message_list_url()}?contact={message.contact_id}" if message.contact_id else _message_list_url()
            return redirect(url)
    return render(request, "messaging/compose.html", {
        "form": form, "contact": contact, "window": window, "window_open": window_open,
        "idempotency_key": idempotency_key,
    })


def _message_list_url():
    from django.urls import reverse

    return reverse("messaging:message_list")


# --- Broadcasts -----------------------------------------------------------------------------------
@require(roles.BROWSE)
def broadcast_list(request):
    return render(request, "messaging/broadcast_list.html",
                  {"broadcasts": Broadcast.objects.select_related("template", "created_by")[:100]})


@require(roles.OPERATE)
@require_http_methods(["GET", "POST"])
def broadcast_new(request):
    from accounts.models import PhoneNumber

    form = BroadcastForm(request.POST or None)
    preview = None
    if request.method == "POST" and form.is_valid():
        contacts = contact_filter(**form.segment())
        preview = selectors.broadcast_preview(contacts)
        if request.POST.get("action") == "start":
            phone = get_object_or_404(PhoneNumber, phone_number_id=form.cleaned_data["phone_number_id"])
            try:
                broadcast = services.broadcast_start(
                    template=form.cleaned_data["template"], phone_number=phone, contacts=contacts,
                    segment=form.segment(), parameters=parameter_lines(form.cleaned_data["parameters"]),
                    by=request.user)
            except services.SendRefused as refused:
                form.add_error("template", refused.message)
            else:
                return redirect("messaging:broadcast_detail", pk=broadcast.pk)
    template = "messaging/broadcast_new.html"
    if request.htmx and request.POST.get("action") != "start":
        template += "#preview"
    return render(request, template, {"form": form, "preview": preview})


@require(roles.BROWSE)
def broadcast_detail(request, pk):
    broadcast = get_object_or_404(Broadcast.objects.select_related("template", "phone_number"), pk=pk)
    progress = selectors.broadcast_progress(broadcast)
    template = "messaging/broadcast_detail.html"
    if request.htmx:
        template += "#progress"
    recipients = broadcast.recipients.select_related("message").order_by("id")
    return render(request, template, {"broadcast": broadcast, "progress": progress,
                                      "page_obj": _page(request, recipients, 100)})


@require(roles.OPERATE)
@require_POST
def broadcast_cancel(request, pk):
    broadcast = get_object_or_404(Broadcast, pk=pk)
    stopped = services.broadcast_cancel(broadcast)
    flash.success(request, f"Broadcast cancelled: {stopped} recipients were not sent.")
    return redirect("messaging:broadcast_detail", pk=pk)
