"""Reads for the diagnostics app: the grouped error log and its chart."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.db.models import Count, Max, Min, Q
from django.db.models.functions import TruncDay, TruncHour
from django.http import Http404
from django.utils import timezone

from diagnostics.catalogue import CatalogueEntry, lookup
from diagnostics.models import ChecklistRun, GraphErrorEvent, group_key

RANGES = {"24h": (timedelta(hours=24), timedelta(hours=1)), "7d": (timedelta(days=7), timedelta(days=1))}
BAR_LEVELS = 10  # bar heights are CSS classes h0…h10 (the CSP forbids inline styles)


@dataclass
class ErrorGroup:
    code: int | None
    subcode: int | None
    count: int
    recent: int
    first_seen: object
    last_seen: object
    entry: CatalogueEntry | None

    @property
    def key(self) -> str:
        return group_key(self.code, self.subcode)

    @property
    def label(self) -> str:
        if self.code is None:
            return "No response (network)"
        return f"{self.code}/{self.subcode}" if self.subcode is not None else str(self.code)


def error_groups(range_key: str = "24h", now=None) -> list[ErrorGroup]:
    """Errors grouped by code and subcode: total count, count within the range, first/last seen."""
    now = now or timezone.now()
    since = now - RANGES.get(range_key, RANGES["24h"])[0]
    rows = (GraphErrorEvent.objects.values("code", "subcode")
            .annotate(count=Count("id"), recent=Count("id", filter=Q(occurred_at__gte=since)),
                      first_seen=Min("occurred_at"), last_seen=Max("occurred_at"))
            .order_by("-last_seen"))
    return [ErrorGroup(r["code"], r["subcode"], r["count"], r["recent"], r["first_seen"], r["last_seen"],
                       lookup(r["code"], r["subcode"])) for r in rows]


def parse_group_key(key: str) -> tuple[int | None, int | None]:
    if key == "none":
        return None, None
    code, _, sub = key.partition(".")
    try:
        return int(code), (int(sub) if sub else None)
    except ValueError:
        raise Http404("Unknown error group") from None


def group_events(key: str):
    code, subcode = parse_group_key(key)
    return GraphErrorEvent.objects.filter(code=code, subcode=subcode) if code is not None else \
        GraphErrorEvent.objects.filter(code__isnull=True)


def error_chart(range_key: str = "24h", key: str | None = None, now=None) -> list[dict]:
    """Counts per hour (24 h) or per day (7 days), oldest first, with a height class per bar."""
    now = now or timezone.now()
    span, step = RANGES.get(range_key, RANGES["24h"])
    trunc = TruncHour if step == timedelta(hours=1) else TruncDay
    floor = (now.replace(minute=0, second=0, microsecond=0) if trunc is TruncHour
             else now.replace(hour=0, minute=0, second=0, microsecond=0))
    buckets = [floor - step * i for i in reversed(range(int(span / step)))]
    qs = group_events(key) if key else GraphErrorEvent.objects.all()
    counts = {row["bucket"]: row["n"] for row in qs.filter(occurred_at__gte=buckets[0])
              .annotate(bucket=trunc("occurred_at", tzinfo=timezone.get_current_timezone()))
              .values("bucket").annotate(n=Count("id"))}
    top = max(counts.values(), default=0)
    bars = []
    for start in buckets:
        n = counts.get(start, 0)
        level = 0 if not n else max(1, round(BAR_LEVELS * n / top))
        label = f"{start:%H:00}" if trunc is TruncHour else f"{start:%a %d %b}"
        bars.append({"start": start, "count": n, "level": level, "label": label})
    return bars


def recent_runs(limit: int = 10):
    return ChecklistRun.objects.select_related("created_by")[:limit]
