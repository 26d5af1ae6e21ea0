"""The data set of bench/suite.py: a synthetic health system, booked seats, booking slots.

The catalog comes from bench/generate.py through the real bundle importer. Booked seats are
``seat_claims`` rows of visits in the next 14 days (``visit_pk`` holds placeholder ids below
zero: no ``visits`` rows, which no read path joins): ~30% of the cells of the 10
availability schedules, the rest spread evenly over every other schedule. Booking slots are
free, non-overlapping start times of the other schedules for their highest-priority
appointment type, so every visit token and every POST /visits of a run books a distinct,
offered time.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import orjson
from sqlalchemy import Engine, delete, insert, select
from sqlalchemy.orm import Session

from bench.generate import HOSTNAME, generate
from bench.harness import SECRET, Request
from inquicker.availability.engine import covered_cells, format_times, offered_times
from inquicker.availability.models import SeatClaim
from inquicker.availability.repository import BookableSchedule, load_schedules
from inquicker.booking.models import VisitToken
from inquicker.booking.tokens import TOKEN_MINUTES, mint
from inquicker.bundle.importer import import_bundle
from inquicker.db.engine import make_engine, make_sessionmaker, transaction
from inquicker.db.migrate import upgrade
from inquicker.tenancy.keys import create_key
from inquicker.tenancy.models import ApiKey, HealthSystem

API = f"/api/v3/{HOSTNAME}"
AVAILABILITY_SCHEDULES = 10
WINDOW_DAYS = 14
BATCH = 500  # schedule ids per load_schedules call (bound parameters per statement)


@dataclass
class DataSet:
    url: str
    key: str  # an API key with the read and book scopes
    providers: int
    locations: int
    schedules: int
    schedule_ids: list[str]
    availability_ids: list[str]
    import_seconds: float
    booked_seats: int = 0
    seats_seconds: float = 0.0
    # Schedules free for booking scenarios (not among the availability ones).
    bookable_ids: list[str] = field(default_factory=list)
    taken: dict[int, set[int]] = field(default_factory=dict)  # schedule pk -> booked cells

    @property
    def auth(self) -> str:
        return f"Token {self.key}"


def build(url: str, providers: int, locations: int, schedules: int, booked_seats: int) -> DataSet:
    """Migrate, import the generated bundle, issue a key and book ``booked_seats`` seats."""
    engine = make_engine(url)
    upgrade(engine)
    doc = generate(providers, schedules, locations)
    started = time.perf_counter()
    with transaction(make_sessionmaker(engine)) as session:
        import_bundle(session, doc)
        key = create_key(session, HOSTNAME, "bench", ("read", "book")).secret
    imported = time.perf_counter() - started
    ids = [s["id"] for s in doc["schedules"]]
    data = DataSet(
        url=url,
        key=key,
        providers=providers,
        locations=locations,
        schedules=schedules,
        schedule_ids=ids,
        availability_ids=ids[:AVAILABILITY_SCHEDULES],
        import_seconds=round(imported, 1),
        bookable_ids=ids[AVAILABILITY_SCHEDULES:],
    )
    if booked_seats:
        started = time.perf_counter()
        data.booked_seats = _book_seats(engine, data, booked_seats)
        data.seats_seconds = round(time.perf_counter() - started, 1)
    engine.dispose()
    return data


def _health_system_pks(session: Session) -> list[int]:
    return list(session.scalars(select(HealthSystem.pk)))


def _load(session: Session, ids: Sequence[str]) -> Iterator[BookableSchedule]:
    """Rules of the schedules ``ids``, in that order."""
    hs_pks = _health_system_pks(session)
    today = datetime.now(UTC).date()
    for n in range(0, len(ids), BATCH):
        chunk = ids[n : n + BATCH]
        loaded = load_schedules(
            session, hs_pks, chunk, today, today + timedelta(days=WINDOW_DAYS + 1)
        )
        yield from (loaded[i] for i in chunk if i in loaded)


def _book_seats(engine: Engine, data: DataSet, total: int) -> int:
    now = datetime.now(UTC)
    until = now + timedelta(days=WINDOW_DAYS)
    rows: list[dict[str, int]] = []
    with transaction(make_sessionmaker(engine)) as session:
        schedules = list(_load(session, data.schedule_ids))
        wanted = data.availability_ids
        first = [s for s in schedules if s.id in wanted]
        rest = [s for s in schedules if s.id not in wanted]
        for schedule in first:  # ~30% of the cells, as a busy schedule looks
            cells = offered_times(schedule.rules, schedule.rules.slot_minutes, {}, now, until, now)
            rows += _claims(schedule.pk, [c for n, c in enumerate(cells) if n % 10 < 3], len(rows))
        left = max(0, total - len(rows))
        for n, schedule in enumerate(rest):
            quota = left // (len(rest) - n) if len(rest) > n else 0
            cells = offered_times(schedule.rules, schedule.rules.slot_minutes, {}, now, until, now)
            if quota and cells:
                step = max(1, len(cells) // quota)
                chosen = cells[::step][:quota]
                rows += _claims(schedule.pk, chosen, len(rows))
                left -= len(chosen)
        for n in range(0, len(rows), 10_000):
            session.execute(insert(SeatClaim), rows[n : n + 10_000])
    for row in rows:
        data.taken.setdefault(row["schedule_pk"], set()).add(row["cell_start"])
    return len(rows)


def _claims(schedule_pk: int, cells: Sequence[int], offset: int) -> list[dict[str, int]]:
    return [
        {"schedule_pk": schedule_pk, "cell_start": cell, "seat": 0, "visit_pk": -(offset + n + 1)}
        for n, cell in enumerate(cells)
    ]


# --- booking slots -------------------------------------------------------------------------


@dataclass(frozen=True)
class Slot:
    schedule_pk: int
    schedule_id: str
    start: int  # UTC epoch seconds
    local: str  # ISO 8601 in the schedule's zone, as the API writes it
    type_pk: int | None
    type_id: str | None
    cells: tuple[int, ...]  # the cells a booking of the type occupies


def booking_slots(url: str, data: DataSet, ids: Sequence[str], count: int) -> list[Slot]:
    """``count`` free, offered, non-overlapping slots of ``ids``, round-robin over schedules,
    from tomorrow to 14 days ahead."""
    engine = make_engine(url)
    now = datetime.now(UTC)
    start, until = now + timedelta(days=1), now + timedelta(days=WINDOW_DAYS)
    per_schedule: list[list[Slot]] = []
    each = max(4, -(-count // max(1, len(ids))))
    found = 0
    with make_sessionmaker(engine)() as session:
        for schedule in _load(session, ids):
            kind = schedule.default_type()
            duration = kind.duration_minutes if kind else schedule.rules.slot_minutes
            taken = dict.fromkeys(data.taken.get(schedule.pk, ()), schedule.rules.capacity)
            slots: list[Slot] = []
            free_from = 0
            for begin in offered_times(schedule.rules, duration, taken, start, until, now):
                if begin < free_from:
                    continue
                cells = covered_cells(schedule.rules, begin, duration) or [begin]
                free_from = cells[-1] + schedule.rules.slot_seconds
                local = format_times([begin], schedule.rules.time_zone)[0]
                slots.append(
                    Slot(
                        schedule.pk,
                        schedule.id,
                        begin,
                        local,
                        kind.pk if kind else None,
                        kind.id if kind else None,
                        tuple(cells),
                    )
                )
                if len(slots) >= each:
                    break
            per_schedule.append(slots)
            found += len(slots)
            if found >= count * 2:
                break
    engine.dispose()
    ordered = [s[n] for n in range(each) for s in per_schedule if n < len(s)]
    if len(ordered) < count:
        print(f"note: only {len(ordered)} free booking slots for {count} wanted", flush=True)
    return ordered[:count]


def visit_token_requests(data: DataSet, slots: Sequence[Slot]) -> list[Request]:
    """GET /visit-token for each slot (the server checks, holds and signs)."""
    return [
        Request(
            "GET",
            f"{API}/visit-token?schedule_id={s.schedule_id}"
            f"&appointment_at={quote(s.local, safe='')}",
            data.auth,
        )
        for s in slots
    ]


def visit_body(slot: Slot, n: int) -> str:
    attributes = {
        "appointment-at": slot.local,
        "appointment-type": slot.type_id,
        "birthdate": "1985-06-15",
        "email": f"patient{n}@example.com",
        "first-name": f"Patient{n}",
        "last-name": "Bench",
        "gender": "female" if n % 2 else "male",
        "new-patient": "yes",
        "phone-number": "(615) 555-0100",
    }
    return orjson.dumps(
        {
            "data": {
                "type": "visits",
                "attributes": {k: v for k, v in attributes.items() if v is not None},
                "relationships": {
                    "schedule": {"data": {"type": "schedules", "id": slot.schedule_id}}
                },
            }
        }
    ).decode()


def mint_visit_requests(url: str, data: DataSet, slots: Sequence[Slot]) -> list[Request]:
    """Record a visit token per slot as GET /visit-token would (token row, and a hold when
    the health system holds seats), and the POST /visits that uses it."""
    engine = make_engine(url)
    now = int(time.time())
    requests: list[Request] = []
    with transaction(make_sessionmaker(engine)) as session:
        key = session.scalars(select(ApiKey).order_by(ApiKey.pk)).first()
        assert key is not None
        hold_minutes = min(
            session.scalars(select(HealthSystem.hold_minutes)).first() or 0, TOKEN_MINUTES
        )
        tokens: list[dict[str, object]] = []
        holds: list[dict[str, object]] = []
        for n, slot in enumerate(slots):
            jti = str(uuid.uuid4())
            tokens.append(
                {
                    "jti": jti,
                    "site_pk": key.site_pk,
                    "api_key_pk": key.pk,
                    "schedule_pk": slot.schedule_pk,
                    "appointment_at": slot.start,
                    "appointment_type_pk": slot.type_pk,
                    "issued_at": now,
                    "expires_at": now + TOKEN_MINUTES * 60,
                }
            )
            if hold_minutes:
                holds += [
                    {
                        "schedule_pk": slot.schedule_pk,
                        "cell_start": cell,
                        "seat": 0,
                        "hold_jti": jti,
                        "expires_at": now + hold_minutes * 60,
                    }
                    for cell in slot.cells
                ]
            token = mint(
                SECRET,
                jti=jti,
                schedule_id=slot.schedule_id,
                appointment_at=slot.local,
                audience=HOSTNAME,
                issued_at=now,
            )
            requests.append(
                Request("POST", f"{API}/visits", f"Bearer {token}", visit_body(slot, n))
            )
        for n in range(0, len(tokens), 5_000):
            session.execute(insert(VisitToken), tokens[n : n + 5_000])
        for n in range(0, len(holds), 10_000):
            session.execute(insert(SeatClaim), holds[n : n + 10_000])
    engine.dispose()
    return requests


def release_holds(url: str) -> int:
    """Delete unused holds (a scenario's leftovers), so the next one starts clean."""
    engine = make_engine(url)
    with transaction(make_sessionmaker(engine)) as session:
        result = session.execute(
            delete(SeatClaim).where(SeatClaim.hold_jti.is_not(None), SeatClaim.visit_pk.is_(None))
        )
        count = int(getattr(result, "rowcount", 0) or 0)
    engine.dispose()
    return count
