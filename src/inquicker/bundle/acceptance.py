"""Insurance acceptance: storing the four-level hierarchy and materializing effective plans.

A health system says which plans it accepts per service, at four levels: the whole health
system, a region, a location, or one schedule. For a schedule offering service S, the most
specific level that has a list for S wins — the schedule's own list, else its location's,
else that location's region's, else the health system's; with no list at all, the schedule
accepts no plan. An empty list is still a list: that level explicitly accepts nothing for S,
overriding any broader level. The winning plans are stored in ``schedule_plans`` so that
filters and includes are plain joins.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from inquicker.bundle import writes
from inquicker.bundle.result import SectionCounts
from inquicker.bundle.schema import AcceptanceIn
from inquicker.catalog.models import AcceptanceList, AcceptanceListPlan, Location
from inquicker.catalog.schedule_models import Schedule, SchedulePlan

Key = tuple[str, int | None, int]  # (level, scope pk, service pk)

_SCOPE_TABLE = {"region": "regions", "location": "locations", "schedule": "schedules"}


def _lists_of(session: Session, hs_pk: int) -> dict[Key, int]:
    stmt = select(
        AcceptanceList.level, AcceptanceList.scope_pk, AcceptanceList.service_pk, AcceptanceList.pk
    ).where(AcceptanceList.health_system_pk == hs_pk)
    return {(level, scope, service): pk for level, scope, service, pk in session.execute(stmt)}


def write_acceptance(
    session: Session,
    hs_pk: int,
    entries: list[AcceptanceIn],
    pks: Mapping[str, Mapping[str, int]],
) -> SectionCounts:
    """Replace the health system's acceptance lists with ``entries`` (all levels)."""
    lists_table = writes.table_of(AcceptanceList)
    plans_table = writes.table_of(AcceptanceListPlan)
    desired: dict[Key, list[int]] = {}
    for entry in entries:
        scope = pks[_SCOPE_TABLE[entry.level]][entry.scope] if entry.scope is not None else None
        key = (entry.level, scope, pks["services"][entry.service])
        desired[key] = [pks["insurance_plans"][plan] for plan in entry.plans]
    existing = _lists_of(session, hs_pk)
    gone = [pk for key, pk in existing.items() if key not in desired]
    new = [key for key in desired if key not in existing]
    for part in writes.chunks(gone):
        session.execute(delete(plans_table).where(plans_table.c.list_pk.in_(part)))
    writes.delete_by_pk(session, lists_table, gone)
    if new:
        writes.bulk_insert(
            session,
            lists_table,
            [
                {"health_system_pk": hs_pk, "level": level, "scope_pk": scope, "service_pk": svc}
                for level, scope, svc in new
            ],
        )
        existing = _lists_of(session, hs_pk)
    before = writes.existing_children(
        session, plans_table, "list_pk", ("plan_pk",), lists_table, hs_pk
    )
    changed = writes.replace_children(
        session,
        plans_table,
        "list_pk",
        ("plan_pk",),
        before,
        {existing[key]: [(plan,) for plan in plans] for key, plans in desired.items()},
    )
    new_pks = {existing[key] for key in new}
    updated = len(changed - new_pks)
    return SectionCounts(
        created=len(new),
        updated=updated,
        unchanged=len(desired) - len(new) - updated,
        removed=len(gone),
    )


def effective_plans(
    lists: Mapping[Key, frozenset[int]],
    schedule_pk: int,
    service_pk: int,
    location_pk: int,
    region_pk: int | None,
) -> frozenset[int]:
    """The plans a schedule accepts: the most specific level with a list for its service."""
    candidates: list[Key] = [
        ("schedule", schedule_pk, service_pk),
        ("location", location_pk, service_pk),
    ]
    if region_pk is not None:
        candidates.append(("region", region_pk, service_pk))
    candidates.append(("health-system", None, service_pk))
    for key in candidates:
        if key in lists:
            return lists[key]
    return frozenset()


def write_schedule_plans(session: Session, hs_pk: int) -> set[int]:
    """Recompute ``schedule_plans`` for every schedule of the health system; returns changed."""
    schedules_table = writes.table_of(Schedule)
    plans: dict[int, set[int]] = {}
    stmt: Any = (
        select(AcceptanceList.pk, AcceptanceListPlan.plan_pk)
        .outerjoin(AcceptanceListPlan, AcceptanceListPlan.list_pk == AcceptanceList.pk)
        .where(AcceptanceList.health_system_pk == hs_pk)
    )
    for list_pk, plan_pk in session.execute(stmt):
        members = plans.setdefault(list_pk, set())
        if plan_pk is not None:
            members.add(plan_pk)
    lists = {key: frozenset(plans.get(pk, ())) for key, pk in _lists_of(session, hs_pk).items()}
    stmt = select(Location.pk, Location.region_pk).where(Location.health_system_pk == hs_pk)
    regions: dict[int, int | None] = {pk: region for pk, region in session.execute(stmt)}
    desired: dict[int, list[tuple[Any, ...]]] = {}
    stmt = select(Schedule.pk, Schedule.service_pk, Schedule.location_pk).where(
        Schedule.health_system_pk == hs_pk
    )
    for schedule_pk, service_pk, location_pk in session.execute(stmt):
        accepted = effective_plans(
            lists, schedule_pk, service_pk, location_pk, regions.get(location_pk)
        )
        desired[schedule_pk] = [(plan,) for plan in accepted]
    plan_table = writes.table_of(SchedulePlan)
    before = writes.existing_children(
        session, plan_table, "schedule_pk", ("plan_pk",), schedules_table, hs_pk
    )
    return writes.replace_children(
        session, plan_table, "schedule_pk", ("plan_pk",), before, desired
    )
