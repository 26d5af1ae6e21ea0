"""Exporting a health system as a bundle document, in canonical form.

Canonical means: every key present (defaults included), lists of rows sorted by id, a
schedule's weekly hours grouped by identical open ranges, exceptions by date. So
import -> export -> import elsewhere -> export yields the same document, and two exports of
the same data diff cleanly.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date, time
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from inquicker.booking.visit_settings import VisitSettings
from inquicker.bundle.schema import FORMAT, LEVELS, WEEKDAYS, dump_visit_settings
from inquicker.bundle.writes import table_of
from inquicker.catalog.models import (
    AcceptanceList,
    AcceptanceListPlan,
    AppointmentType,
    InsurancePlan,
    Location,
    MedicalGroup,
    Provider,
    ProviderMedicalGroup,
    Region,
    Service,
)
from inquicker.catalog.schedule_models import (
    Schedule,
    ScheduleAppointmentType,
    ScheduleException,
    ScheduleHours,
)
from inquicker.tenancy.models import HealthSystem, Site, SiteHealthSystem


def export_bundle(session: Session, health_system_id: str) -> dict[str, Any]:
    """The health system's data as a bundle document; LookupError if the id is unknown."""
    hs = session.scalars(
        select(HealthSystem).where(HealthSystem.slug == health_system_id)
    ).one_or_none()
    if hs is None:
        raise LookupError(f"no health system with id {health_system_id!r}")
    rows = {
        name: _rows(session, model, hs.pk)
        for name, model in (
            ("regions", Region),
            ("locations", Location),
            ("services", Service),
            ("medical_groups", MedicalGroup),
            ("providers", Provider),
            ("appointment_types", AppointmentType),
            ("insurance_plans", InsurancePlan),
            ("schedules", Schedule),
        )
    }
    slugs = {name: {row.pk: row.slug for row in found} for name, found in rows.items()}
    return {
        "format": FORMAT,
        "health_system": _health_system(hs),
        "sites": _sites(session, hs.pk),
        "regions": [{"id": r.slug, "name": r.name} for r in rows["regions"]],
        "locations": [_location(loc, slugs["regions"]) for loc in rows["locations"]],
        "services": [{"id": s.slug, "name": s.name} for s in rows["services"]],
        "medical_groups": [{"id": g.slug, "name": g.name} for g in rows["medical_groups"]],
        "providers": _providers(session, hs.pk, rows["providers"], slugs["medical_groups"]),
        "appointment_types": [
            {
                "id": t.slug,
                "name": t.name,
                "priority": t.priority,
                "duration_minutes": t.duration_minutes,
            }
            for t in rows["appointment_types"]
        ],
        "insurance_plans": [
            {"id": p.slug, "company": p.company, "name": p.name} for p in rows["insurance_plans"]
        ],
        "insurance_acceptance": _acceptance(session, hs.pk, slugs),
        "schedules": _schedules(session, hs.pk, rows["schedules"], slugs),
    }


def _rows(session: Session, model: Any, hs_pk: int) -> Sequence[Any]:
    table = table_of(model)
    stmt = select(table).where(table.c.health_system_pk == hs_pk).order_by(table.c.slug)
    return session.execute(stmt).all()


def _children(
    session: Session,
    child: Any,
    parent: Any,
    parent_column: str,
    columns: Sequence[str],
    hs_pk: int,
) -> dict[int, list[tuple[Any, ...]]]:
    child_table, parent_table = table_of(child), table_of(parent)
    stmt = (
        select(child_table.c[parent_column], *(child_table.c[name] for name in columns))
        .join(parent_table, parent_table.c.pk == child_table.c[parent_column])
        .where(parent_table.c.health_system_pk == hs_pk)
    )
    found: dict[int, list[tuple[Any, ...]]] = defaultdict(list)
    for parent_pk, *values in session.execute(stmt):
        found[parent_pk].append(tuple(values))
    return found


def _visit_settings(stored: dict[str, Any] | None) -> dict[str, Any]:
    # Re-validating makes rows written by other code ({} or missing keys) canonical too.
    return dump_visit_settings(VisitSettings.model_validate(stored or {}))


def _health_system(hs: HealthSystem) -> dict[str, Any]:
    exported: dict[str, Any] = {
        "id": hs.slug,
        "name": hs.name,
        "use_gtm_container": hs.use_gtm_container,
        "disable_google_indexing": hs.disable_google_indexing,
        "gtm_container": hs.gtm_container,
        "gtag_conversion_event_id": hs.gtag_conversion_event_id,
        "gtag_id": hs.gtag_id,
        "features": sorted(hs.features or []),
        "hold_minutes": hs.hold_minutes,
        "publish_slots": hs.publish_slots,
        "visit_settings": _visit_settings(hs.visit_settings),
    }
    # Settings added after the bundle format's first release are written only when they
    # differ from their default, so bundles exported before them compare equal.
    if hs.cancellation_cutoff_minutes:
        exported["cancellation_cutoff_minutes"] = hs.cancellation_cutoff_minutes
    if not hs.booking_enabled:
        exported["booking_enabled"] = False
    return exported


def _sites(session: Session, hs_pk: int) -> list[dict[str, Any]]:
    stmt = (
        select(Site.hostname, Site.name, Site.booking_url_template)
        .join(SiteHealthSystem, SiteHealthSystem.site_pk == Site.pk)
        .where(SiteHealthSystem.health_system_pk == hs_pk)
        .order_by(Site.hostname)
    )
    return [
        {"hostname": hostname, "name": name, "booking_url_template": template}
        for hostname, name, template in session.execute(stmt)
    ]


def _location(loc: Any, regions: dict[int, str]) -> dict[str, Any]:
    return {
        "id": loc.slug,
        "name": loc.name,
        "facility_name": loc.facility_name,
        "region": regions.get(loc.region_pk) if loc.region_pk is not None else None,
        "address": loc.address,
        "city": loc.city,
        "state": loc.state,
        "zip": loc.zip,
        "phone": loc.phone,
        "latitude": loc.latitude,
        "longitude": loc.longitude,
    }


def _providers(
    session: Session, hs_pk: int, providers: Sequence[Any], groups: dict[int, str]
) -> list[dict[str, Any]]:
    memberships = _children(
        session,
        ProviderMedicalGroup,
        Provider,
        "provider_pk",
        ("position", "medical_group_pk"),
        hs_pk,
    )
    out = []
    for p in providers:
        ordered = sorted(memberships.get(p.pk, []), key=lambda m: (m[0], groups[m[1]]))
        out.append(
            {
                "id": p.slug,
                "name": p.name,
                "suffix": p.suffix,
                "gender": p.gender,
                "affiliation": p.affiliation,
                "provider_type": p.provider_type,
                "bio": p.bio,
                "credentials": p.credentials,
                "card_image": p.card_image,
                "profile_image": p.profile_image,
                "grad_school": p.grad_school,
                "undergrad_school": p.undergrad_school,
                "backgrounds": list(p.backgrounds or []),
                "subspecialties": list(p.subspecialties or []),
                "languages": list(p.languages or []),
                "medical_groups": [groups[group_pk] for _, group_pk in ordered],
            }
        )
    return out


def _acceptance(
    session: Session, hs_pk: int, slugs: dict[str, dict[int, str]]
) -> list[dict[str, Any]]:
    scope_slugs = {
        "region": slugs["regions"],
        "location": slugs["locations"],
        "schedule": slugs["schedules"],
    }
    members = _children(session, AcceptanceListPlan, AcceptanceList, "list_pk", ("plan_pk",), hs_pk)
    stmt = select(
        AcceptanceList.pk, AcceptanceList.level, AcceptanceList.scope_pk, AcceptanceList.service_pk
    ).where(AcceptanceList.health_system_pk == hs_pk)
    out = []
    for list_pk, level, scope_pk, service_pk in session.execute(stmt):
        scope = None
        if level != "health-system":
            scope = scope_slugs[level].get(scope_pk) if scope_pk is not None else None
            if scope is None:
                # The region/location/schedule was deleted outside the bundle tools; a
                # list for nothing cannot be exported as a valid reference.
                continue
        plans = sorted(slugs["insurance_plans"][plan_pk] for (plan_pk,) in members.get(list_pk, []))
        out.append(
            {
                "level": level,
                "scope": scope,
                "service": slugs["services"][service_pk],
                "plans": plans,
            }
        )
    out.sort(key=lambda e: (LEVELS.index(e["level"]), e["scope"] or "", e["service"]))
    return out


def _hhmm(value: time) -> str:
    return value.strftime("%H:%M")


def _weekly_hours(rows: list[tuple[Any, ...]]) -> list[dict[str, Any]]:
    """Group (weekday, opens, closes) rows into entries of days sharing one open range."""
    days: dict[tuple[time, time], set[int]] = defaultdict(set)
    for weekday, opens, closes in rows:
        days[(opens, closes)].add(weekday)
    groups = sorted(days.items(), key=lambda item: (min(item[1]), item[0]))
    return [
        {
            "days": [WEEKDAYS[d] for d in sorted(weekdays)],
            "opens": _hhmm(opens),
            "closes": _hhmm(closes),
        }
        for (opens, closes), weekdays in groups
    ]


def _exceptions(rows: list[tuple[Any, ...]]) -> list[dict[str, Any]]:
    by_date: dict[date, list[tuple[time, time]]] = defaultdict(list)
    closed: set[date] = set()
    for on_date, opens, closes in rows:
        if opens is None or closes is None:
            closed.add(on_date)
        else:
            by_date[on_date].append((opens, closes))
    out: list[dict[str, Any]] = []
    for on_date in sorted(closed | set(by_date)):
        if on_date in closed:
            out.append({"date": on_date.isoformat(), "closed": True})
        else:
            spans = sorted(by_date[on_date])
            out.append(
                {
                    "date": on_date.isoformat(),
                    "hours": [{"opens": _hhmm(o), "closes": _hhmm(c)} for o, c in spans],
                }
            )
    return out


def _schedules(
    session: Session, hs_pk: int, schedules: Sequence[Any], slugs: dict[str, dict[int, str]]
) -> list[dict[str, Any]]:
    offered = _children(
        session,
        ScheduleAppointmentType,
        Schedule,
        "schedule_pk",
        ("appointment_type_pk", "duration_minutes"),
        hs_pk,
    )
    hours = _children(
        session, ScheduleHours, Schedule, "schedule_pk", ("weekday", "opens", "closes"), hs_pk
    )
    exceptions = _children(
        session,
        ScheduleException,
        Schedule,
        "schedule_pk",
        ("on_date", "opens", "closes"),
        hs_pk,
    )
    types = slugs["appointment_types"]
    out = []
    for s in schedules:
        age_limit = None
        if s.age_limit_direction is not None and s.age_limit_threshold is not None:
            age_limit = {"direction": s.age_limit_direction, "threshold": s.age_limit_threshold}
        out.append(
            {
                "id": s.slug,
                "name": s.name,
                "provider": slugs["providers"][s.provider_pk],
                "location": slugs["locations"][s.location_pk],
                "service": slugs["services"][s.service_pk],
                "schedule_type": s.schedule_type,
                "sort_order": s.sort_order,
                "time_zone": s.time_zone_name,
                "context": s.context,
                "accepting_new_patients": s.accepting_new_patients,
                "active": s.active,
                "age_limit": age_limit,
                "slot_minutes": s.slot_minutes,
                "capacity": s.capacity,
                "lead_minutes": s.lead_minutes,
                "horizon_days": s.horizon_days,
                "appointment_types": sorted(
                    (
                        {"id": types[type_pk], "duration_minutes": duration}
                        for type_pk, duration in offered.get(s.pk, [])
                    ),
                    key=lambda t: str(t["id"]),
                ),
                "hours": _weekly_hours(hours.get(s.pk, [])),
                "exceptions": _exceptions(exceptions.get(s.pk, [])),
                "visit_settings": _visit_settings(s.visit_settings),
            }
        )
    return out


__all__ = ["export_bundle"]
