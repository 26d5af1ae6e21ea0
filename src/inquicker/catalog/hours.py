"""A readable summary of a schedule's weekly hours, e.g. "Mon–Fri 8:00 AM–5:00 PM"."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import time
from typing import Any

from sqlalchemy import bindparam, select

from inquicker.catalog.schedule_models import ScheduleHours
from inquicker.jsonapi.context import ResourceContext

DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def _clock(t: time) -> str:
    hour = t.hour % 12 or 12
    return f"{hour}:{t.minute:02d} {'AM' if t.hour < 12 else 'PM'}"


def _days(days: Sequence[int]) -> str:
    """Runs of consecutive days as ranges: [0,1,2,4] -> "Mon–Wed, Fri"."""
    parts: list[str] = []
    start = prev = days[0]
    for day in [*days[1:], None]:
        if day is not None and day == prev + 1:
            prev = day
            continue
        parts.append(DAY_NAMES[start] if start == prev else f"{DAY_NAMES[start]}–{DAY_NAMES[prev]}")
        if day is not None:
            start = prev = day
    return ", ".join(parts)


def summarize(ranges: Iterable[tuple[int, time, time]]) -> str | None:
    """Weekdays with identical hours grouped; None when the schedule has no weekly hours."""
    by_day: dict[int, list[tuple[time, time]]] = {}
    for weekday, opens, closes in ranges:
        by_day.setdefault(weekday, []).append((opens, closes))
    if not by_day:
        return None
    groups: dict[tuple[tuple[time, time], ...], list[int]] = {}
    for day in sorted(by_day):
        groups.setdefault(tuple(sorted(by_day[day])), []).append(day)
    return "; ".join(
        f"{_days(days)} " + ", ".join(f"{_clock(o)}–{_clock(c)}" for o, c in spans)
        for spans, days in sorted(groups.items(), key=lambda g: g[1][0])
    )


_HOURS = select(
    ScheduleHours.schedule_pk, ScheduleHours.weekday, ScheduleHours.opens, ScheduleHours.closes
).where(ScheduleHours.schedule_pk.in_(bindparam("pks", expanding=True)))


def load_hours(ctx: ResourceContext, pks: Sequence[int]) -> dict[int, Any]:
    """The summary of each schedule's weekly hours: one query per page for those not yet
    summarised under the tenant's data version (hours change only on imports)."""
    memo_key = ("hours", ctx.tenant.health_system_pks, ctx.tenant.data_versions)
    known: dict[int, str | None] | None = ctx.memo.get(memo_key)
    if known is None:
        known = {}
        ctx.memo.put(memo_key, known)
    missing = [pk for pk in pks if pk not in known]
    if missing:
        ranges: dict[int, list[tuple[int, time, time]]] = {pk: [] for pk in missing}
        for schedule_pk, weekday, opens, closes in (
            ctx.session.connection().execute(_HOURS, {"pks": missing}).all()
        ):
            ranges[schedule_pk].append((weekday, opens, closes))
        known.update({pk: summarize(r) for pk, r in ranges.items()})
    return {pk: summary for pk in pks if (summary := known.get(pk)) is not None}
