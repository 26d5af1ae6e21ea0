"""Offered times kept per schedule-week and claims version (availability/kept_times.py) are
always what the engine computes afresh.

A seeded random walk (deterministic, so a failure replays) on both engines: claims and
holds are written straight into ``seat_claims`` with SQL — as another process, or a path
that never heard of the cache, would — holds are converted and released, the clock moves
past hold expiries, and after every step one warm server answers windows and types drawn at
random. Each answer must equal the engine run from scratch on what the database holds now:
rules from ``load_schedules``, seats from ``seats_taken``, ``offered_times``,
``format_times``. Three starting dates put the windows across a spring-forward and a
fall-back in New York.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, delete, func, insert, select, update
from sqlalchemy.orm import Session, sessionmaker

from inquicker.app import create_app
from inquicker.availability.engine import format_times, offered_times
from inquicker.availability.models import SeatClaim, SeatClaimVersion
from inquicker.availability.repository import ALL_DATES, load_schedules, seats_taken
from inquicker.catalog.schedule_models import Schedule, ScheduleHours
from inquicker.settings import Settings
from inquicker.tenancy.directory import FRESH_SECONDS, Directory
from inquicker.tenancy.models import HealthSystem
from tests.availability_http.fixture import KOLKATA, NY_CLINIC, NY_GROUP, Avail
from tests.availability_http.helpers import (
    IN_OFFSET,
    KOLKATA_DAY,
    NY_CLINIC_DAY,
    NY_OFFSET,
    get,
    ids,
    times_of,
)
from tests.conftest import ApiClient

SCHEDULES = (NY_CLINIC, NY_GROUP, KOLKATA)
# None: each schedule's default type. long-visit: two cells of NY_CLINIC; follow-up: three
# (45 minutes there); consult: two cells of KOLKATA.
TYPES = (None, None, "long-visit", "follow-up", "consult")
STEPS = 30


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2026, 12, 1, 12, 0, tzinfo=UTC))


@pytest.fixture
def warm_api(engine: Engine, settings: Settings, avail: Avail, clock: Clock) -> Iterator[ApiClient]:
    app = create_app(settings, engine=engine, clock=clock)
    with ApiClient(app, base_url="http://testserver", raise_server_exceptions=False) as c:
        yield c


def _expected(
    session_factory: sessionmaker[Session],
    avail_pks: dict[str, int],
    type_id: str | None,
    first: datetime | date,
    last: datetime | date,
    now: datetime,
) -> dict[str, list[str]]:
    """The engine from scratch, as the endpoint answered before anything was kept."""
    with session_factory() as session:
        schedules = load_schedules(session, [_hs_pk(session, avail_pks)], SCHEDULES, *ALL_DATES)
        pks = [s.pk for s in schedules.values()]
        taken = seats_taken(session, pks, 0, 2**40, int(now.timestamp()))
    out: dict[str, list[str]] = {}
    for schedule_id in SCHEDULES:
        schedule = schedules[schedule_id]
        offered = schedule.type(type_id) if type_id else schedule.default_type()
        if type_id and offered is None:
            out[schedule_id] = []
            continue
        assert offered is not None
        zone = ZoneInfo(schedule.rules.time_zone)
        start = (
            first if isinstance(first, datetime) else datetime.combine(first, time(0), tzinfo=zone)
        )
        end = (
            last
            if isinstance(last, datetime)
            else datetime.combine(last + timedelta(days=1), time(0), tzinfo=zone)
        )
        instants = offered_times(
            schedule.rules, offered.duration_minutes, taken.get(schedule.pk, {}), start, end, now
        )
        out[schedule_id] = format_times(instants, schedule.rules.time_zone)
    return out


def _hs_pk(session: Session, pks: dict[str, int]) -> int:
    hs_pk: int = session.execute(
        select(Schedule.health_system_pk).where(Schedule.pk == pks[NY_CLINIC])
    ).scalar_one()
    return hs_pk


def _step(rng: random.Random, session: Session, pks: dict[str, int], now: int) -> str:
    """One change to the claims, as a process that bypasses the booking code would make."""
    action = rng.choice(["visit", "visit", "hold", "hold", "release", "convert", "wait"])
    schedule_pk = pks[rng.choice(SCHEDULES)]
    # Cells on the schedules' grids (all are multiples of 15 minutes, and every open range
    # starts on the half hour) over the next 16 days.
    cell = (now // 1800) * 1800 + rng.randrange(0, 16 * 48) * 1800
    if action in ("visit", "hold"):
        seat = session.execute(
            select(func.coalesce(func.max(SeatClaim.seat) + 1, 0)).where(
                SeatClaim.schedule_pk == schedule_pk, SeatClaim.cell_start == cell
            )
        ).scalar_one()
        session.execute(
            insert(SeatClaim).values(
                schedule_pk=schedule_pk,
                cell_start=cell,
                seat=seat,
                visit_pk=None,
                hold_jti=f"hold-{rng.random()}" if action == "hold" else None,
                expires_at=now + rng.randrange(60, 3600) if action == "hold" else None,
            )
        )
    elif action == "release":
        claims = session.scalars(select(SeatClaim.pk)).all()
        if claims:
            session.execute(delete(SeatClaim).where(SeatClaim.pk == rng.choice(claims)))
    elif action == "convert":
        holds = session.scalars(select(SeatClaim.pk).where(SeatClaim.expires_at > now)).all()
        if holds:
            session.execute(
                update(SeatClaim)
                .where(SeatClaim.pk == rng.choice(holds))
                .values(expires_at=None, hold_jti=None)
            )
    return action


@pytest.mark.parametrize(
    "start",
    [
        datetime(2026, 12, 1, 12, 0, tzinfo=UTC),
        datetime(2027, 3, 10, 12, 0, tzinfo=UTC),  # New York springs forward on 14 March
        datetime(2027, 11, 3, 12, 0, tzinfo=UTC),  # and falls back on 7 November
    ],
    ids=["december", "spring-forward", "fall-back"],
)
def test_kept_days_always_equal_the_engine_from_scratch(
    warm_api: ApiClient,
    avail: Avail,
    clock: Clock,
    session_factory: sessionmaker[Session],
    start: datetime,
) -> None:
    rng = random.Random(start.toordinal())
    clock.now = start
    seen_actions: set[str] = set()
    for _ in range(STEPS):
        now = int(clock.now.timestamp())
        with session_factory() as session, session.begin():
            seen_actions.add(_step(rng, session, avail.pks, now))
        clock.now += timedelta(minutes=rng.choice([0, 0, 1, 7, 30, 61]))
        for _ in range(3):
            type_id = rng.choice(TYPES)
            first_day = clock.now.date() + timedelta(days=rng.randrange(-1, 12))
            first: date | datetime = first_day
            last: date | datetime = first_day + timedelta(days=rng.randrange(0, 9))
            if rng.random() < 0.4:  # absolute instants, not on a day boundary
                first = clock.now + timedelta(minutes=rng.randrange(-600, 9000))
                last = first + timedelta(minutes=rng.randrange(1, 20000))
            params = [*ids(*SCHEDULES), ("from", first.isoformat()), ("to", last.isoformat())]
            if type_id:
                params.append(("appointment_type", type_id))
            answered = times_of(get(warm_api, params, avail.key))
            expected = _expected(session_factory, avail.pks, type_id, first, last, clock.now)
            assert answered == expected, (type_id, first, last, clock.now)
    assert {"visit", "hold", "release", "convert"} <= seen_actions
    with session_factory() as session:  # the triggers counted every change
        assert session.scalar(select(func.sum(SeatClaimVersion.version))) >= STEPS // 2


def test_a_claim_written_by_another_process_is_seen_at_once(
    warm_api: ApiClient, avail: Avail, clock: Clock, session_factory: sessionmaker[Session]
) -> None:
    """Kept, then a direct SQL insert, update and delete: each answer after it changes."""
    day = [*ids(NY_CLINIC), ("from", "2026-12-02"), ("to", "2026-12-02")]
    nine = "2026-12-02T09:00:00-05:00"
    assert nine in times_of(get(warm_api, day, avail.key))[NY_CLINIC]
    cell = int(datetime(2026, 12, 2, 14, 0, tzinfo=UTC).timestamp())  # 09:00 EST
    with session_factory() as session, session.begin():
        session.execute(
            insert(SeatClaim).values(
                schedule_pk=avail.pks[NY_CLINIC],
                cell_start=cell,
                seat=0,
                hold_jti="held-elsewhere",
                expires_at=int(clock.now.timestamp()) + 600,
            )
        )
    assert nine not in times_of(get(warm_api, day, avail.key))[NY_CLINIC]
    clock.now += timedelta(minutes=10)  # the hold lapses: no write, the time is back
    assert nine in times_of(get(warm_api, day, avail.key))[NY_CLINIC]
    with session_factory() as session, session.begin():
        session.execute(
            update(SeatClaim)
            .where(SeatClaim.hold_jti == "held-elsewhere")
            .values(expires_at=None, hold_jti=None)
        )
    assert nine not in times_of(get(warm_api, day, avail.key))[NY_CLINIC]
    with session_factory() as session, session.begin():
        session.execute(delete(SeatClaim).where(SeatClaim.cell_start == cell))
        versions = dict(
            session.execute(select(SeatClaimVersion.schedule_pk, SeatClaimVersion.version)).all()
        )
    assert nine in times_of(get(warm_api, day, avail.key))[NY_CLINIC]
    assert versions == {avail.pks[NY_CLINIC]: 3}  # insert, update, delete


def test_changed_hours_replace_the_kept_days(
    warm_api: ApiClient, avail: Avail, session_factory: sessionmaker[Session]
) -> None:
    """Kept days belong to the rules they were computed from: another process's change of
    hours (an import or an operator: both bump the data version) is answered with the new
    hours once the tenant's version is read again, and equal rules reloaded keep them."""
    seconds = [0.0]
    warm_api.app.state.api.directory = Directory(clock=lambda: seconds[0])  # type: ignore[attr-defined]
    saturday = [*ids(NY_CLINIC), ("from", "2026-12-05"), ("to", "2026-12-05")]
    assert times_of(get(warm_api, saturday, avail.key))[NY_CLINIC] == []
    with session_factory() as session, session.begin():
        session.add(
            ScheduleHours(
                schedule_pk=avail.pks[NY_CLINIC], weekday=5, opens=time(8), closes=time(8, 30)
            )
        )
        session.execute(update(HealthSystem).values(data_version=HealthSystem.data_version + 1))
    seconds[0] += FRESH_SECONDS + 0.01
    assert times_of(get(warm_api, saturday, avail.key))[NY_CLINIC] == [
        "2026-12-05T08:00:00-05:00",
        "2026-12-05T08:15:00-05:00",
    ]


def test_with_the_cache_off_every_answer_is_computed(
    engine: Engine, settings: Settings, avail: Avail, clock: Clock
) -> None:
    """INQUICKER_AVAILABILITY_CACHE_BYTES=0: nothing kept, the same answers."""
    off = settings.model_copy(update={"availability_cache_bytes": 0})
    app = create_app(off, engine=engine, clock=clock)
    day = [*ids(NY_CLINIC, KOLKATA), ("from", "2026-12-02"), ("to", "2026-12-02")]
    with ApiClient(app, base_url="http://testserver") as api:
        first = times_of(get(api, day, avail.key))
        assert first == times_of(get(api, day, avail.key))
        assert len(api.app.state.api.kept_times) == 0  # type: ignore[attr-defined]
    assert first[NY_CLINIC] == [f"2026-12-02T{clock}:00{NY_OFFSET}" for clock in NY_CLINIC_DAY]
    assert first[KOLKATA] == [f"2026-12-02T{clock}:00{IN_OFFSET}" for clock in KOLKATA_DAY]
