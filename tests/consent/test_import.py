"""CSV import: every row validated, valid rows committed, invalid rows reported with their line and
reason, idempotent on re-import, and whole-file problems refused before anything is written."""

import csv
import io
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from consent import services
from consent.models import Contact, ConsentEvent, ImportJob
from consent.services import consent_record, contact_get_or_create

pytestmark = pytest.mark.django_db


@pytest.fixture(params=["copy", "orm"], autouse=True)
def writer(request, monkeypatch):
    """Every behaviour holds for both batch writers: COPY (PostgreSQL) and the portable ORM one (SQLite)."""
    if request.param == "orm":
        monkeypatch.setattr(services, "_batch_writer", services._OrmBatches)
    return request.param

MIXED = (
    "phone,name,consent,channel,consented_at,note\n"
    "+15551110001,Ana,opt_in,website_form,2025-03-01T10:00:00Z,newsletter box\n"  # line 2 ok
    "+1 555 111 0002,Bob,opt_in,,,\n"                                              # line 3 spaces
    "15551110003,Cy,,,,\n"                                                         # line 4 missing +
    "+15551110004,Dee,opt_out,paper,,\n"                                           # line 5 ok
    "\n"                                                                           # line 6 blank: skipped
    "+15551110005,Eve,maybe,,,\n"                                                  # line 7 bad consent
    "+15551110006,Fay,,,,\n"                                                       # line 8 ok, no consent
    "+15551110007,Gus,opt_in,fax,,\n"                                              # line 9 bad channel
    "+15551110008,Hal,opt_in,paper,yesterday,\n"                                   # line 10 bad date
    "00442071234567,Ida,,,,\n"                                                     # line 11 00 prefix
    "+15551110009,Jo\n"                                                            # line 12 field count
)


def upload(client, content: bytes, name="contacts.csv", captured=None):
    return client.post(reverse("consent:import_new"), {"file": SimpleUploadedFile(name, content, "text/csv")})


def run_import(client, django_capture_on_commit_callbacks, content: bytes, name="contacts.csv"):
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(client, content, name)
    assert response.status_code == 302, response.content.decode()[:500]
    return ImportJob.objects.get(pk=response.url.rstrip("/").split("/")[-1])


def test_mixed_rows_commit_the_good_ones_and_report_each_bad_one(operator_client, operator_user,
                                                                 django_capture_on_commit_callbacks):
    job = run_import(operator_client, django_capture_on_commit_callbacks, MIXED.encode())
    assert (job.status, job.rows_seen, job.rows_imported, job.rows_invalid) == ("done", 10, 3, 7)
    assert set(Contact.objects.values_list("phone", flat=True)) == {"+15551110001", "+15551110004", "+15551110006"}
    ana = Contact.objects.get(phone="+15551110001")
    assert (ana.name, ana.consent_state, ana.consent_channel) == ("Ana", "opted_in", "website_form")
    assert ana.consent_changed_at.isoformat() == "2025-03-01T10:00:00+00:00"
    event = ana.consent_events.get()
    assert event.note == "newsletter box" and event.recorded_by == operator_user and "import" in event.recorded_by_label
    assert Contact.objects.get(phone="+15551110004").consent_state == "opted_out"
    assert Contact.objects.get(phone="+15551110006").consent_state == "none"

    report = operator_client.get(reverse("consent:import_errors", args=[job.pk]))
    rows = list(csv.reader(io.StringIO(b"".join(report.streaming_content).decode())))
    reasons = {int(line): reason for line, reason, _ in rows[1:]}
    assert sorted(reasons) == [3, 4, 7, 9, 10, 11, 12]
    assert "spaces are not allowed" in reasons[3]
    assert "missing the + prefix" in reasons[4]
    assert "must be opt_in, opt_out or empty" in reasons[7]
    assert "'fax' is not one of" in reasons[9]
    assert "is not a date/time" in reasons[10]
    assert "00 prefix" in reasons[11]
    assert "expected 6 fields, found 2" in reasons[12]


def test_importing_the_same_file_twice_changes_nothing(operator_client, django_capture_on_commit_callbacks):
    first = run_import(operator_client, django_capture_on_commit_callbacks, MIXED.encode())
    snapshot = list(Contact.objects.order_by("phone").values())
    events = ConsentEvent.objects.count()
    second = run_import(operator_client, django_capture_on_commit_callbacks, MIXED.encode())
    assert second.pk != first.pk and second.status == "done"
    assert list(Contact.objects.order_by("phone").values()) == snapshot
    assert ConsentEvent.objects.count() == events


def test_a_later_opt_out_in_the_history_is_not_overridden_by_an_older_imported_opt_in(
        operator_client, django_capture_on_commit_callbacks):
    contact, _ = contact_get_or_create("+15551110001")
    consent_record(contact, "opt_out", "whatsapp_keyword", "whatsapp")  # now: newer than the file's 2025 opt-in
    run_import(operator_client, django_capture_on_commit_callbacks, MIXED.encode())
    contact.refresh_from_db()
    assert contact.consent_state == "opted_out" and contact.consent_events.count() == 2


def test_blank_cells_do_not_erase_known_names(operator_client, django_capture_on_commit_callbacks):
    Contact.objects.create(phone="+15551110001", name="Ana Known")
    run_import(operator_client, django_capture_on_commit_callbacks, b"phone,name\n+15551110001,\n")
    assert Contact.objects.get(phone="+15551110001").name == "Ana Known"


def test_a_phone_repeated_in_the_file_keeps_its_last_name_and_its_latest_consent(
        operator_client, django_capture_on_commit_callbacks):
    content = ("phone,name,consent,channel,consented_at\n"
               "+15551110001,Ana,opt_out,paper,2025-05-01T10:00:00Z\n"
               "+15551110001,Ana Maria,opt_in,website_form,2025-03-01T10:00:00Z\n"  # older: does not decide
               "+15551110001,,,,\n").encode()                                     # blank: erases nothing
    job = run_import(operator_client, django_capture_on_commit_callbacks, content)
    ana = Contact.objects.get(phone="+15551110001")
    assert (job.rows_imported, ana.name, ana.consent_state, ana.consent_channel) == (3, "Ana Maria", "opted_out", "paper")
    assert ana.consent_events.count() == 2  # both facts are history, the latest one decides


def test_a_bad_whatsapp_id_is_a_row_error_not_a_failed_import(operator_client, django_capture_on_commit_callbacks):
    content = ("phone,name,wa_id\n+15551110001,Ana,15551110001\n+15551110002,Bob,wa-2\n"
               f"+15551110003,Cy,{'1' * 40}\n").encode()
    job = run_import(operator_client, django_capture_on_commit_callbacks, content)
    assert (job.status, job.rows_imported, job.rows_invalid) == ("done", 1, 2)
    assert Contact.objects.get().wa_id == "15551110001"


def test_a_file_of_many_batches_is_imported_whole_with_progress_per_batch(
        operator_client, django_capture_on_commit_callbacks, monkeypatch, writer):
    writer_class = services._CopyBatches if writer == "copy" else services._OrmBatches
    monkeypatch.setattr(writer_class, "size", 100)
    rows = "".join(f"+1555444{i:04d},Name {i},opt_in,paper,2025-01-01T00:00:00Z\n" for i in range(1050))
    job = run_import(operator_client, django_capture_on_commit_callbacks,
                     ("phone,name,consent,channel,consented_at\n" + rows).encode())
    assert (job.status, job.rows_seen, job.rows_imported, job.percent) == ("done", 1050, 1050, 100)
    assert Contact.objects.filter(phone__startswith="+1555444", consent_state="opted_in").count() == 1050
    assert ConsentEvent.objects.filter(contact__phone__startswith="+1555444").count() == 1050


@pytest.mark.parametrize("content, message", [
    (b"", "The file is empty (0 bytes)."),
    (b"\n\n", "The file is empty: it has no header line and no rows."),
    (b"phone,name\n", "The file has a header line but no rows."),
    (b"number,name\n+15551110001,Ana\n", "Wrong header: missing column phone; unknown column 'number'"),
    (b"+15551110001,Ana\n+15551110002,Bob\n", "Wrong header: the first line looks like data"),
    (b"phone,phone\n+15551110001,+15551110001\n", "repeated column phone"),
    ("phone,name\n+15551110001,Jos\u00e9\n".encode("latin-1"),
     "The file is not UTF-8: byte 0xE9 on line 2 cannot be read"),
])
def test_whole_file_problems_are_refused_with_a_clear_error_and_nothing_written(
        operator_client, django_capture_on_commit_callbacks, content, message):
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(operator_client, content)
    if response.status_code == 200:  # refused at upload (empty file)
        assert message in response.content.decode()
    else:
        job = ImportJob.objects.get()
        assert job.status == "failed" and message in job.error
        page = operator_client.get(reverse("consent:import_detail", args=[job.pk])).content.decode()
        assert "import-error" in page
    assert not Contact.objects.exists()


def test_a_bad_byte_late_in_the_file_writes_nothing(operator_client, django_capture_on_commit_callbacks):
    rows = "".join(f"+1555222{i:04d},Name {i}\n" for i in range(5000))
    content = ("phone,name\n" + rows).encode() + b"+15553330000,Ren\xe9\n"
    job = run_import(operator_client, django_capture_on_commit_callbacks, content)
    assert job.status == "failed" and "line 5002" in job.error
    assert not Contact.objects.exists()


def test_a_line_the_csv_reader_cannot_read_or_a_nul_byte_is_that_rows_error(
        operator_client, django_capture_on_commit_callbacks):
    content = ("phone,name\n"
               "+15551110001,Ana\n"                          # line 2 ok
               f'+15551110002,"{"x" * 200_000}"\n'           # line 3 longer than the csv module's field limit
               "+15551110003,Bo\x00b\n"                      # line 4 NUL: PostgreSQL text cannot hold it
               "+15551110004,Cy\n").encode()                 # line 5 ok: the rows after a bad line still count
    job = run_import(operator_client, django_capture_on_commit_callbacks, content)
    assert (job.status, job.rows_seen, job.rows_imported, job.rows_invalid) == ("done", 4, 2, 2)
    assert set(Contact.objects.values_list("phone", flat=True)) == {"+15551110001", "+15551110004"}
    report = operator_client.get(reverse("consent:import_errors", args=[job.pk]))
    reasons = {int(line): reason for line, reason, _ in
               csv.reader(io.StringIO(b"".join(report.streaming_content).decode())) if line.isdigit()}
    assert "not valid CSV" in reasons[3] and "field limit" in reasons[3]
    assert "NUL" in reasons[4]


def test_files_over_the_size_limit_are_refused(operator_client, settings, django_capture_on_commit_callbacks):
    settings.CONSENT_IMPORT_MAX_BYTES = 100
    response = upload(operator_client, b"phone,name\n" + b"+15551110001,Ana\n" * 20)
    assert response.status_code == 200
    assert "the import limit is 100 bytes" in response.content.decode()
    assert not ImportJob.objects.exists()


def test_progress_page_shows_the_outcome_and_polls_until_done(operator_client, django_capture_on_commit_callbacks):
    job = run_import(operator_client, django_capture_on_commit_callbacks, MIXED.encode())
    page = operator_client.get(reverse("consent:import_detail", args=[job.pk])).content.decode()
    assert '<progress max="100" value="100"' in page and "hx-trigger" not in page
    ImportJob.objects.filter(pk=job.pk).update(status="running", bytes_done=job.size // 2)
    partial = operator_client.get(reverse("consent:import_detail", args=[job.pk]), HTTP_HX_REQUEST="true").content.decode()
    assert 'hx-trigger="every 1s"' in partial and "<h1>" not in partial


def _running_job(client, content: bytes, heartbeat_age):
    """A job some worker claimed and then stopped committing batches `heartbeat_age` ago."""
    upload(client, content)  # on-commit callbacks are not run: the job stays pending
    job = ImportJob.objects.get()
    beat = timezone.now() - heartbeat_age
    ImportJob.objects.filter(pk=job.pk).update(status="running", started_at=beat, heartbeat_at=beat, rows_seen=7)
    return job


def test_a_job_whose_worker_died_is_taken_over_by_the_redelivered_task_and_finishes(operator_client):
    job = _running_job(operator_client, MIXED.encode(), heartbeat_age=ImportJob.STALLED_AFTER + timedelta(seconds=1))
    page = operator_client.get(reverse("consent:import_detail", args=[job.pk])).content.decode()
    assert "the worker running this import stopped" in page

    job = services.contact_import_run(job.pk)
    assert (job.status, job.rows_seen, job.rows_imported, job.rows_invalid) == ("done", 10, 3, 7)
    assert Contact.objects.count() == 3


def test_a_redelivered_task_leaves_a_job_with_a_live_worker_alone(operator_client):
    job = _running_job(operator_client, MIXED.encode(), heartbeat_age=timedelta(seconds=5))
    with pytest.raises(services.ImportBusy):
        services.contact_import_run(job.pk)
    job.refresh_from_db()
    assert (job.status, job.rows_seen) == ("running", 7) and not Contact.objects.exists()
    page = operator_client.get(reverse("consent:import_detail", args=[job.pk])).content.decode()
    assert "import-stalled" not in page


def test_support_and_browse_only_users_cannot_import(client, django_user_model):
    from tests.conftest import make_user

    client.force_login(make_user(django_user_model, None, "nobody"))
    assert upload(client, MIXED.encode()).status_code == 403
