import json

from django.conf import settings
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts import roles
from accounts.decorators import require
from diagnostics import catalogue, selectors, services
from diagnostics.checklist import CHECKS, STATUS_LABELS
from diagnostics.diagnosis import DiagnosisInputError, diagnose, parse_pasted
from diagnostics.forms import ChecklistForm, PasteErrorForm
from diagnostics.models import ChecklistRun, EscalationBundle, GraphErrorEvent


def action_links(keys, recipient: str = "") -> list[dict]:
    """Catalogue action keys → links into wabadesk (the contact list is searched for the recipient)."""
    links = []
    for key in keys:
        action = catalogue.ACTIONS.get(key)
        if action is None:
            continue
        try:
            url = reverse(action.url_name)
        except NoReverseMatch:
            continue
        if key == "contact" and recipient:
            url += "?" + urlencode({"q": recipient})
        links.append({"label": action.label, "url": url})
    return links


@require(roles.RUN_DIAGNOSTICS)
@require_GET
def home(request):
    return render(request, "diagnostics/home.html", {
        "groups": selectors.error_groups("24h")[:8],
        "runs": selectors.recent_runs(8),
        "bundles": EscalationBundle.objects.select_related("created_by")[:5],
    })


@require(roles.RUN_DIAGNOSTICS)
@require_GET
def catalogue_list(request):
    q, category = request.GET.get("q", "")[:100], request.GET.get("category", "")
    entries = catalogue.search(q, category if category in catalogue.CATEGORY_LABELS else "")
    template = "diagnostics/catalogue.html"
    if request.htmx:
        template += "#results"
    return render(request, template, {"entries": entries, "q": q, "category": category,
                                      "categories": catalogue.CATEGORY_LABELS, "total": len(catalogue.ENTRIES)})


@require(roles.RUN_DIAGNOSTICS)
@require_http_methods(["GET", "POST"])
def diagnose_view(request):
    """Paste an error (POST) or follow a link with ?code=&subcode= (message log, error log)."""
    diagnoses, problem = [], ""
    if request.method == "POST":
        form = PasteErrorForm(request.POST)
        if form.is_valid():
            body = (form.cleaned_data["body"] or "").strip()
            if body:
                try:
                    diagnoses = [diagnose(r.code, r.subcode, **_reported_fields(r)) for r in parse_pasted(body)]
                except DiagnosisInputError as exc:
                    problem = str(exc)
            else:
                diagnoses = [diagnose(form.cleaned_data["code"], form.cleaned_data["subcode"])]
    else:
        form = PasteErrorForm(initial={"code": request.GET.get("code"), "subcode": request.GET.get("subcode")})
        if request.GET.get("code"):
            code, subcode = request.GET.get("code"), request.GET.get("subcode")
            if catalogue._as_int(code) is None or (subcode and catalogue._as_int(subcode) is None):
                problem = "The code and subcode must be numbers, e.g. ?code=190&subcode=463."
            else:
                diagnoses = [diagnose(code, subcode)]
    results = [{"d": d, "links": action_links(d.entry.actions if d.entry else (), d.reported.recipient_id and
                                               "+" + d.reported.recipient_id.lstrip("+"))} for d in diagnoses]
    template = "diagnostics/diagnose.html"
    if request.htmx and request.method == "POST":
        template += "#result"
    return render(request, template, {"form": form, "results": results, "problem": problem})


def _reported_fields(r) -> dict:
    return {k: getattr(r, k) for k in ("message", "title", "type", "details", "fbtrace_id", "href", "recipient_id",
                                       "source")}


# --- Checklist -------------------------------------------------------------------------------------
def _checklist_choices(waba_id: str = ""):
    from accounts.models import WABA, PhoneNumber
    from consent.models import Contact
    from messaging.models import Template

    wabas = list(WABA.objects.order_by("name"))
    numbers = PhoneNumber.objects.select_related("waba").order_by("display_phone_number")
    templates = Template.objects.order_by("name", "language")
    if waba_id:
        templates = templates.filter(waba_id=waba_id)
    # Suggestions for the recipient field: the contacts who wrote most recently.
    contacts = Contact.objects.exclude(last_inbound_at=None).order_by("-last_inbound_at")[:100]
    return wabas, numbers, templates, contacts


@require(roles.RUN_DIAGNOSTICS)
@require_http_methods(["GET", "POST"])
def checklist(request):
    wabas, numbers, templates, contacts = _checklist_choices(request.POST.get("waba_id", ""))
    form = ChecklistForm(request.POST or None, wabas=wabas, templates=templates,
                         initial={"phone_number_id": request.GET.get("phone_number_id", ""),
                                  "recipient": request.GET.get("recipient", "")})
    if request.method == "POST" and form.is_valid():
        name, language = form.template_name_language()
        run = services.checklist_run_start(
            user=request.user, waba_id=form.cleaned_data["waba_id"], phone_number_id=form.cleaned_data["phone_number_id"],
            recipient=form.cleaned_data["recipient"], template_name=name, template_language=language,
            text=form.cleaned_data["text"],
        )
        return redirect("diagnostics:checklist_run", pk=run.pk)
    return render(request, "diagnostics/checklist.html", {
        "form": form, "numbers": numbers, "contacts": contacts, "checks": CHECKS, "runs": selectors.recent_runs(10)})


def _slot(run: ChecklistRun, index: int) -> dict:
    """One position of the run page: a finished item, or the loader that runs it."""
    check = CHECKS[index]
    item = dict(run.items[index]) if index < len(run.items) else None
    if item:
        item["status_label"] = STATUS_LABELS.get(item["status"], item["status"])
        item["links"] = action_links(item.get("actions", []), run.recipient)
        item["evidence_json"] = [{"asked": e.get("asked"), "answer": e.get("answer") if isinstance(e.get("answer"), str)
                                  else json.dumps(e.get("answer"), indent=2, ensure_ascii=False)}
                                 for e in item.get("evidence", [])]
    return {"index": index, "check": check, "item": item, "run": run}


@require(roles.RUN_DIAGNOSTICS)
@require_GET
def checklist_run(request, pk):
    run = get_object_or_404(ChecklistRun.objects.select_related("created_by"), pk=pk)
    slots = [_slot(run, i) for i in range(min(len(run.items) + 1, len(CHECKS)))]
    return render(request, "diagnostics/checklist_run.html", {"run": run, "slots": slots, "total": len(CHECKS)})


@require(roles.RUN_DIAGNOSTICS)
@require_GET
def checklist_step(request, pk, index):
    """Runs item `index` (htmx loads the items one after another) and returns it plus the next loader."""
    get_object_or_404(ChecklistRun, pk=pk)
    if index >= len(CHECKS):
        return HttpResponse(status=404)
    run, _ = services.checklist_run_step(pk, index)
    slots = [_slot(run, index)]
    if index + 1 < len(CHECKS):
        slots.append(_slot(run, index + 1))
    return render(request, "diagnostics/checklist_run.html#step",
                  {"run": run, "slots": slots, "total": len(CHECKS), "oob": True})


# --- Error log -------------------------------------------------------------------------------------
def _range(request) -> str:
    value = request.GET.get("range", "24h")
    return value if value in selectors.RANGES else "24h"


@require(roles.RUN_DIAGNOSTICS)
@require_GET
def error_log(request):
    range_key = _range(request)
    template = "diagnostics/error_log.html"
    if request.htmx:
        template += "#log"
    return render(request, template, {"groups": selectors.error_groups(range_key), "bars": selectors.error_chart(range_key),
                                      "range": range_key, "ranges": selectors.RANGES,
                                      "retention_days": settings.ERROR_LOG_RETENTION_DAYS})


@require(roles.RUN_DIAGNOSTICS)
@require_GET
def error_group(request, key):
    range_key = _range(request)
    code, subcode = selectors.parse_group_key(key)
    events = selectors.group_events(key)
    page = Paginator(events, 50).get_page(request.GET.get("page"))
    template = "diagnostics/error_group.html"
    if request.htmx:
        template += "#occurrences"
    return render(request, template, {
        "key": key, "code": code, "subcode": subcode, "page_obj": page, "count": page.paginator.count,
        "entry": catalogue.lookup(code, subcode), "bars": selectors.error_chart(range_key, key), "range": range_key,
        "ranges": selectors.RANGES,
    })


@require(roles.RUN_DIAGNOSTICS)
@require_GET
def error_event(request, pk):
    event = get_object_or_404(GraphErrorEvent, pk=pk)
    return render(request, "diagnostics/error_event.html", {
        "event": event, "entry": catalogue.lookup(event.code, event.subcode),
        "body_json": json.dumps(event.body, indent=2), "context_json": json.dumps(event.context, indent=2)})


# --- Escalation bundles ----------------------------------------------------------------------------
@require(roles.RUN_DIAGNOSTICS)
@require_POST
def bundle_from_event(request, pk):
    bundle = services.bundle_build_for_event(get_object_or_404(GraphErrorEvent, pk=pk), request.user)
    return redirect("diagnostics:bundle_detail", pk=bundle.pk)


@require(roles.RUN_DIAGNOSTICS)
@require_POST
def bundle_from_run(request, pk):
    bundle = services.bundle_build_for_run(get_object_or_404(ChecklistRun, pk=pk), request.user)
    return redirect("diagnostics:bundle_detail", pk=bundle.pk)


@require(roles.RUN_DIAGNOSTICS)
@require_GET
def bundle_detail(request, pk):
    bundle = get_object_or_404(EscalationBundle.objects.select_related("created_by"), pk=pk)
    return render(request, "diagnostics/bundle.html", {"bundle": bundle})


@require(roles.RUN_DIAGNOSTICS)
@require_GET
def bundle_download(request, pk):
    bundle = get_object_or_404(EscalationBundle, pk=pk)
    data = {k: v for k, v in bundle.data.items() if k != "text"}
    response = HttpResponse(json.dumps(data, indent=2, ensure_ascii=False), content_type="application/json")
    response["Content-Disposition"] = f'attachment; filename="wabadesk-escalation-{bundle.pk}.json"'
    return response
