"""Writes for contacts and consent. Every consent change goes through `consent_record` (or the bulk
import, which applies the same precedence), and the contact's current state is refreshed from the
events in the same transaction, so the state can never disagree with the history."""

from __future__ import annotations

import codecs
import csv
import hashlib
import hmac
import io
import os
import re
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from datetime import timezone as dt_timezone

import structlog
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import File
from django.db import IntegrityError, connection, transaction
from django.db.models import Case, Q, QuerySet, Subquery, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.views.decorators.debug import sensitive_variables

from accounts.validators import digits_only
from consent.models import STATE_OF_KIND, Contact, ConsentEvent, ImportJob, WebhookReceipt
from consent.selectors import consent_deciding_event, csv_text_read
from consent.validators import E164_RE, validate_e164

log = structlog.get_logger(__name__)


# --- Contacts --------------------------------------------------------------------------------------
def contact_get_or_create(phone: str, name: str = "") -> tuple[Contact, bool]:
    phone = validate_e164(phone)
    try:
        with transaction.atomic():
            return Contact.objects.get_or_create(phone=phone, defaults={"name": name[:255]})
    except IntegrityError:  # created concurrently by another request
        return Contact.objects.get(phone=phone), False


def _phone_of(wa_id_or_phone: str) -> str:
    """WhatsApp ids are the number's digits without "+" (webhooks send `from: "15551234567"`)."""
    value = str(wa_id_or_phone or "")
    return validate_e164(value if value.startswith("+") else "+" + value)


def contact_record_inbound(wa_id_or_phone: str, at: datetime, name: str = "") -> Contact:
    """The contact wrote to us at `at`: (re)open their 24-hour window. Creates unknown contacts.
    A late, older delivery never moves the window back."""
    phone = _phone_of(wa_id_or_phone)
    contact, _ = contact_get_or_create(phone, name)
    Contact.objects.filter(Q(last_inbound_at__isnull=True) | Q(last_inbound_at__lt=at), pk=contact.pk).update(
        last_inbound_at=at, updated_at=timezone.now())
    fill = {}
    if not contact.wa_id and not str(wa_id_or_phone).startswith("+"):
        fill["wa_id"] = str(wa_id_or_phone)
    if name and not contact.name:
        fill["name"] = name[:255]
    if fill:
        Contact.objects.filter(pk=contact.pk).update(**fill)
    contact.refresh_from_db()
    return contact


# --- Consent ---------------------------------------------------------------------------------------
def consent_state_refresh(contacts: QuerySet) -> int:
    """Set consent_state/channel/changed_at of `contacts` from their deciding event (one UPDATE).
    The only code that writes a contact's consent state."""
    deciding = consent_deciding_event()
    state = Case(*[When(kind=kind, then=Value(str(state))) for kind, state in STATE_OF_KIND.items()])
    return contacts.update(
        consent_state=Coalesce(Subquery(deciding.annotate(state=state).values("state")[:1]),
                               Value(Contact.ConsentState.NONE.value)),
        consent_channel=Coalesce(Subquery(deciding.values("channel")[:1]), Value("")),
        consent_changed_at=Subquery(deciding.values("occurred_at")[:1]),
        updated_at=timezone.now(),
    )


def _recorder(recorded_by) -> tuple[object | None, str]:
    """(user or None, label): an operator (their name at the time) or a system label like "webhook"."""
    if recorded_by is None or isinstance(recorded_by, str):
        return None, (recorded_by or "system")[:150]
    label = (recorded_by.get_full_name() or recorded_by.get_username()) if hasattr(recorded_by, "get_username") else str(recorded_by)
    return recorded_by, label[:150]


def consent_record(contact: Contact, kind: str, channel: str, recorded_by, note: str = "", *,
                   occurred_at: datetime | None = None, dedupe_key: str | None = None) -> ConsentEvent:
    """Append a consent event and bring the contact's state in step, in one transaction.

    `occurred_at` is when the person gave or withdrew consent (default now); an event that arrives
    late with an older time is stored but does not override a newer one. With a `dedupe_key` the
    same fact recorded twice is stored once (the first event is returned).
    """
    if kind not in ConsentEvent.Kind.values:
        raise ValidationError(f"Unknown consent kind {kind!r}: use opt_in or opt_out.", code="kind")
    if not channel:
        raise ValidationError("Say where the consent came from (the channel).", code="channel_required")
    if channel not in ConsentEvent.Channel.values:
        raise ValidationError(f"Unknown channel {channel!r}: use one of {', '.join(ConsentEvent.Channel.values)}.",
                              code="channel")
    user, label = _recorder(recorded_by)
    with transaction.atomic():
        # The lock serialises concurrent records for one contact, so the refresh sees every event.
        Contact.objects.select_for_update().filter(pk=contact.pk).first()
        if dedupe_key:
            existing = ConsentEvent.objects.filter(dedupe_key=dedupe_key).first()
            if existing:
                return existing
        event = ConsentEvent.objects.create(
            contact=contact, kind=kind, channel=channel, occurred_at=occurred_at or timezone.now(),
            recorded_by=user, recorded_by_label=label, note=note or "", dedupe_key=dedupe_key)
        consent_state_refresh(Contact.objects.filter(pk=contact.pk))
    contact.refresh_from_db(fields=["consent_state", "consent_channel", "consent_changed_at", "updated_at"])
    log.info("consent_recorded", contact_id=contact.pk, kind=kind, channel=channel, by=label)
    return event


# --- CSV import ------------------------------------------------------------------------------------
COLUMNS = ("phone", "name", "wa_id", "consent", "channel", "consented_at", "note")
REQUIRED_COLUMNS = ("phone",)
CLOCK_SKEW = timedelta(minutes=5)  # a consent time this far ahead of the upload is a typo, not skew


class ImportRefused(Exception):
    """A problem with the whole file, found before any row is written (the one exception: a reader
    that cannot get past a line, which the message says)."""


def import_max_bytes() -> int:
    return settings.CONSENT_IMPORT_MAX_BYTES


def _size_text(n: int) -> str:
    return f"{n / 1024 / 1024:.1f} MB" if n >= 1024 * 1024 else f"{n} bytes"


@dataclass(slots=True)
class ImportRow:
    line: int
    phone: str
    name: str
    wa_id: str
    kind: str
    channel: str
    occurred_at: datetime | None
    note: str
    dedupe_key: str | None
    undated: bool = False  # no consented_at: the consent takes the upload's time


def _check_encoding(path: str) -> None:
    """Decode the whole file once before writing anything: a bad byte on line 900,000 must not leave
    899,999 rows imported and the rest not."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    offset, newlines = 0, 0
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as error:
                bad = chunk[error.start:error.start + 1]
                line = newlines + chunk[:error.start].count(b"\n") + 1
                raise ImportRefused(
                    f"The file is not UTF-8: byte 0x{bad.hex().upper()} on line {line} cannot be read "
                    "(probably Latin-1 or Windows-1252). Save it as “CSV UTF-8” and import it again.") from None
            offset += len(chunk)
            newlines += chunk.count(b"\n")
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            raise ImportRefused("The file is not UTF-8: it ends in the middle of a character. "
                                "Save it as “CSV UTF-8” and import it again.") from None


def _read_header(reader) -> list[str]:
    try:
        for row in reader:
            if any(cell.strip() for cell in row):
                header = [cell.strip().lower() for cell in row]
                break
        else:
            raise ImportRefused("The file is empty: it has no header line and no rows.")
    except csv.Error as error:
        raise ImportRefused(f"The header line is not valid CSV: {error}.") from None
    expected = f"Expected a first line naming the columns: phone (required), {', '.join(COLUMNS[1:])}."
    if header and re.fullmatch(r"\+?[\d\s\-()]{7,}", header[0]):
        raise ImportRefused(f"Wrong header: the first line looks like data ({row[0]!r}), not column names. {expected}")
    unknown = [h for h in header if h not in COLUMNS]
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    duplicated = sorted({h for h in header if header.count(h) > 1})
    if missing or unknown or duplicated:
        problems = []
        if missing:
            problems.append(f"missing column {', '.join(missing)}")
        if unknown:
            problems.append(f"unknown column{'s' if len(unknown) > 1 else ''} {', '.join(repr(u) for u in unknown)}")
        if duplicated:
            problems.append(f"repeated column {', '.join(duplicated)}")
        raise ImportRefused(f"Wrong header: {'; '.join(problems)}. {expected}")
    return header


def _parse_when(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)  # fast path (Python 3.11 reads "Z" and offsets)
    except ValueError:
        value = parse_datetime(text)
    if value is None:
        day = parse_date(text)
        if day is None:
            raise ValueError
        value = datetime(day.year, day.month, day.day)
    if timezone.is_naive(value):
        value = timezone.make_aware(value, dt_timezone.utc)
    return value


_KINDS = frozenset(ConsentEvent.Kind.values)
_STATE_VALUE = {str(kind): str(state) for kind, state in STATE_OF_KIND.items()}  # plain strings for COPY
_CHANNELS = frozenset(ConsentEvent.Channel.values)


def _parse_row(header, row, line, default_at, file_sha) -> ImportRow:
    """One data row → ImportRow, or ValueError with the reason shown in the error report.
    Runs a million times per big file, so the common case takes the short paths."""
    if len(row) != len(header):
        raise ValueError(f"expected {len(header)} fields, found {len(row)} (check quotes and commas)")
    if any("\x00" in cell for cell in row):
        raise ValueError("contains a NUL (0x00) byte, which a text field cannot store")
    data = dict(zip(header, row))
    phone = data["phone"]
    if not E164_RE.fullmatch(phone):
        try:
            validate_e164(phone)
        except ValidationError as error:
            raise ValueError(error.messages[0]) from None
    name = csv_text_read(data.get("name", "").strip())  # the export's formula guard, taken off again
    if len(name) > 255:
        raise ValueError("name is longer than 255 characters")
    wa_id = data.get("wa_id", "").strip()
    if wa_id and not (digits_only(wa_id) and len(wa_id) <= 32):
        raise ValueError(f"wa_id {wa_id[:40]!r} must be digits 0-9 only, at most 32")
    kind = data.get("consent", "").strip().lower()
    channel = data.get("channel", "").strip().lower()
    note = data.get("note", "").strip()
    if not kind:
        if channel:
            raise ValueError("a channel was given without consent (opt_in or opt_out)")
        return ImportRow(line, phone, name, wa_id, "", "", None, note, None)
    if kind not in _KINDS:
        raise ValueError(f"consent {data['consent']!r} must be opt_in, opt_out or empty")
    if channel and channel not in _CHANNELS:
        raise ValueError(f"channel {data['channel']!r} is not one of {', '.join(ConsentEvent.Channel.values)}")
    channel = channel or ConsentEvent.Channel.IMPORT.value
    when_text = data.get("consented_at", "").strip()
    if when_text:
        try:
            occurred_at = _parse_when(when_text)
        except ValueError:
            raise ValueError(f"consented_at {when_text!r} is not a date/time like 2025-03-01T14:30:00Z") from None
        if occurred_at > default_at + CLOCK_SKEW:
            raise ValueError(f"consented_at {when_text!r} is in the future")
        # The same dated consent fact in any file gets the same key, so it is stored once.
        fact = f"{phone}|{kind}|{channel}|{occurred_at.isoformat()}"
    else:
        occurred_at = default_at
        fact = f"{file_sha}|{line}|{phone}|{kind}"  # undated: the same file re-imported is the same fact
    key = "import:" + hashlib.sha256(fact.encode()).hexdigest()[:48]
    return ImportRow(line, phone, name, wa_id, kind, channel, occurred_at, note, key, not when_text)


def _file_sha(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _fold(rows: list[ImportRow]) -> dict[str, list]:
    """One entry per phone of a batch: [name, wa_id, deciding row]. The last non-blank name and wa_id
    win (a blank cell never erases), and the deciding consent row follows ConsentEvent.LATEST_FIRST:
    the latest occurred_at, then opt_out over opt_in at the same instant, then the later line."""
    folded: dict[str, list] = {}
    for r in rows:  # in line order
        entry = folded.get(r.phone)
        if entry is None:
            folded[r.phone] = [r.name, r.wa_id, r if r.kind else None]
            continue
        entry[0] = r.name or entry[0]
        entry[1] = r.wa_id or entry[1]
        if r.kind and (entry[2] is None or (r.occurred_at, r.kind) >= (entry[2].occurred_at, entry[2].kind)):
            entry[2] = r
    return folded


class _OrmBatches:
    """Portable batch writer (SQLite for `make run`): bulk upserts through the ORM, then the consent
    state recomputed from the events (the reference the COPY writer must agree with)."""

    size = 2000

    def __init__(self, job: ImportJob):
        self.job_id = job.pk
        self.user, self.label = _recorder(job.created_by)
        self.label = f"import #{job.pk} ({self.label})"

    def write(self, rows: list[ImportRow], progress: dict) -> None:
        """Commit one batch and the job's progress together: a contact and its consent events are
        never half-written, and the progress bar counts exactly the committed rows."""
        with transaction.atomic():
            self._write(rows)
            ImportJob.objects.filter(pk=self.job_id).update(**progress)

    def _write(self, rows: list[ImportRow]) -> None:
        now = timezone.now()
        folded = _fold(rows)
        existing = {c.phone: c for c in Contact.objects.filter(phone__in=folded).only("phone", "name", "wa_id")}
        contacts = []
        for phone, (name, wa_id, _) in folded.items():
            known = existing.get(phone)
            name, wa_id = name or getattr(known, "name", ""), wa_id or getattr(known, "wa_id", "")
            if known is None or (name, wa_id) != (known.name, known.wa_id):  # unchanged rows are not rewritten
                contacts.append(Contact(phone=phone, name=name, wa_id=wa_id, created_at=now, updated_at=now))
        Contact.objects.bulk_create(contacts, update_conflicts=True, unique_fields=["phone"],
                                    update_fields=["name", "wa_id", "updated_at"])
        ids = dict(Contact.objects.filter(phone__in=folded).values_list("phone", "id"))
        keys = [r.dedupe_key for r in rows if r.kind]
        stored = set(ConsentEvent.objects.filter(dedupe_key__in=keys).values_list("dedupe_key", flat=True))
        events = [ConsentEvent(contact_id=ids[r.phone], kind=r.kind, channel=r.channel, occurred_at=r.occurred_at,
                               recorded_at=now, recorded_by=self.user, recorded_by_label=self.label, note=r.note,
                               dedupe_key=r.dedupe_key) for r in rows if r.kind and r.dedupe_key not in stored]
        ConsentEvent.objects.bulk_create(events, ignore_conflicts=True)
        if events:
            consent_state_refresh(Contact.objects.filter(pk__in={e.contact_id for e in events}))

    def close(self):
        pass


class _CopyBatches(_OrmBatches):
    """PostgreSQL: COPY each batch into two temporary staging tables (one row per phone, and the
    consent events), then one set-based statement per table.

    On two CPUs the time splits between parsing in Python and index maintenance in PostgreSQL, so the
    two overlap: `write()` hands the batch to a single writer thread (while it runs, the database
    works and the import loop parses the next batch) and returns once the previous batch is
    committed. At most one batch is in flight, and only the writer thread touches the connection
    until `close()`.
    """

    size = 50_000
    CONTACTS, EVENTS = "consent_import_contacts", "consent_import_events"

    def __init__(self, job):
        super().__init__(job)
        with connection.cursor() as cursor:
            cursor.execute(f"""CREATE TEMP TABLE IF NOT EXISTS {self.CONTACTS} (phone text, name text, wa_id text,
                consent_state text, consent_channel text, consent_changed_at timestamptz, undated_key text)""")
            cursor.execute(f"""CREATE TEMP TABLE IF NOT EXISTS {self.EVENTS} (phone text, kind text, channel text,
                occurred_at timestamptz, note text, dedupe_key text)""")
        # The raw psycopg connection: Django's `connection` is per thread. The import runs in a
        # transaction-less task (BEGIN/COMMIT per batch) or, in tests, inside an open transaction
        # (a savepoint per batch); psycopg's transaction() does the right one.
        self.raw = connection.connection
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="contact-import")
        self.in_flight = None

    def write(self, rows, progress):
        self.wait()
        self.in_flight = self.executor.submit(self._commit, rows, progress)

    def wait(self):
        if self.in_flight is not None:
            future, self.in_flight = self.in_flight, None
            future.result()  # re-raises the writer's error in the import loop

    def _commit(self, rows, progress):
        with self.raw.transaction(), self.raw.cursor() as cursor:
            self._copy_write(cursor, rows)
            assignments = ", ".join(f"{field} = %({field})s" for field in progress)
            cursor.execute(f"UPDATE {ImportJob._meta.db_table} SET {assignments} WHERE id = %(job_id)s",
                           {**progress, "job_id": self.job_id})

    def _copy_write(self, cursor, rows):
        now = timezone.now()
        contact, event = Contact._meta.db_table, ConsentEvent._meta.db_table
        # Don't wait for the WAL flush of each batch: a crash can lose only the last batches, never
        # half of one, and importing the file again restores them (the import is idempotent).
        cursor.execute("SET LOCAL synchronous_commit TO OFF")
        # Compiling these one-off statements (JIT) costs more than it saves.
        cursor.execute("SET LOCAL jit TO OFF")
        cursor.execute(f"TRUNCATE {self.CONTACTS}, {self.EVENTS}")
        with cursor.copy(f"COPY {self.CONTACTS} FROM STDIN") as copy:
            for phone, (name, wa_id, decides) in _fold(rows).items():
                if decides is None:
                    copy.write_row((phone, name, wa_id, "none", "", None, None))
                else:
                    undated_key = decides.dedupe_key if decides.undated else None
                    copy.write_row((phone, name, wa_id, _STATE_VALUE[decides.kind], decides.channel,
                                    decides.occurred_at, undated_key))
        with cursor.copy(f"COPY {self.EVENTS} FROM STDIN") as copy:
            for r in rows:
                if r.kind:
                    copy.write_row((r.phone, r.kind, r.channel, r.occurred_at, r.note, r.dedupe_key))
        # The stored state is replaced only by a strictly newer (time, state) decision — the rule of
        # ConsentEvent.LATEST_FIRST, as the state values sort like the kinds (opted_in < opted_out).
        # So a dated fact already stored (a re-import) decides nothing again, blank cells never erase
        # what we know, and rows that change nothing are not rewritten. An undated fact takes the
        # upload's time, which is new on every upload: when it is already stored, its decision is dropped.
        cursor.execute(f"""UPDATE {self.CONTACTS} s SET consent_state = 'none', consent_channel = '',
                           consent_changed_at = NULL
                            WHERE s.undated_key IS NOT NULL
                              AND (SELECT 1 FROM {event} e WHERE e.dedupe_key = s.undated_key LIMIT 1) IS NOT NULL""")
        newer = ("EXCLUDED.consent_changed_at IS NOT NULL AND (c.consent_changed_at IS NULL OR "
                 "(EXCLUDED.consent_changed_at, EXCLUDED.consent_state) > (c.consent_changed_at, c.consent_state))")
        cursor.execute(f"""
            INSERT INTO {contact} AS c (phone, name, wa_id, consent_state, consent_channel, consent_changed_at,
                                        created_at, updated_at)
            SELECT phone, name, wa_id, consent_state, consent_channel, consent_changed_at, %(now)s, %(now)s
              FROM {self.CONTACTS}
             ORDER BY phone  -- rows locked in one order: two imports sharing phones cannot deadlock
            ON CONFLICT (phone) DO UPDATE SET
              name = COALESCE(NULLIF(EXCLUDED.name, ''), c.name),
              wa_id = COALESCE(NULLIF(EXCLUDED.wa_id, ''), c.wa_id),
              consent_state = CASE WHEN {newer} THEN EXCLUDED.consent_state ELSE c.consent_state END,
              consent_channel = CASE WHEN {newer} THEN EXCLUDED.consent_channel ELSE c.consent_channel END,
              consent_changed_at = CASE WHEN {newer} THEN EXCLUDED.consent_changed_at ELSE c.consent_changed_at END,
              updated_at = EXCLUDED.updated_at
            WHERE (EXCLUDED.name <> '' AND EXCLUDED.name <> c.name)
               OR (EXCLUDED.wa_id <> '' AND EXCLUDED.wa_id <> c.wa_id) OR ({newer})""", {"now": now})
        # One index probe per event for its contact (a join would be planned as a hash join over the
        # whole contacts table, since the staging table has no statistics: a full scan per batch).
        cursor.execute(f"""
            INSERT INTO {event} (contact_id, kind, channel, occurred_at, recorded_at, recorded_by_id,
                                 recorded_by_label, note, dedupe_key)
            SELECT (SELECT c.id FROM {contact} c WHERE c.phone = s.phone), s.kind, s.channel, s.occurred_at,
                   %(now)s, %(user)s, %(label)s, s.note, s.dedupe_key
              FROM {self.EVENTS} s
            ON CONFLICT (dedupe_key) DO NOTHING""",
                       {"now": now, "user": getattr(self.user, "pk", None), "label": self.label})

    def close(self):
        try:
            self.wait()
        finally:
            self.executor.shutdown(wait=True)
            with connection.cursor() as cursor:
                cursor.execute(f"DROP TABLE IF EXISTS {self.CONTACTS}, {self.EVENTS}")


def _batch_writer(job: ImportJob):
    return _CopyBatches(job) if connection.vendor == "postgresql" else _OrmBatches(job)


def contact_import_create(upload, by=None) -> ImportJob:
    """Save an uploaded CSV under MEDIA_ROOT and queue its import. Size and emptiness are checked here
    too so the operator hears at once; everything else is checked by the task."""
    limit = import_max_bytes()
    if upload.size == 0:
        raise ImportRefused("The file is empty.")
    if upload.size > limit:
        raise ImportRefused(f"The file is {_size_text(upload.size)}; the import limit is {_size_text(limit)}. "
                            "Split it into smaller files.")
    job = ImportJob(original_name=os.path.basename(upload.name)[:255], size=upload.size, created_by=by)
    job.file.save(f"{timezone.now():%Y%m%d-%H%M%S}-{job.original_name}", upload, save=False)
    job.save()
    from consent.tasks import contact_import_task

    contact_import_task.delay_on_commit(job.pk)
    return job


class ImportBusy(Exception):
    """The job is running and its heartbeat is fresh: another worker has it (check again later)."""

    retry_after = 60


def contact_import_run(job_id: int) -> ImportJob | None:
    """The import task's body. Claims the job — pending → running, or a stalled running job (its
    worker was killed; acks_late brings the task back) — so a redelivered task never runs an import
    twice at once. A stalled job starts again from the first line: the import is idempotent."""
    now = timezone.now()
    claimable = Q(status=ImportJob.Status.PENDING) | ImportJob.stalled_q(now)
    claimed = ImportJob.objects.filter(claimable, pk=job_id).update(
        status=ImportJob.Status.RUNNING, started_at=now, heartbeat_at=now, bytes_done=0, rows_seen=0,
        rows_imported=0, rows_invalid=0)
    if not claimed:
        if ImportJob.objects.filter(pk=job_id, status=ImportJob.Status.RUNNING).exists():
            raise ImportBusy(job_id)
        return None
    job = ImportJob.objects.get(pk=job_id)
    try:
        _import(job)
    except ImportRefused as refusal:
        ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.FAILED, error=str(refusal),
                                                   finished_at=timezone.now())
        log.warning("contact_import_refused", job_id=job.pk, reason=str(refusal))
    except Exception:
        ImportJob.objects.filter(pk=job.pk).update(
            status=ImportJob.Status.FAILED, finished_at=timezone.now(),
            error="The import stopped on an unexpected error; rows already committed are kept. "
                  "Importing the same file again is safe.")
        log.exception("contact_import_crashed", job_id=job.pk)
        raise
    job.refresh_from_db()
    return job


def _csv_rows(reader):
    """(line number, cells, "") for each non-blank row. A line the csv module cannot read (an
    over-long field, a stray quote) comes as (line, [], the reader's complaint), so it is that row's
    error, not the whole file's: the batches before it are committed already, and the rows after it
    still count."""
    while True:
        before = reader.line_num
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            if reader.line_num == before:  # the reader did not move on: reading further would loop
                raise ImportRefused(f"The file cannot be read past line {before + 1} ({error}); "
                                    "the rows before it were imported.") from None
            yield reader.line_num, [], str(error)
            continue
        if any(cell.strip() for cell in row):  # blank lines are not rows
            yield reader.line_num, row, ""


def _import(job: ImportJob) -> None:
    path = job.file.path
    size = os.path.getsize(path)
    if size == 0:
        raise ImportRefused("The file is empty.")
    if size > import_max_bytes():
        raise ImportRefused(f"The file is {_size_text(size)}; the import limit is {_size_text(import_max_bytes())}. "
                            "Split it into smaller files.")
    _check_encoding(path)
    file_sha = _file_sha(path)
    default_at = job.created_at
    # Invalid rows go to a temporary file, not memory: a million bad rows must not exhaust the worker.
    errors = tempfile.TemporaryFile(mode="w+", encoding="utf-8", newline="")
    error_writer = csv.writer(errors)
    error_writer.writerow(["line", "reason", "row"])
    seen = imported = invalid = 0
    with open(path, "rb") as raw:
        text = io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")
        reader = csv.reader(text)
        header = _read_header(reader)
        writer = _batch_writer(job)
        batch: list[ImportRow] = []

        def flush():
            nonlocal imported, batch
            if batch:
                imported += len(batch)
                writer.write(batch, {"bytes_done": raw.tell(), "rows_seen": seen, "rows_imported": imported,
                                     "rows_invalid": invalid, "heartbeat_at": timezone.now()})
                batch = []

        try:
            for line, row, unreadable in _csv_rows(reader):
                seen += 1
                try:
                    if unreadable:
                        raise ValueError(f"not valid CSV: {unreadable}")
                    batch.append(_parse_row(header, row, line, default_at, file_sha))
                except ValueError as error:
                    invalid += 1
                    error_writer.writerow([line, str(error), ",".join(row)[:500]])
                if len(batch) >= writer.size:
                    flush()
            flush()
        finally:
            writer.close()  # waits for the batch in flight, even when the loop failed
    if seen == 0:
        raise ImportRefused("The file has a header line but no rows.")
    if invalid:
        errors.seek(0)
        job.errors_file.save(f"errors-{job.pk}.csv", File(errors), save=False)
    errors.close()
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportJob.Status.DONE, finished_at=timezone.now(), bytes_done=size, rows_seen=seen,
        rows_imported=imported, rows_invalid=invalid, errors_file=job.errors_file.name or "")
    log.info("contact_import_done", job_id=job.pk, rows=seen, imported=imported, invalid=invalid)


# --- Webhook ---------------------------------------------------------------------------------------
# Messages that mean "stop messaging me" (case and surrounding punctuation ignored).
STOP_KEYWORDS = {"STOP", "STOPALL", "STOP PROMOTIONS", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "OPT OUT", "OPTOUT",
                 "BAJA", "DARME DE BAJA", "ALTO", "PARAR", "CANCELAR", "ARRET", "ARRÊT", "DESINSCRIRE"}


def is_stop_keyword(text: str) -> bool:
    return re.sub(r"[^\w ]", "", (text or "")).strip().upper() in STOP_KEYWORDS


def _reply_text(message: dict) -> str:
    """What the person wrote or tapped: a text, a template's quick-reply button (Meta's marketing
    opt-out button arrives as type "button" with the text "Stop promotions"), or an interactive reply."""
    kind = message.get("type")
    if kind == "text":
        return str((message.get("text") or {}).get("body") or "")
    if kind == "button":
        return str((message.get("button") or {}).get("text") or "")
    if kind == "interactive":
        interactive = message.get("interactive") or {}
        return str((interactive.get("button_reply") or interactive.get("list_reply") or {}).get("title") or "")
    return ""


_SIGNATURE_RE = re.compile(r"[0-9a-f]{64}")


@sensitive_variables("secret", "expected")
def webhook_signature_valid(body: bytes, header: str | None) -> bool:
    """X-Hub-Signature-256 = "sha256=" + hex HMAC-SHA256 of the RAW body with an app secret.
    Compared in constant time against every configured app's secret; a missing header fails."""
    if not header or not header.startswith("sha256="):
        return False
    given = header[len("sha256="):].strip().lower()
    if not _SIGNATURE_RE.fullmatch(given):
        # Not a hex digest at all (compare_digest raises on non-ASCII text): fail like a wrong one.
        return False
    from accounts.selectors import app_secrets

    valid = False
    for secret in app_secrets():
        if secret:
            expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
            valid |= hmac.compare_digest(expected, given)
    return valid


def _claim(key: str) -> bool:
    """Record a webhook item as processed; False when it already was (a redelivery)."""
    try:
        with transaction.atomic():
            WebhookReceipt.objects.create(key=key[:255])
        return True
    except IntegrityError:
        return False


def _at(timestamp) -> datetime:
    try:
        return datetime.fromtimestamp(int(timestamp), dt_timezone.utc)
    except (TypeError, ValueError, OverflowError):
        return timezone.now()


def webhook_process(payload: dict) -> dict:
    """Apply one verified webhook delivery. Each inbound message and status is claimed by its id in
    the same transaction as its effect, so a redelivery changes nothing twice."""
    done = {"messages": 0, "opt_outs": 0, "statuses": 0, "duplicates": 0, "skipped": 0}
    for entry in payload.get("entry") or []:
        for change in entry.get("changes") or []:
            if change.get("field") != "messages":
                continue
            value = change.get("value") or {}
            names = {c.get("wa_id"): (c.get("profile") or {}).get("name", "") for c in value.get("contacts") or []}
            for message in value.get("messages") or []:
                _inbound_message(message, names, done)
            for status in value.get("statuses") or []:
                _status(status, done)
    log.info("webhook_processed", **done)
    return done


def _inbound_message(message: dict, names: dict, done: dict) -> None:
    sender, message_id = message.get("from"), message.get("id")
    if not sender or not message_id:
        done["skipped"] += 1
        return
    at = _at(message.get("timestamp"))
    try:
        with transaction.atomic():
            if not _claim(f"message:{message_id}"):
                done["duplicates"] += 1
                return
            contact = contact_record_inbound(sender, at, names.get(sender, ""))
            body = _reply_text(message)
            if body and is_stop_keyword(body):
                consent_record(contact, ConsentEvent.Kind.OPT_OUT, ConsentEvent.Channel.WHATSAPP_KEYWORD, "whatsapp",
                               note=f"Sent “{body.strip()[:60]}” on WhatsApp", occurred_at=at,
                               dedupe_key=f"wa:{message_id}"[:64])
                done["opt_outs"] += 1
            done["messages"] += 1
    except ValidationError:
        log.warning("webhook_bad_sender", sender_last4=str(sender)[-4:])
        done["skipped"] += 1


def _status(status: dict, done: dict) -> None:
    try:
        from messaging.services import message_status_apply
    except ImportError:  # messaging not installed yet: say so loudly rather than drop statuses silently
        log.error("webhook_status_unhandled", reason="messaging.services.message_status_apply is missing")
        done["skipped"] += 1
        return
    key = f"status:{status.get('id')}:{status.get('status')}:{status.get('timestamp')}"
    with transaction.atomic():
        if not _claim(key):
            done["duplicates"] += 1
            return
        message_status_apply(status)
        done["statuses"] += 1
