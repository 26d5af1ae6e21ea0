"""Worked examples for the availability engine, with the exact times a patient would see."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pytest

from inquicker.availability import (
    DateException,
    OpenRange,
    ScheduleRules,
    cells_needed,
    covered_cells,
    format_times,
    offered_times,
)

NEW_YORK = "America/New_York"
KOLKATA = "Asia/Kolkata"
LONG_AGO = datetime(2026, 1, 1, tzinfo=UTC)
WEEKDAYS = range(5)
EVERY_DAY = range(7)


def make_rules(
    hours: Mapping[int, list[tuple[time, time]]] | None = None,
    *,
    zone: str = NEW_YORK,
    slot: int = 30,
    capacity: int = 1,
    lead: int = 0,
    horizon: int = 400,
    exceptions: tuple[DateException, ...] = (),
) -> ScheduleRules:
    hours = hours if hours is not None else {day: [(time(9), time(10))] for day in WEEKDAYS}
    weekly = tuple(
        OpenRange(day, opens, closes) for day, ranges in hours.items() for opens, closes in ranges
    )
    return ScheduleRules(
        time_zone=zone,
        slot_minutes=slot,
        capacity=capacity,
        lead_minutes=lead,
        horizon_days=horizon,
        weekly=weekly,
        exceptions=exceptions,
    )


def at(zone: str, text: str, fold: int = 0) -> datetime:
    """A local wall time in a zone, e.g. at(NEW_YORK, "2026-03-09 09:00")."""
    return datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(zone), fold=fold)


def epoch(moment: datetime) -> int:
    return int(moment.timestamp())


def offered(
    rules: ScheduleRules,
    start: str,
    end: str,
    *,
    duration: int | None = None,
    taken: Mapping[int, int] | None = None,
    now: datetime = LONG_AGO,
) -> list[str]:
    """Offered times as the API renders them, for a window given in local wall time."""
    times = offered_times(
        rules,
        duration or rules.slot_minutes,
        taken or {},
        at(rules.time_zone, start),
        at(rules.time_zone, end),
        now,
    )
    assert times == sorted(set(times))
    return format_times(times, rules.time_zone)


def test_plain_week() -> None:
    rules = make_rules()
    assert offered(rules, "2026-03-16 00:00", "2026-03-23 00:00") == [
        "2026-03-16T09:00:00-04:00",
        "2026-03-16T09:30:00-04:00",
        "2026-03-17T09:00:00-04:00",
        "2026-03-17T09:30:00-04:00",
        "2026-03-18T09:00:00-04:00",
        "2026-03-18T09:30:00-04:00",
        "2026-03-19T09:00:00-04:00",
        "2026-03-19T09:30:00-04:00",
        "2026-03-20T09:00:00-04:00",
        "2026-03-20T09:30:00-04:00",
    ]


def test_window_bounds_are_start_inclusive_end_exclusive() -> None:
    rules = make_rules()
    assert offered(rules, "2026-03-16 09:30", "2026-03-17 09:30") == [
        "2026-03-16T09:30:00-04:00",
        "2026-03-17T09:00:00-04:00",
    ]


def test_a_start_inside_the_window_may_run_past_its_end() -> None:
    rules = make_rules(slot=15)
    assert offered(rules, "2026-03-16 09:00", "2026-03-16 09:30", duration=45) == [
        "2026-03-16T09:00:00-04:00",
        "2026-03-16T09:15:00-04:00",
    ]


def test_lunch_break_splits_the_day() -> None:
    rules = make_rules({0: [(time(8), time(12)), (time(13), time(17))]}, slot=60)
    assert offered(rules, "2026-03-16 00:00", "2026-03-17 00:00") == [
        "2026-03-16T08:00:00-04:00",
        "2026-03-16T09:00:00-04:00",
        "2026-03-16T10:00:00-04:00",
        "2026-03-16T11:00:00-04:00",
        "2026-03-16T13:00:00-04:00",
        "2026-03-16T14:00:00-04:00",
        "2026-03-16T15:00:00-04:00",
        "2026-03-16T16:00:00-04:00",
    ]


def test_a_long_type_fits_before_closing_and_never_across_lunch() -> None:
    rules = make_rules({0: [(time(8), time(10)), (time(13), time(14, 30))]}, slot=30)
    assert offered(rules, "2026-03-16 00:00", "2026-03-17 00:00", duration=90) == [
        "2026-03-16T08:00:00-04:00",
        "2026-03-16T08:30:00-04:00",
        "2026-03-16T13:00:00-04:00",
    ]


def test_closed_holiday() -> None:
    holiday = DateException(date(2026, 5, 25))  # Memorial Day, a Monday
    rules = make_rules(exceptions=(holiday,))
    assert offered(rules, "2026-05-25 00:00", "2026-05-27 00:00") == [
        "2026-05-26T09:00:00-04:00",
        "2026-05-26T09:30:00-04:00",
    ]


def test_replacement_hours_replace_the_weekly_ones() -> None:
    short_day = DateException(
        date(2026, 5, 26), ranges=((time(7), time(8)), (time(15), time(15, 30)))
    )
    rules = make_rules(exceptions=(short_day,))
    assert offered(rules, "2026-05-25 00:00", "2026-05-28 00:00") == [
        "2026-05-25T09:00:00-04:00",
        "2026-05-25T09:30:00-04:00",
        "2026-05-26T07:00:00-04:00",
        "2026-05-26T07:30:00-04:00",
        "2026-05-26T15:00:00-04:00",
        "2026-05-27T09:00:00-04:00",
        "2026-05-27T09:30:00-04:00",
    ]


def test_replacement_hours_open_a_weekly_closed_day() -> None:
    saturday = DateException(date(2026, 5, 30), ranges=((time(10), time(11)),))
    rules = make_rules(exceptions=(saturday,))
    assert offered(rules, "2026-05-30 00:00", "2026-06-01 00:00") == [
        "2026-05-30T10:00:00-04:00",
        "2026-05-30T10:30:00-04:00",
    ]


def test_closed_wins_over_replacement_hours_on_the_same_date() -> None:
    rules = make_rules(
        exceptions=(
            DateException(date(2026, 5, 26), ranges=((time(7), time(8)),)),
            DateException(date(2026, 5, 26)),
        )
    )
    assert offered(rules, "2026-05-26 00:00", "2026-05-27 00:00") == []


def test_thirty_minute_type_on_fifteen_minute_grid_next_to_a_booked_cell() -> None:
    rules = make_rules({0: [(time(9), time(11))]}, slot=15)
    booked = {epoch(at(NEW_YORK, "2026-03-16 09:30")): 1}
    window = ("2026-03-16 00:00", "2026-03-17 00:00")
    assert offered(rules, *window, duration=30, taken=booked) == [
        "2026-03-16T09:00:00-04:00",
        # 09:15 would need the booked 09:30 cell; 09:30 is booked itself.
        "2026-03-16T09:45:00-04:00",
        "2026-03-16T10:00:00-04:00",
        "2026-03-16T10:15:00-04:00",
        "2026-03-16T10:30:00-04:00",
        # 10:45 would run past closing at 11:00.
    ]
    fifteen = offered(rules, *window, duration=15, taken=booked)
    assert "2026-03-16T09:15:00-04:00" in fifteen
    assert "2026-03-16T09:30:00-04:00" not in fifteen
    assert "2026-03-16T10:45:00-04:00" in fifteen


def test_a_duration_rounds_up_to_whole_cells() -> None:
    rules = make_rules({0: [(time(9), time(10))]}, slot=15)
    assert cells_needed(rules, 20) == 2
    assert offered(rules, "2026-03-16 00:00", "2026-03-17 00:00", duration=20) == [
        "2026-03-16T09:00:00-04:00",
        "2026-03-16T09:15:00-04:00",
        "2026-03-16T09:30:00-04:00",
    ]


@pytest.mark.parametrize(
    ("seats_taken", "expected"),
    [
        (0, ["2026-03-16T09:00:00-04:00", "2026-03-16T09:30:00-04:00"]),
        (2, ["2026-03-16T09:00:00-04:00", "2026-03-16T09:30:00-04:00"]),
        (3, ["2026-03-16T09:30:00-04:00"]),
        (4, ["2026-03-16T09:30:00-04:00"]),  # overbooked data still means full
    ],
)
def test_capacity_three(seats_taken: int, expected: list[str]) -> None:
    rules = make_rules(capacity=3)
    taken = {epoch(at(NEW_YORK, "2026-03-16 09:00")): seats_taken}
    assert offered(rules, "2026-03-16 00:00", "2026-03-17 00:00", taken=taken) == expected


def test_capacity_zero_offers_nothing() -> None:
    rules = make_rules(capacity=0)
    assert offered(rules, "2026-03-16 00:00", "2026-03-17 00:00") == []


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        # now + 2 h lead is exactly 09:00: offered.
        ("2026-03-16 07:00:00", ["2026-03-16T09:00:00-04:00", "2026-03-16T09:30:00-04:00"]),
        # 09:00 would be one minute short of the lead time.
        ("2026-03-16 07:01:00", ["2026-03-16T09:30:00-04:00"]),
        # Even a microsecond short is short.
        ("2026-03-16 07:00:00.000001", ["2026-03-16T09:30:00-04:00"]),
    ],
)
def test_lead_time_edge(now: str, expected: list[str]) -> None:
    rules = make_rules(lead=120)
    window = ("2026-03-16 00:00", "2026-03-17 00:00")
    assert offered(rules, *window, now=at(NEW_YORK, now)) == expected


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        # The horizon ends exactly at Tuesday 09:00: that time is no longer offered
        # (and Monday 09:00, exactly now, still is).
        ("2026-03-16 09:00:00", ["2026-03-16T09:00:00-04:00", "2026-03-16T09:30:00-04:00"]),
        # One second later the horizon reaches past Tuesday 09:00, and Monday 09:00 is past.
        ("2026-03-16 09:00:01", ["2026-03-16T09:30:00-04:00", "2026-03-17T09:00:00-04:00"]),
    ],
)
def test_horizon_edge(now: str, expected: list[str]) -> None:
    rules = make_rules(horizon=1)
    window = ("2026-03-16 00:00", "2026-03-18 00:00")
    assert offered(rules, *window, now=at(NEW_YORK, now)) == expected


def test_spring_forward_skips_the_missing_hour() -> None:
    rules = make_rules({day: [(time(0), time(4))] for day in EVERY_DAY})
    assert offered(rules, "2026-03-08 00:00", "2026-03-09 00:00") == [
        "2026-03-08T00:00:00-05:00",
        "2026-03-08T00:30:00-05:00",
        "2026-03-08T01:00:00-05:00",
        "2026-03-08T01:30:00-05:00",
        "2026-03-08T03:00:00-04:00",
        "2026-03-08T03:30:00-04:00",
    ]


def test_spring_forward_durations_step_in_elapsed_time() -> None:
    rules = make_rules({day: [(time(0), time(4))] for day in EVERY_DAY})
    # 01:30 EST plus one elapsed hour is 03:30 EDT: both cells exist, so it is offered.
    assert offered(rules, "2026-03-08 00:00", "2026-03-09 00:00", duration=60) == [
        "2026-03-08T00:00:00-05:00",
        "2026-03-08T00:30:00-05:00",
        "2026-03-08T01:00:00-05:00",
        "2026-03-08T01:30:00-05:00",
        "2026-03-08T03:00:00-04:00",
    ]


def test_fall_back_offers_the_repeated_hour_twice() -> None:
    rules = make_rules({day: [(time(0), time(4))] for day in EVERY_DAY})
    assert offered(rules, "2026-11-01 00:00", "2026-11-02 00:00") == [
        "2026-11-01T00:00:00-04:00",
        "2026-11-01T00:30:00-04:00",
        "2026-11-01T01:00:00-04:00",
        "2026-11-01T01:30:00-04:00",
        "2026-11-01T01:00:00-05:00",
        "2026-11-01T01:30:00-05:00",
        "2026-11-01T02:00:00-05:00",
        "2026-11-01T02:30:00-05:00",
        "2026-11-01T03:00:00-05:00",
        "2026-11-01T03:30:00-05:00",
    ]


def test_fall_back_cells_are_distinct_instants_half_an_hour_apart() -> None:
    rules = make_rules({day: [(time(0), time(4))] for day in EVERY_DAY})
    times = offered_times(
        rules, 30, {}, at(NEW_YORK, "2026-11-01 01:00"), at(NEW_YORK, "2026-11-01 02:00"), LONG_AGO
    )
    first_one_am = epoch(at(NEW_YORK, "2026-11-01 01:00", fold=0))
    assert times == [first_one_am + minutes * 60 for minutes in (0, 30, 60, 90)]


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        pytest.param(
            "2026-03-07 00:00",
            "2026-03-09 00:00",
            ["2026-03-07T09:00:00-05:00", "2026-03-08T09:00:00-04:00"],
            id="spring-forward",
        ),
        pytest.param(
            "2026-10-31 00:00",
            "2026-11-02 00:00",
            ["2026-10-31T09:00:00-04:00", "2026-11-01T09:00:00-05:00"],
            id="fall-back",
        ),
    ],
)
def test_a_nine_oclock_opening_stays_nine_oclock_across_dst(
    start: str, end: str, expected: list[str]
) -> None:
    rules = make_rules({day: [(time(9), time(9, 30))] for day in EVERY_DAY})
    assert offered(rules, start, end) == expected


def test_kolkata_half_hour_offset() -> None:
    rules = make_rules({0: [(time(9), time(10))]}, zone=KOLKATA, slot=20)
    times = offered_times(
        rules, 20, {}, at(KOLKATA, "2026-03-16 00:00"), at(KOLKATA, "2026-03-17 00:00"), LONG_AGO
    )
    assert format_times(times, KOLKATA) == [
        "2026-03-16T09:00:00+05:30",
        "2026-03-16T09:20:00+05:30",
        "2026-03-16T09:40:00+05:30",
    ]
    assert times[0] == epoch(datetime(2026, 3, 16, 3, 30, tzinfo=UTC))


def test_covered_cells_for_valid_starts() -> None:
    rules = make_rules({0: [(time(9), time(12))]}, slot=15)
    nine = epoch(at(NEW_YORK, "2026-03-16 09:00"))
    assert covered_cells(rules, nine, 15) == [nine]
    assert covered_cells(rules, nine, 30) == [nine, nine + 900]
    # 11:30 is the last 30-minute start before closing at 12:00.
    assert covered_cells(rules, nine + 9000, 30) == [nine + 9000, nine + 9900]


@pytest.mark.parametrize(
    ("local_start", "duration"),
    [
        ("2026-03-16 09:05", 15),  # off the grid
        ("2026-03-16 08:45", 15),  # before opening
        ("2026-03-16 11:45", 30),  # would run past closing
        ("2026-03-16 12:00", 15),  # the lunch break
        ("2026-03-16 12:45", 30),  # straddles the end of lunch
        ("2026-03-17 09:00", 15),  # a closed day
    ],
)
def test_covered_cells_for_invalid_starts(local_start: str, duration: int) -> None:
    rules = make_rules({0: [(time(9), time(12)), (time(13), time(17))]}, slot=15)
    assert covered_cells(rules, epoch(at(NEW_YORK, local_start)), duration) is None


def test_covered_cells_across_the_fall_back_repeat() -> None:
    rules = make_rules({day: [(time(0), time(4))] for day in EVERY_DAY}, slot=15)
    last_edt = epoch(at(NEW_YORK, "2026-11-01 01:45", fold=0))
    first_est = epoch(at(NEW_YORK, "2026-11-01 01:00", fold=1))
    assert first_est == last_edt + 900
    assert covered_cells(rules, last_edt, 30) == [last_edt, first_est]


def test_format_times_matches_isoformat_even_for_odd_historic_offsets() -> None:
    zone = ZoneInfo(NEW_YORK)
    instants = [
        epoch(datetime(1880, 6, 1, 12, tzinfo=UTC)),
        epoch(datetime(2026, 7, 4, tzinfo=UTC)),
    ]
    expected = [datetime.fromtimestamp(instant, zone).isoformat() for instant in instants]
    assert format_times(instants, NEW_YORK) == expected
    assert expected[0] == "1880-06-01T07:03:58-04:56:02"
    assert format_times(list(reversed(instants)), NEW_YORK) == list(reversed(expected))


@pytest.mark.parametrize(
    "build",
    [
        lambda: OpenRange(7, time(9), time(10)),
        lambda: OpenRange(0, time(10), time(9)),
        lambda: OpenRange(0, time(9), time(9)),
        lambda: OpenRange(0, time(9, 0, 0, 500), time(10)),
        lambda: DateException(date(2026, 1, 1), ranges=((time(12), time(11)),)),
        lambda: ScheduleRules(NEW_YORK, 0),
        lambda: ScheduleRules(NEW_YORK, 15, capacity=-1),
        lambda: ScheduleRules(NEW_YORK, 15, lead_minutes=-1),
    ],
)
def test_invalid_rules_are_rejected(build: Callable[[], object]) -> None:
    with pytest.raises(ValueError):
        build()


def test_unknown_zone_is_rejected() -> None:
    with pytest.raises(ZoneInfoNotFoundError):
        ScheduleRules("Mars/Olympus_Mons", 15)


def test_naive_datetimes_and_empty_durations_are_rejected() -> None:
    rules = make_rules()
    naive = datetime(2026, 3, 16)
    aware = at(NEW_YORK, "2026-03-16 00:00")
    with pytest.raises(ValueError, match="timezone-aware"):
        offered_times(rules, 30, {}, naive, aware + timedelta(days=1), LONG_AGO)
    with pytest.raises(ValueError, match="positive"):
        offered_times(rules, 0, {}, aware, aware + timedelta(days=1), LONG_AGO)
