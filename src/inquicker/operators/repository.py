"""The operator side's SQL: visits with their catalog names in one query per page, and the
event feed by position."""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Connection,
    Integer,
    Table,
    and_,
    bindparam,
    false,
    func,
    or_,
    select,
)

from inquicker.booking.models import Visit
from inquicker.catalog.models import AppointmentType, Location, Provider
from inquicker.catalog.schedule_models import Schedule
from inquicker.events.models import Event
from inquicker.tenancy.models import Site

VISITS: Table = Visit.__table__  # type: ignore[assignment]
EVENTS: Table = Event.__table__  # type: ignore[assignment]
_V = VISITS.c
_S: Table = Schedule.__table__  # type: ignore[assignment]
_L: Table = Location.__table__  # type: ignore[assignment]
_P: Table = Provider.__table__  # type: ignore[assignment]
_T: Table = AppointmentType.__table__  # type: ignore[assignment]
_SITES: Table = Site.__table__  # type: ignore[assignment]

# Sort keys of GET /admin/api/visits and the columns they order by.
SORTS: dict[str, Any] = {
    "appointment-at": _V.appointment_at,
    "confirmation-number": _V.confirmation_number,
    "created-at": _V.created_at,
    "status": _V.status,
}
Sort = Sequence[tuple[str, bool]]


@dataclass(frozen=True)
class VisitFilters:
    health_system_pks: Sequence[int]
    date_from: date | None = None
    date_to: date | None = None
    location: str | None = None
    provider: str | None = None
    schedule: str | None = None
    statuses: Sequence[str] = ()
    confirmation_number: int | None = None
    visit_id: str | None = None
    # The health systems' schedule time zones when the caller knows them (memoised per data
    # version: operators/visits.py); None reads them here.
    zones: Sequence[str] | None = None


def _columns(with_patient: bool) -> list[Any]:
    cols: list[Any] = [
        _V.pk,
        _V.visit_id,
        _V.health_system_pk,
        _V.site_pk,
        _SITES.c.hostname,
        _V.status,
        _V.appointment_at,
        _V.previous_appointment_at,
        _V.confirmation_number,
        _V.cancelled_at,
        _V.cancellation_reason,
        _V.created_at,
        _S.c.slug.label("schedule"),
        _S.c.name.label("schedule_name"),
        _S.c.time_zone_name,
        _L.c.slug.label("location"),
        _L.c.name.label("location_name"),
        _P.c.slug.label("provider"),
        _P.c.name.label("provider_name"),
        _T.c.slug.label("appointment_type"),
        _T.c.name.label("appointment_type_name"),
    ]
    if with_patient:
        cols.append(_V.patient_data)
    return cols


def _joined(visits: Any) -> Any:
    """Visits with their schedule, location, provider, site and appointment type (every
    join but the last follows a NOT NULL foreign key: no row is lost nor repeated)."""
    return (
        visits.join(_S, _S.c.pk == _V.schedule_pk)
        .join(_L, _L.c.pk == _S.c.location_pk)
        .join(_P, _P.c.pk == _S.c.provider_pk)
        .join(_SITES, _SITES.c.pk == _V.site_pk)
        .outerjoin(_T, _T.c.pk == _V.appointment_type_pk)
    )


def _row_type(stmt: Any) -> Any:
    """A named tuple of the statement's columns: rows are copied into it once, because
    reading a SQLAlchemy Row's field by name cost ~0.8 us (a Python-level ``__getattr__``),
    and rendering a page of 50 reads ~30 fields of each row (~1.2 ms of a 4.5 ms request);
    a named tuple's field is a C-level item lookup."""
    return namedtuple("VisitRow", [column.key for column in stmt.selected_columns])


def _named(row_type: Any, rows: Sequence[Any]) -> list[Any]:
    make = row_type._make
    return [make(row) for row in rows]


# Built once (Core tables, bound parameters): statements are immutable, and rebuilding 21
# columns and five joins for every request was a visible part of a visits page's CPU.
_HS: BindParameter[Any] = bindparam("hs", expanding=True)
_ONE = {
    flag: (stmt, _row_type(stmt))
    for flag in (False, True)
    for stmt in [
        select(*_columns(flag))
        .select_from(_joined(VISITS))
        .where(_V.visit_id == bindparam("visit_id"), _V.health_system_pk.in_(_HS))
    ]
}


@dataclass(frozen=True)
class _Shape:
    """What decides a page statement's text; its values are bound parameters."""

    zones: int  # time-zone windows of a date filter (-1: no date filter)
    date_from: bool
    date_to: bool
    location: bool
    provider: bool
    schedule: bool
    statuses: bool
    confirmation_number: bool
    visit_id: bool

    @classmethod
    def of(cls, f: VisitFilters, zones: Sequence[str]) -> _Shape:
        dated = f.date_from is not None or f.date_to is not None
        return cls(
            len(zones) if dated else -1,
            f.date_from is not None,
            f.date_to is not None,
            bool(f.location),
            bool(f.provider),
            bool(f.schedule),
            bool(f.statuses),
            f.confirmation_number is not None,
            f.visit_id is not None,
        )


def _schedules(shape: _Shape, zone: int | None) -> Any:
    """The schedules the filters allow (in time zone ``zone`` when given), as a subquery."""
    source: Any = _S
    conds: list[ColumnElement[bool]] = []
    if zone is not None:
        conds.append(_S.c.time_zone_name == bindparam(f"zone{zone}"))
    if shape.location:
        source = source.join(_L, _L.c.pk == _S.c.location_pk)
        conds.append(_L.c.slug == bindparam("location"))
    if shape.provider:
        source = source.join(_P, _P.c.pk == _S.c.provider_pk)
        conds.append(_P.c.slug == bindparam("provider"))
    if shape.schedule:
        conds.append(_S.c.slug == bindparam("schedule"))
    return select(_S.c.pk).select_from(source).where(*conds)


def _matching(shape: _Shape) -> list[ColumnElement[bool]]:
    """The WHERE of the matching visits, on the visits table alone: what depends on the
    schedule (its time zone, location, provider, slug) is a ``schedule_pk IN (schedules)``
    test, which the database answers from a small hashed set per visit where a join looked
    each visit's schedule up (PostgreSQL: 1.1 ms for a 2,000-visit day, not 2.9 ms)."""
    conds: list[ColumnElement[bool]] = [_V.health_system_pk.in_(_HS)]
    by_schedule = shape.location or shape.provider or shape.schedule
    if shape.zones == 0:
        conds.append(false())  # a date filter, and no schedule to take a local date from
    elif shape.zones > 0:
        # One range over every zone's window first (an index range in time order, so the
        # database neither unions index scans nor sorts), then each zone's exact window.
        if shape.date_from:
            conds.append(_V.appointment_at >= bindparam("lo"))
        if shape.date_to:
            conds.append(_V.appointment_at < bindparam("hi"))
        windows = []
        for n in range(shape.zones):
            window: list[ColumnElement[bool]] = [_V.schedule_pk.in_(_schedules(shape, n))]
            if shape.date_from:
                window.append(_V.appointment_at >= bindparam(f"lo{n}"))
            if shape.date_to:
                window.append(_V.appointment_at < bindparam(f"hi{n}"))
            windows.append(and_(*window))
        conds.append(or_(*windows))
    elif by_schedule:
        conds.append(_V.schedule_pk.in_(_schedules(shape, None)))
    if shape.statuses:
        conds.append(_V.status.in_(bindparam("statuses", expanding=True)))
    if shape.confirmation_number:
        conds.append(_V.confirmation_number == bindparam("number"))
    if shape.visit_id:
        conds.append(_V.visit_id == bindparam("visit_id"))
    return conds


@lru_cache(maxsize=256)
def _page_statement(
    shape: _Shape, sort: tuple[tuple[str, bool], ...], with_patient: bool
) -> tuple[Any, Any]:
    """One page and the number of matching visits in one statement: the matching visits'
    keys are counted, ordered and cut first (narrow rows), then only the page's visits are
    joined to their names (and patient data)."""
    order = [SORTS[name].desc() if desc else SORTS[name] for name, desc in sort]
    page = (
        select(_V.pk.label("page_pk"), func.count().over().label("total"))
        .where(*_matching(shape))
        .order_by(*order, _V.pk)
        .limit(bindparam("limit", type_=Integer))
        .offset(bindparam("offset", type_=Integer))
        .subquery("page")
    )
    stmt = (
        select(page.c.total, *_columns(with_patient))
        .select_from(_joined(page.join(VISITS, _V.pk == page.c.page_pk)))
        .order_by(*order, _V.pk)
    )
    return stmt, _row_type(stmt)


@lru_cache(maxsize=256)
def _count_statement(shape: _Shape) -> Any:
    return select(func.count()).select_from(VISITS).where(*_matching(shape))


def _local_midnight(zone: str, day: date) -> int:
    return int(datetime.combine(day, time(0), ZoneInfo(zone)).timestamp())


def _parameters(f: VisitFilters, zones: Sequence[str]) -> dict[str, Any]:
    params: dict[str, Any] = {
        "hs": list(f.health_system_pks),
        "location": f.location,
        "provider": f.provider,
        "schedule": f.schedule,
        "statuses": list(f.statuses),
        "number": f.confirmation_number,
        "visit_id": f.visit_id,
    }
    if f.date_from is not None or f.date_to is not None:
        firsts: list[int] = []
        ends: list[int] = []
        for n, zone in enumerate(zones):
            params[f"zone{n}"] = zone
            if f.date_from is not None:
                firsts.append(params.setdefault(f"lo{n}", _local_midnight(zone, f.date_from)))
            if f.date_to is not None:
                end = _local_midnight(zone, f.date_to + timedelta(days=1))
                ends.append(params.setdefault(f"hi{n}", end))
        params["lo"] = min(firsts, default=0)
        params["hi"] = max(ends, default=0)
    return params


def time_zones(conn: Connection, hs_pks: Sequence[int]) -> list[str]:
    """The time zones of the health systems' schedules (local dates are per schedule),
    sorted: the same zones give the same statement parameters."""
    return sorted(conn.execute(_ZONES, {"hs": list(hs_pks)}).scalars().all())


_ZONES = select(_S.c.time_zone_name).where(_S.c.health_system_pk.in_(_HS)).distinct()


def visits_page(
    conn: Connection,
    f: VisitFilters,
    sort: Sort,
    offset: int,
    limit: int,
    *,
    with_patient: bool,
) -> tuple[list[Any], int]:
    """(rows of one page, total matching). The total comes with the page's rows; only a
    page past the end (no rows to carry it) costs a count of its own."""
    dated = f.date_from is not None or f.date_to is not None
    zones = (
        (f.zones if f.zones is not None else time_zones(conn, f.health_system_pks)) if dated else ()
    )
    shape = _Shape.of(f, zones)
    params = _parameters(f, zones)
    stmt, row_type = _page_statement(shape, tuple(sort), with_patient)
    rows = _named(row_type, conn.execute(stmt, {**params, "offset": offset, "limit": limit}).all())
    if rows:
        return rows, int(rows[0].total)
    if offset == 0:
        return [], 0
    return [], int(conn.execute(_count_statement(shape), params).scalar_one())


def visit_row(
    conn: Connection, visit_id: str, hs_pks: Sequence[int], *, with_patient: bool
) -> Any | None:
    """One visit of these health systems (None for any other: the caller answers 404)."""
    stmt, row_type = _ONE[with_patient]
    row = conn.execute(stmt, {"visit_id": visit_id, "hs": list(hs_pks)}).first()
    return row_type._make(row) if row is not None else None


def visit_events(conn: Connection, visit_pk: int) -> list[Any]:
    return list(
        conn.execute(
            select(EVENTS.c.pk, EVENTS.c.type, EVENTS.c.occurred_at, EVENTS.c.position)
            .where(EVENTS.c.visit_pk == visit_pk)
            .order_by(EVENTS.c.pk)
        ).all()
    )


def feed(conn: Connection, hs_pks: Sequence[int], after: int, limit: int) -> list[Any]:
    """Positioned events after ``after`` in position order (see events/sequencer.py)."""
    return list(
        conn.execute(
            select(
                EVENTS.c.pk,
                EVENTS.c.type,
                EVENTS.c.occurred_at,
                EVENTS.c.payload,
                EVENTS.c.position,
            )
            .where(
                EVENTS.c.health_system_pk.in_(list(hs_pks)),
                EVENTS.c.position.is_not(None),
                EVENTS.c.position > after,
            )
            .order_by(EVENTS.c.position)
            .limit(limit)
        ).all()
    )
