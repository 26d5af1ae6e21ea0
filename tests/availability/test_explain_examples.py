"""Worked examples for explain_day, with the exact texts and reasons a staff member sees."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from inquicker.availability import BlockedRange, DateException, OpenRange, ScheduleRules
from inquicker.availability.explain import Seats, explain_day, render
from tests.availability.test_engine_examples import LONG_AGO, NEW_YORK, at, epoch, make_rules

NO_SEATS = Seats({}, {})
ALL_DAY = [(time(0), time(23, 59, 59, 999999))]


def explained(
    rules: ScheduleRules,
    on: str,
    *,
    duration: int | None = None,
    seats: Seats = NO_SEATS,
    now: datetime = LONG_AGO,
) -> list[tuple[str, str | None]]:
    """(time, reason) per grid time, as the endpoint renders them."""
    day = date.fromisoformat(on)
    grid = explain_day(rules, duration or rules.slot_minutes, day, seats, now)
    rendered = render(grid, day, rules.time_zone)
    for entry in rendered:
        assert entry["offered"] is (entry["reason"] is None)
    return [(e["time"], e["reason"]) for e in rendered]


def between(
    entries: list[tuple[str, str | None]], first: str, last: str
) -> list[tuple[str, str | None]]:
    """The entries whose wall clock (HH:MM) lies in [first, last], in order."""
    return [e for e in entries if first <= e[0][11:16] <= last]


# --- DST ---------------------------------------------------------------------------------


def test_spring_forward_day_in_new_york() -> None:
    # 2026-03-08: at 02:00 EST the clock jumps to 03:00 EDT; 02:00 and 02:30 never happen.
    rules = make_rules({6: ALL_DAY}, slot=30)
    day = explained(rules, "2026-03-08")
    assert len(day) == 48  # every wall time of the grid, the two missing ones included
    assert between(day, "01:00", "03:30") == [
        ("2026-03-08T01:00:00-05:00", None),
        ("2026-03-08T01:30:00-05:00", None),
        ("2026-03-08T02:00:00-05:00", "nonexistent-local-time"),
        ("2026-03-08T02:30:00-05:00", "nonexistent-local-time"),
        ("2026-03-08T03:00:00-04:00", None),
        ("2026-03-08T03:30:00-04:00", None),
    ]
    assert day[0] == ("2026-03-08T00:00:00-05:00", None)
    # A range cannot close at 24:00 (23:59:59.999999 is its end), so 23:30 has no cell.
    assert day[-2:] == [
        ("2026-03-08T23:00:00-04:00", None),
        ("2026-03-08T23:30:00-04:00", "closed"),
    ]


def test_spring_forward_an_hour_long_visit_cannot_span_the_gap() -> None:
    # Open 01:00-04:00 wall time; 60 minutes is two cells of elapsed time.
    rules = make_rules({6: [(time(1), time(4))]}, slot=30)
    assert between(explained(rules, "2026-03-08", duration=60), "00:30", "04:00") == [
        ("2026-03-08T00:30:00-05:00", "closed"),
        # 01:00 EST + 60 minutes = 03:00 EDT: cells 01:00 and 01:30 are both open hours.
        ("2026-03-08T01:00:00-05:00", None),
        # 01:30 EST + 30 minutes is 03:00 EDT, a cell: elapsed time steps over the gap.
        ("2026-03-08T01:30:00-05:00", None),
        ("2026-03-08T02:00:00-05:00", "nonexistent-local-time"),
        ("2026-03-08T02:30:00-05:00", "nonexistent-local-time"),
        ("2026-03-08T03:00:00-04:00", None),
        ("2026-03-08T03:30:00-04:00", "duration-overruns-hours"),
        ("2026-03-08T04:00:00-04:00", "closed"),
    ]


def test_fall_back_day_in_new_york_lists_the_repeated_hour_twice() -> None:
    # 2026-11-01: at 02:00 EDT the clock goes back to 01:00 EST; 01:00-01:59 happen twice.
    rules = make_rules({6: ALL_DAY}, slot=30)
    day = explained(rules, "2026-11-01")
    assert len(day) == 50
    assert between(day, "00:30", "02:00") == [
        ("2026-11-01T00:30:00-04:00", None),
        ("2026-11-01T01:00:00-04:00", None),
        ("2026-11-01T01:30:00-04:00", None),
        ("2026-11-01T01:00:00-05:00", None),
        ("2026-11-01T01:30:00-05:00", None),
        ("2026-11-01T02:00:00-05:00", None),
    ]


def test_fall_back_seats_are_per_instant_not_per_wall_time() -> None:
    rules = make_rules({6: ALL_DAY}, slot=30)
    first_one = epoch(at(NEW_YORK, "2026-11-01 01:00", fold=0))
    second_one = epoch(at(NEW_YORK, "2026-11-01 01:00", fold=1))
    assert second_one - first_one == 3600
    seats = Seats(booked={first_one: 1}, held={second_one: 1})
    assert between(explained(rules, "2026-11-01", seats=seats), "01:00", "01:00") == [
        ("2026-11-01T01:00:00-04:00", "full"),
        ("2026-11-01T01:00:00-05:00", "held"),
    ]


# --- every other reason ------------------------------------------------------------------


def test_a_plain_day_with_lunch_lead_time_and_seats() -> None:
    # Monday 2026-03-09 (EDT): 09:00-10:00 and 13:00-14:00, 30-minute grid, capacity 2.
    rules = make_rules({0: [(time(9), time(10)), (time(13), time(14))]}, capacity=2, lead=60)
    now = at(NEW_YORK, "2026-03-09 08:15").astimezone(UTC)
    seats = Seats(
        booked={
            epoch(at(NEW_YORK, "2026-03-09 13:00")): 2,
            epoch(at(NEW_YORK, "2026-03-09 13:30")): 1,
        },
        held={
            epoch(at(NEW_YORK, "2026-03-09 13:30")): 1,
            epoch(at(NEW_YORK, "2026-03-09 09:30")): 1,
        },
    )
    assert between(explained(rules, "2026-03-09", seats=seats, now=now), "08:30", "14:00") == [
        ("2026-03-09T08:30:00-04:00", "closed"),
        ("2026-03-09T09:00:00-04:00", "before-lead-time"),  # 08:15 + 60 minutes = 09:15
        ("2026-03-09T09:30:00-04:00", None),  # one of two seats held: still offered
        ("2026-03-09T10:00:00-04:00", "closed"),
        ("2026-03-09T10:30:00-04:00", "closed"),
        ("2026-03-09T11:00:00-04:00", "closed"),
        ("2026-03-09T11:30:00-04:00", "closed"),
        ("2026-03-09T12:00:00-04:00", "closed"),
        ("2026-03-09T12:30:00-04:00", "closed"),
        ("2026-03-09T13:00:00-04:00", "full"),
        ("2026-03-09T13:30:00-04:00", "held"),  # one booked, the other seat held
        ("2026-03-09T14:00:00-04:00", "closed"),
    ]


def test_a_longer_visit_overruns_closing_and_lunch() -> None:
    rules = make_rules({0: [(time(9), time(10)), (time(13), time(14))]}, slot=15)
    day = explained(rules, "2026-03-09", duration=30)
    offered = [t[11:16] for t, reason in day if reason is None]
    assert offered == ["09:00", "09:15", "09:30", "13:00", "13:15", "13:30"]
    overruns = [t[11:16] for t, reason in day if reason == "duration-overruns-hours"]
    assert overruns == ["09:45", "13:45"]


def test_exception_dates_say_exception_only_where_weekly_hours_would_open() -> None:
    closed_day = DateException(date(2026, 3, 9))
    short_day = DateException(date(2026, 3, 10), ((time(9), time(9, 30)),))
    rules = make_rules(slot=30, exceptions=(closed_day, short_day))
    assert between(explained(rules, "2026-03-09"), "08:30", "10:00") == [
        ("2026-03-09T08:30:00-04:00", "closed"),
        ("2026-03-09T09:00:00-04:00", "exception"),
        ("2026-03-09T09:30:00-04:00", "exception"),
        ("2026-03-09T10:00:00-04:00", "closed"),
    ]
    assert between(explained(rules, "2026-03-10"), "08:30", "10:00") == [
        ("2026-03-10T08:30:00-04:00", "closed"),
        ("2026-03-10T09:00:00-04:00", None),
        ("2026-03-10T09:30:00-04:00", "exception"),
        ("2026-03-10T10:00:00-04:00", "closed"),
    ]


def test_blocked_ranges_take_out_every_cell_they_touch() -> None:
    # 09:00-12:00 on a 30-minute grid; a meeting from 10:10 to 11:00 takes out 10:00 and
    # 10:30; a one-hour visit at 09:30 would need the 10:00 cell, so it is blocked too.
    block = BlockedRange(at(NEW_YORK, "2026-03-09 10:10"), at(NEW_YORK, "2026-03-09 11:00"))
    rules = ScheduleRules(
        NEW_YORK,
        30,
        weekly=(OpenRange(0, time(9), time(12)),),
        blocked=(block,),
    )
    assert between(explained(rules, "2026-03-09", duration=60), "09:00", "12:00") == [
        ("2026-03-09T09:00:00-04:00", None),
        ("2026-03-09T09:30:00-04:00", "blocked"),
        ("2026-03-09T10:00:00-04:00", "blocked"),
        ("2026-03-09T10:30:00-04:00", "blocked"),
        ("2026-03-09T11:00:00-04:00", None),
        ("2026-03-09T11:30:00-04:00", "duration-overruns-hours"),
        ("2026-03-09T12:00:00-04:00", "closed"),
    ]


def test_after_horizon_starts_at_exactly_now_plus_the_horizon() -> None:
    # The horizon is elapsed time from the instant: from 09:31 EDT on the 8th (after that
    # morning's spring-forward), one day later is 09:31 EDT on the 9th.
    rules = make_rules({0: [(time(9), time(10))]}, slot=30, horizon=1)
    now = at(NEW_YORK, "2026-03-08 09:31").astimezone(UTC)
    assert between(explained(rules, "2026-03-09", now=now), "09:00", "09:30") == [
        ("2026-03-09T09:00:00-04:00", None),
        ("2026-03-09T09:30:00-04:00", None),
    ]
    now = at(NEW_YORK, "2026-03-08 09:30").astimezone(UTC)
    assert between(explained(rules, "2026-03-09", now=now), "09:00", "09:30") == [
        ("2026-03-09T09:00:00-04:00", None),
        ("2026-03-09T09:30:00-04:00", "after-horizon"),
    ]


def test_capacity_zero_is_full_and_off_grid_openings_are_listed() -> None:
    rules = ScheduleRules(
        "Asia/Kolkata", 30, capacity=0, weekly=(OpenRange(0, time(9, 10), time(10, 10)),)
    )
    assert between(explained(rules, "2026-03-09"), "09:00", "10:00") == [
        ("2026-03-09T09:00:00+05:30", "closed"),
        ("2026-03-09T09:10:00+05:30", "full"),
        ("2026-03-09T09:30:00+05:30", "closed"),
        ("2026-03-09T09:40:00+05:30", "full"),
        ("2026-03-09T10:00:00+05:30", "closed"),
    ]
