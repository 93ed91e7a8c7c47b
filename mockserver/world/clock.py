"""Deterministic time: nothing in the stub reads the wall clock.

The world has an anchor instant ("now" for every date rule: project start/end dates, the
order's start_date). Seeded entities are dated before it. Orders created through the API are
dated after it, at an offset derived from their own uuid, and every later change of an order
moves its `modified` one STEP past its previous `modified`: so an order's timestamps depend only
on its own history, never on other requests.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

DEFAULT_ANCHOR = datetime(2026, 11, 1, tzinfo=UTC)
STEP = timedelta(seconds=1, microseconds=250_000)
# API-created orders land in [anchor, anchor + CREATE_WINDOW).
CREATE_WINDOW_US = 7 * 24 * 3600 * 1_000_000


@dataclass(frozen=True)
class Clock:
    anchor: datetime = DEFAULT_ANCHOR

    @property
    def today(self) -> date:
        return self.anchor.date()

    def created_for(self, uuid_hex: str) -> datetime:
        """Creation instant of an API-created order, from its uuid only."""
        offset_us = int(uuid_hex[:15], 16) % CREATE_WINDOW_US
        return self.anchor + timedelta(microseconds=offset_us)

    @staticmethod
    def next_change(previous: datetime) -> datetime:
        return previous + STEP

    def before(self, seconds: float) -> datetime:
        """An instant `seconds` before the anchor (seeded data)."""
        return self.anchor - timedelta(seconds=seconds)


def parse_instant(text: str) -> datetime:
    """ISO 8601 -> aware UTC datetime (a naive value is taken as UTC)."""
    value = datetime.fromisoformat(text.strip().replace("z", "Z"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


@functools.lru_cache(maxsize=4096)
def format_instant(value: datetime) -> str:
    """DRF's rendering: isoformat with +00:00 -> Z; microseconds omitted when 0. Remembered:
    `isoformat` costs ~1.2 µs, and an order renders the same instant up to three times
    (created, modified, consumer_reviewed_at of a new order); equal instants in any zone
    format alike, so the cache may answer for either."""
    text = value.astimezone(UTC).isoformat()
    if text.endswith("+00:00"):
        text = text[:-6] + "Z"
    return text


def format_date(value: date) -> str:
    return value.isoformat()
