import csv
import hmac
import json

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpResponse, HttpResponseForbidden, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts import roles
from accounts.decorators import require
from consent import selectors, services
from consent.forms import ContactFilterForm, ConsentForm, ImportForm
from consent.models import Contact, ImportJob
from consent.validators import e164_plausibility_note


@require_GET
@require(roles.BROWSE)
def contact_list(request):
    form = ContactFilterForm(request.GET)
    filters = form.filters()
    page = selectors.contact_page(selectors.contact_filter(**filters), sort=form.sort_value(),
                                  after=request.GET.get("after", ""), before=request.GET.get("before", ""))
    query = {k: v for k, v in filters.items() if v}
    if page.sort != "newest":
        query["sort"] = page.sort
    context = {
        "form": form, "page": page, "now": timezone.now(), "query": query,
        # An estimate of the whole table only: counting a filtered million-row set on each keystroke is
        # exactly the full scan this page avoids.
        "estimate": None if any(filters.values()) else selectors.contact_count_estimate(),
    }
    template = "consent/contact_list.html"
    if request.htmx and request.htmx.target == "results":
        template += "#results"
    return render(request, template, context)


class _Echo:
    def write(self, value):
        return value


@require_GET
@require(roles.BROWSE)
def contact_export(request):
    """The current filtered view as CSV, streamed row by row (no file or list in memory)."""
    filters = ContactFilterForm(request.GET).filters()
    writer = csv.writer(_Echo())
    rows = selectors.contact_export_rows(selectors.contact_filter(**filters))
    response = StreamingHttpResponse((writer.writerow(row) for row in rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="contacts-{timezone.now():%Y%m%d-%H%M}.csv"'
    return response


def _contact_context(contact, form=None):
    from messaging.selectors import blacklist_contains, message_search

    messages_qs = message_search(contact=contact)
    return {
        "contact": contact, "window": contact.window(), "can_send": selectors.contact_can_send(contact),
        "events": selectors.consent_timeline(contact), "plausibility": e164_plausibility_note(contact.phone),
        "blacklisted": blacklist_contains(contact.phone), "form": form or ConsentForm(),
        "recent_messages": messages_qs[:20], "failed_messages": messages_qs.filter(status="failed")[:20],
    }


@require_GET
@require(roles.BROWSE)
def contact_detail(request, pk):
    contact = get_object_or_404(Contact, pk=pk)
    return render(request, "consent/contact_detail.html", _contact_context(contact))


@require_POST
@require(roles.OPERATE)
def contact_consent(request, pk):
    contact = get_object_or_404(Contact, pk=pk)
    form = ConsentForm(request.POST)
    if form.is_valid():
        try:
            services.consent_record(contact, form.cleaned_data["kind"], form.cleaned_data["channel"], request.user,
                                   note=form.cleaned_data["note"], occurred_at=form.cleaned_data["occurred_at"])
        except ValidationError as error:
            form.add_error(None, error)
        else:
            if not request.htmx:  # an htmx swap shows the new state and history itself
                messages.success(request, f"{'Opt-in' if form.cleaned_data['kind'] == 'opt_in' else 'Opt-out'} recorded.")
            form = None
    if form is None and not request.htmx:
        return redirect("consent:contact_detail", pk=contact.pk)
    if request.htmx:  # htmx swaps 2xx only: a refused form comes back as 200 with its errors in place
        return render(request, "consent/contact_detail.html#consent", _contact_context(contact, form))
    return render(request, "consent/contact_detail.html", _contact_context(contact, form), status=422)


@require_http_methods(["GET", "POST"])
@require(roles.OPERATE)
def import_new(request):
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            job = services.contact_import_create(form.cleaned_data["file"], by=request.user)
        except services.ImportRefused as refusal:
            form.add_error("file", str(refusal))
        else:
            return redirect("consent:import_detail", pk=job.pk)
    return render(request, "consent/import.html", {
        "form": form, "jobs": ImportJob.objects.select_related("created_by")[:10],
        "max_mb": services.import_max_bytes() // (1024 * 1024), "columns": services.COLUMNS,
    })


@require_GET
@require(roles.OPERATE)
def import_detail(request, pk):
    job = get_object_or_404(ImportJob, pk=pk)
    template = "consent/import_detail.html"
    if request.htmx:
        template += "#progress"
    return render(request, template, {"job": job})


@require_GET
@require(roles.OPERATE)
def import_errors(request, pk):
    job = get_object_or_404(ImportJob, pk=pk)
    if not job.errors_file:
        raise Http404("This import has no invalid rows.")
    return FileResponse(job.errors_file.open("rb"), as_attachment=True,
                        filename=f"import-{job.pk}-invalid-rows.csv", content_type="text/csv")


@csrf_exempt  # Meta cannot send our CSRF token; every POST is authenticated by its HMAC signature instead
@login_not_required
@require_http_methods(["GET", "POST"])
def whatsapp_webhook(request):
    if request.method == "GET":
        expected = settings.WEBHOOK_VERIFY_TOKEN
        token = request.GET.get("hub.verify_token", "")
        if (request.GET.get("hub.mode") == "subscribe" and expected
                and hmac.compare_digest(token.encode(), expected.encode())):
            return HttpResponse(request.GET.get("hub.challenge", ""), content_type="text/plain")
        return HttpResponseForbidden("Verification failed: wrong hub.verify_token or hub.mode.",
                                     content_type="text/plain")
    body = request.body  # the raw bytes: re-serialised JSON would not match the signature
    if not services.webhook_signature_valid(body, request.headers.get("X-Hub-Signature-256")):
        return HttpResponseForbidden("Invalid or missing X-Hub-Signature-256.", content_type="text/plain")
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return HttpResponse("Body is not JSON.", status=400, content_type="text/plain")
    if not isinstance(payload, dict):
        return HttpResponse("Body is not a JSON object.", status=400, content_type="text/plain")
    services.webhook_process(payload)
    return HttpResponse("EVENT_RECEIVED", content_type="text/plain")
