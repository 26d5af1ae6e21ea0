"""Importing a bundle: validate everything, then upsert by id within the health system.

Rules (docs/bundle.md states them for users):

* Rows are matched by id (slug) within the health system and created or updated; rows the
  bundle does not mention are left alone, never deleted (retire a schedule with
  ``active: false``). An updated row becomes exactly what the bundle says: omitted keys take
  their defaults.
* Child collections of a row in the bundle (a schedule's hours, exceptions and appointment
  types; a provider's medical groups and languages) are replaced wholesale.
* ``insurance_acceptance``, when present, replaces the health system's whole acceptance
  hierarchy; when absent, acceptance is left alone.
* References may point at rows in the bundle or rows the health system already has.
* Nothing is written unless the whole bundle is valid, and the importer only flushes: the
  caller owns the transaction.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Table, select, text, update
from sqlalchemy.orm import Session

from inquicker.bundle import writes
from inquicker.bundle.acceptance import write_acceptance, write_schedule_plans
from inquicker.bundle.result import ImportResult, SectionCounts
from inquicker.bundle.schema import (
    WEEKDAYS,
    BundleError,
    HealthSystemIn,
    ScheduleIn,
    SiteIn,
    dump_visit_settings,
)
from inquicker.bundle.validate import Existing, ParsedBundle, check_references, parse_document
from inquicker.catalog.models import (
    AppointmentType,
    InsurancePlan,
    Location,
    MedicalGroup,
    Provider,
    ProviderLanguage,
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
from inquicker.tenancy import changes
from inquicker.tenancy.models import HealthSystem, Site, SiteHealthSystem

__all__ = ["ImportResult", "SectionCounts", "import_bundle"]


# Bundle section -> table, in foreign key order.
TABLES: dict[str, Table] = {
    "regions": writes.table_of(Region),
    "services": writes.table_of(Service),
    "medical_groups": writes.table_of(MedicalGroup),
    "appointment_types": writes.table_of(AppointmentType),
    "insurance_plans": writes.table_of(InsurancePlan),
    "locations": writes.table_of(Location),
    "providers": writes.table_of(Provider),
    "schedules": writes.table_of(Schedule),
}


def import_bundle(session: Session, document: Mapping[str, Any]) -> ImportResult:
    """Validate and import a bundle document; raises BundleError listing every problem."""
    bundle, problems = parse_document(document)
    if bundle is None:
        raise BundleError(problems)
    hs = None
    if bundle.health_system_id is not None:
        hs = session.scalars(
            select(HealthSystem).where(HealthSystem.slug == bundle.health_system_id)
        ).one_or_none()
    hs_pk = hs.pk if hs is not None else None
    before = {name: writes.snapshot(session, table, hs_pk) for name, table in TABLES.items()}
    existing = Existing(
        **{name: snap.slugs for name, snap in before.items()},
        foreign_hostnames=_foreign_hostnames(session, bundle),
    )
    problems += check_references(bundle, existing)
    if problems:
        raise BundleError(problems)
    assert bundle.health_system is not None  # no problems means it parsed
    result = _write(session, bundle, bundle.health_system, hs, before)
    session.flush()
    # Fresh planner statistics: without them SQLite picks the tenant index over the far more
    # selective ones, and a large import changes the data's shape at once.
    session.execute(text("ANALYZE"))
    return result


def _foreign_hostnames(session: Session, bundle: ParsedBundle) -> dict[str, list[str]]:
    hostnames = [site.hostname for _, site in bundle.sites]
    if not hostnames:
        return {}
    stmt = (
        select(Site.hostname, HealthSystem.slug)
        .join(SiteHealthSystem, SiteHealthSystem.site_pk == Site.pk)
        .join(HealthSystem, HealthSystem.pk == SiteHealthSystem.health_system_pk)
        .where(Site.hostname.in_(hostnames), HealthSystem.slug != bundle.health_system_id)
        .order_by(HealthSystem.slug)
    )
    owners: dict[str, list[str]] = {}
    for hostname, slug in session.execute(stmt):
        owners.setdefault(hostname, []).append(slug)
    return owners


def _health_system_values(spec: HealthSystemIn) -> dict[str, Any]:
    return {
        "name": spec.name,
        "use_gtm_container": spec.use_gtm_container,
        "disable_google_indexing": spec.disable_google_indexing,
        "gtm_container": spec.gtm_container,
        "gtag_conversion_event_id": spec.gtag_conversion_event_id,
        "gtag_id": spec.gtag_id,
        # Order carries no meaning; sorting keeps exports canonical.
        "features": sorted(spec.features),
        "hold_minutes": spec.hold_minutes,
        "cancellation_cutoff_minutes": spec.cancellation_cutoff_minutes,
        "publish_slots": spec.publish_slots,
        "booking_enabled": spec.booking_enabled,
        "visit_settings": dump_visit_settings(spec.visit_settings),
    }


def _write(
    session: Session,
    bundle: ParsedBundle,
    spec: HealthSystemIn,
    hs: HealthSystem | None,
    before: dict[str, writes.Snapshot],
) -> ImportResult:
    values = _health_system_values(spec)
    counts: dict[str, SectionCounts] = {}
    if hs is None:
        hs = HealthSystem(slug=spec.id, data_version=1, last_confirmation_number=0, **values)
        session.add(hs)
        created = True
        counts["health_system"] = SectionCounts(created=1)
    else:
        changed = any(getattr(hs, key) != value for key, value in values.items())
        for key, value in values.items():
            setattr(hs, key, value)
        created = False
        counts["health_system"] = SectionCounts(updated=int(changed), unchanged=int(not changed))
    session.flush()
    hs_pk = hs.pk
    counts["sites"] = _write_sites(session, hs_pk, [site for _, site in bundle.sites])

    pks: dict[str, dict[str, int]] = {}

    def upsert(name: str, desired: dict[str, dict[str, Any]]) -> writes.Upserted:
        outcome = writes.upsert(session, before[name], hs_pk, desired)
        pks[name] = outcome.pks
        counts[name] = SectionCounts(
            created=len(outcome.created),
            updated=len(outcome.updated),
            unchanged=len(desired) - len(outcome.created) - len(outcome.updated),
        )
        return outcome

    upsert("regions", {r.id: {"name": r.name} for _, r in bundle.regions})
    upsert("services", {s.id: {"name": s.name} for _, s in bundle.services})
    upsert("medical_groups", {g.id: {"name": g.name} for _, g in bundle.medical_groups})
    upsert(
        "appointment_types",
        {
            t.id: {"name": t.name, "priority": t.priority, "duration_minutes": t.duration_minutes}
            for _, t in bundle.appointment_types
        },
    )
    upsert(
        "insurance_plans",
        {p.id: {"company": p.company, "name": p.name} for _, p in bundle.insurance_plans},
    )
    upsert(
        "locations",
        {
            loc.id: {
                "region_pk": pks["regions"][loc.region] if loc.region else None,
                **loc.model_dump(include=_LOCATION_COLUMNS),
            }
            for _, loc in bundle.locations
        },
    )
    providers = upsert(
        "providers",
        {p.id: p.model_dump(include=_PROVIDER_COLUMNS) for _, p in bundle.providers},
    )
    _write_provider_children(session, hs_pk, bundle, pks, providers, counts["providers"])
    schedules = upsert("schedules", {s.id: _schedule_values(s, pks) for _, s in bundle.schedules})
    _write_schedule_children(session, hs_pk, bundle, pks, schedules, counts["schedules"])
    if bundle.insurance_acceptance is not None:
        counts["insurance_acceptance"] = write_acceptance(
            session, hs_pk, [entry for _, entry in bundle.insurance_acceptance], pks
        )
    write_schedule_plans(session, hs_pk)
    if not created:
        # In SQL, not Python: concurrent imports must not lose a bump.
        session.execute(
            update(HealthSystem)
            .where(HealthSystem.pk == hs_pk)
            .values(data_version=HealthSystem.data_version + 1)
        )
    session.flush()
    changes.mark_changed(session)  # this process serves the new data from its commit on
    session.refresh(hs, ["data_version"])
    return ImportResult(spec.id, created, hs.data_version, counts)


_LOCATION_COLUMNS = {
    "name",
    "facility_name",
    "address",
    "city",
    "state",
    "zip",
    "phone",
    "latitude",
    "longitude",
}
_PROVIDER_COLUMNS = {
    "name",
    "suffix",
    "gender",
    "affiliation",
    "provider_type",
    "bio",
    "credentials",
    "card_image",
    "profile_image",
    "grad_school",
    "undergrad_school",
    "backgrounds",
    "subspecialties",
    "languages",
}


def _write_sites(session: Session, hs_pk: int, sites: list[SiteIn]) -> SectionCounts:
    counts = SectionCounts()
    if not sites:
        return counts
    found = {
        site.hostname: site
        for site in session.scalars(
            select(Site).where(Site.hostname.in_([s.hostname for s in sites]))
        )
    }
    linked = set(
        session.scalars(
            select(SiteHealthSystem.site_pk).where(SiteHealthSystem.health_system_pk == hs_pk)
        )
    )
    for spec in sites:
        site = found.get(spec.hostname)
        if site is None:
            site = Site(
                hostname=spec.hostname,
                name=spec.name,
                booking_url_template=spec.booking_url_template,
            )
            session.add(site)
            session.flush()
            counts.created += 1
        elif (
            site.name != spec.name
            or site.booking_url_template != spec.booking_url_template
            or site.pk not in linked
        ):
            site.name = spec.name
            site.booking_url_template = spec.booking_url_template
            counts.updated += 1
        else:
            counts.unchanged += 1
        if site.pk not in linked:
            session.add(SiteHealthSystem(site_pk=site.pk, health_system_pk=hs_pk))
    session.flush()
    return counts


def _schedule_values(spec: ScheduleIn, pks: dict[str, dict[str, int]]) -> dict[str, Any]:
    age = spec.age_limit
    return {
        "name": spec.name,
        "provider_pk": pks["providers"][spec.provider],
        "location_pk": pks["locations"][spec.location],
        "service_pk": pks["services"][spec.service],
        "schedule_type": spec.schedule_type,
        "sort_order": spec.sort_order,
        "time_zone_name": spec.time_zone,
        "age_limit_direction": age.direction if age else None,
        "age_limit_threshold": age.threshold if age else None,
        "accepting_new_patients": spec.accepting_new_patients,
        "context": spec.context,
        "active": spec.active,
        "slot_minutes": spec.slot_minutes,
        "capacity": spec.capacity,
        "lead_minutes": spec.lead_minutes,
        "horizon_days": spec.horizon_days,
        "visit_settings": dump_visit_settings(spec.visit_settings),
    }


def _languages(spoken: list[str]) -> list[tuple[str]]:
    # The filter index is case-insensitive; the display list keeps the bundle's spelling.
    return [(name,) for name in dict.fromkeys(lang.strip().lower() for lang in spoken)]


def _write_provider_children(
    session: Session,
    hs_pk: int,
    bundle: ParsedBundle,
    pks: dict[str, dict[str, int]],
    outcome: writes.Upserted,
    counts: SectionCounts,
) -> None:
    providers = writes.table_of(Provider)
    by_pk = {outcome.pks[p.id]: p for _, p in bundle.providers}
    groups = pks["medical_groups"]
    changed = set()
    for child, columns, desired in (
        (
            writes.table_of(ProviderMedicalGroup),
            ("medical_group_pk", "position"),
            {
                pk: [(groups[g], n) for n, g in enumerate(p.medical_groups)]
                for pk, p in by_pk.items()
            },
        ),
        (
            writes.table_of(ProviderLanguage),
            ("language",),
            {pk: _languages(p.languages) for pk, p in by_pk.items()},
        ),
    ):
        before = writes.existing_children(session, child, "provider_pk", columns, providers, hs_pk)
        changed |= writes.replace_children(session, child, "provider_pk", columns, before, desired)
    _count_child_changes(counts, outcome, changed)


def _write_schedule_children(
    session: Session,
    hs_pk: int,
    bundle: ParsedBundle,
    pks: dict[str, dict[str, int]],
    outcome: writes.Upserted,
    counts: SectionCounts,
) -> None:
    schedules = writes.table_of(Schedule)
    by_pk = {outcome.pks[s.id]: s for _, s in bundle.schedules}
    types = pks["appointment_types"]
    hours: dict[int, list[tuple[Any, ...]]] = {}
    exceptions: dict[int, list[tuple[Any, ...]]] = {}
    for pk, spec in by_pk.items():
        hours[pk] = [(WEEKDAYS.index(day), h.opens, h.closes) for h in spec.hours for day in h.days]
        exceptions[pk] = [
            (e.date, span.opens, span.closes) for e in spec.exceptions for span in e.hours
        ] + [(e.date, None, None) for e in spec.exceptions if e.closed]
    changed = set()
    for child, columns, desired in (
        (
            writes.table_of(ScheduleAppointmentType),
            ("appointment_type_pk", "duration_minutes"),
            {
                pk: [(types[t.id], t.duration_minutes) for t in spec.appointment_types]
                for pk, spec in by_pk.items()
            },
        ),
        (writes.table_of(ScheduleHours), ("weekday", "opens", "closes"), hours),
        (writes.table_of(ScheduleException), ("on_date", "opens", "closes"), exceptions),
    ):
        before = writes.existing_children(session, child, "schedule_pk", columns, schedules, hs_pk)
        changed |= writes.replace_children(session, child, "schedule_pk", columns, before, desired)
    _count_child_changes(counts, outcome, changed)


def _count_child_changes(
    counts: SectionCounts, outcome: writes.Upserted, changed_pks: set[int]
) -> None:
    """Rows whose own columns were equal but whose children changed count as updated."""
    slugs = {pk: slug for slug, pk in outcome.pks.items()}
    extra = {slugs[pk] for pk in changed_pks} - outcome.created - outcome.updated
    counts.updated += len(extra)
    counts.unchanged -= len(extra)
