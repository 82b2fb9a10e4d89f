"""The demo's error log is idempotent and fills the error log page."""

import io

import pytest

from diagnostics import demo, selectors
from diagnostics.models import GraphErrorEvent

pytestmark = pytest.mark.django_db


def test_seeding_twice_changes_nothing_and_every_demo_error_is_catalogued():
    demo.seed(io.StringIO())
    demo.seed(io.StringIO())
    assert GraphErrorEvent.objects.count() == len(demo.EVENTS)
    groups = selectors.error_groups("7d")
    assert all(g.entry is not None for g in groups if g.code is not None)
    assert sum(b["count"] for b in selectors.error_chart("7d")) == len(demo.EVENTS)
