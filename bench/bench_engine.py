"""In-process benchmark of the availability engine (not part of the test suite).

One request's worth of work: 100 schedules x 14 days, 15-minute grid, Mon-Fri 08:00-12:00
and 13:00-17:00, Sat 09:00-13:00, about 30% of cells taken, one offered_times call plus
format_times per schedule. Prints p50/p95 over the runs, for a cold zone cache (first run)
and warm caches (what a long-running server sees).

    .venv/bin/python bench/bench_engine.py [--runs 50] [--schedules 100] [--duration 15]
"""

from __future__ import annotations

import argparse
import random
import statistics
import time as clock
from datetime import UTC, datetime, time, timedelta

from inquicker.availability import (
    OpenRange,
    ScheduleRules,
    covered_cells,
    format_times,
    offered_times,
)
from inquicker.availability.zones import clear_caches

ZONES = ("America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles")
WEEKLY = (
    *(OpenRange(day, time(8), time(12)) for day in range(5)),
    *(OpenRange(day, time(13), time(17)) for day in range(5)),
    OpenRange(5, time(9), time(13)),
)
NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)  # the window crosses the 2026-03-08 DST change
DAYS = 14


def build(count: int, seed: int) -> list[tuple[ScheduleRules, dict[int, int]]]:
    """Schedules with about 30% of their cells in the window taken."""
    rng = random.Random(seed)
    schedules = []
    for index in range(count):
        rules = ScheduleRules(
            time_zone=ZONES[index % len(ZONES)],
            slot_minutes=15,
            capacity=1,
            lead_minutes=60,
            horizon_days=90,
            weekly=WEEKLY,
        )
        cells = offered_times(rules, 15, {}, NOW, NOW + timedelta(days=DAYS), NOW)
        taken = {cell: 1 for cell in cells if rng.random() < 0.3}
        schedules.append((rules, taken))
    return schedules


def one_request(schedules: list[tuple[ScheduleRules, dict[int, int]]], duration: int) -> int:
    """Compute and format availability for every schedule; return how many times offered."""
    end = NOW + timedelta(days=DAYS)
    total = 0
    for rules, taken in schedules:
        times = offered_times(rules, duration, taken, NOW, end, NOW)
        total += len(format_times(times, rules.time_zone))
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--schedules", type=int, default=100)
    parser.add_argument("--duration", type=int, default=15, help="appointment minutes")
    args = parser.parse_args()

    schedules = build(args.schedules, seed=1)
    clear_caches()

    timings = []
    offered = 0
    for _ in range(args.runs):
        started = clock.perf_counter()
        offered = one_request(schedules, args.duration)
        timings.append((clock.perf_counter() - started) * 1000)

    cold, warm = timings[0], sorted(timings[1:] or timings)
    p50 = statistics.median(warm)
    p95 = warm[min(len(warm) - 1, round(0.95 * (len(warm) - 1)))]
    print(
        f"{args.schedules} schedules x {DAYS} days, {args.duration}-minute type, "
        f"{offered} times offered per request"
    )
    print(f"cold first run: {cold:.2f} ms")
    print(
        f"warm p50: {p50:.2f} ms  p95: {p95:.2f} ms  min: {warm[0]:.2f} ms  "
        f"(over {len(warm)} runs; wall clock, so other load on the machine shows up)"
    )
    # Sanity check that the numbers measure real work.
    rules, _ = schedules[0]
    sample = offered_times(rules, args.duration, {}, NOW, NOW + timedelta(days=DAYS), NOW)
    assert sample and covered_cells(rules, sample[0], args.duration) is not None


if __name__ == "__main__":
    main()
