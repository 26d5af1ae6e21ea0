"""A visit as an iCalendar (RFC 5545) event, built with the ``icalendar`` library.

It names the time (with its TZID), the place and the provider: what the patient's calendar
needs, and nothing about the patient.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event

PRODUCT_ID = "-//InQuicker API v3//Visit calendar//EN"


@dataclass(frozen=True)
class CalendarFacts:
    visit_id: str
    status: str
    sequence: int
    start: int  # UTC epoch seconds
    duration_minutes: int
    time_zone: str
    summary: str
    location: str
    provider: str
    stamp: datetime


def visit_calendar(facts: CalendarFacts, host: str) -> bytes:
    zone = ZoneInfo(facts.time_zone)
    start = datetime.fromtimestamp(facts.start, UTC).astimezone(zone)
    event = Event()
    event.add("uid", f"{facts.visit_id}@{host}")
    event.add("dtstamp", facts.stamp)
    event.add("dtstart", start)
    event.add("dtend", start + timedelta(minutes=facts.duration_minutes))
    event.add("summary", facts.summary)
    event.add("location", facts.location)
    event.add("description", f"Provider: {facts.provider}")
    event.add("sequence", facts.sequence)
    event.add("status", "CANCELLED" if facts.status == "cancelled" else "CONFIRMED")
    calendar = Calendar()
    calendar.add("prodid", PRODUCT_ID)
    calendar.add("version", "2.0")
    calendar.add("method", "CANCEL" if facts.status == "cancelled" else "PUBLISH")
    calendar.add_component(event)
    # The VTIMEZONE the TZID names, so every calendar app reads the time the same way;
    # the rules of the years around the visit are enough (and keep the file small).
    calendar.add_missing_timezones(
        first_date=date(start.year - 1, 1, 1), last_date=date(start.year + 2, 1, 1)
    )
    return bytes(calendar.to_ical())
