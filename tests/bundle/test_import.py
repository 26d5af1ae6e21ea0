"""Importing and exporting bundles on SQLite and PostgreSQL."""

from __future__ import annotations

import copy
from datetime import date, time
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from inquicker.bundle.demo import demo_document, load_demo
from inquicker.bundle.exporter import export_bundle
from inquicker.bundle.importer import import_bundle
from inquicker.bundle.io import load_document
from inquicker.bundle.result import SectionCounts
from inquicker.bundle.schema import BundleError, Problem
from inquicker.catalog.models import Provider, ProviderLanguage
from inquicker.catalog.schedule_models import Schedule, ScheduleException, ScheduleHours
from inquicker.db.engine import transaction
from inquicker.tenancy.models import HealthSystem

from . import BROKEN_DEMO_PROBLEMS, broken_demo, minimal_bundle, plans_of, row_counts, wipe

JANE_NASHVILLE = "4a8cf484-65e5-531d-95cf-160e7cfbc746"
DISCHARGE_CLINIC = "4e2bbea1-ded6-5b20-b8d6-bb174df19d3c"
NASHVILLE_MRI = "e5026ae9-1d22-5e57-96a2-a556cdde29af"
NEW_SCHEDULE = "3f1d2c4b-5a6e-4f70-8b9c-0d1e2f3a4b5c"

DEMO_ROWS = {
    "health_systems": 1,
    "sites": 1,
    "site_health_systems": 1,
    "api_keys": 0,
    "regions": 2,
    "locations": 5,
    "services": 5,
    "medical_groups": 3,
    "providers": 15,
    "provider_languages": 24,
    "provider_medical_groups": 15,
    "appointment_types": 6,
    "insurance_plans": 8,
    "acceptance_lists": 11,
    "acceptance_list_plans": 36,
    "schedules": 25,
    "schedule_appointment_types": 76,
    "schedule_hours": 129,
    "schedule_exceptions": 84,
    "schedule_plans": 107,
}


def _load_demo(factory: sessionmaker[Session]) -> None:
    with transaction(factory) as session:
        load_demo(session)


def _export(
    factory: sessionmaker[Session], health_system_id: str = "winter-health"
) -> dict[str, Any]:
    with factory() as session:
        return export_bundle(session, health_system_id)


def test_the_demo_loads_with_the_documented_counts(session_factory: sessionmaker[Session]) -> None:
    with transaction(session_factory) as session:
        result = load_demo(session)
    assert (result.health_system, result.created, result.data_version) == (
        "winter-health",
        True,
        1,
    )
    assert {name: counts.created for name, counts in result.counts.items()} == {
        "health_system": 1,
        "sites": 1,
        "regions": 2,
        "services": 5,
        "medical_groups": 3,
        "appointment_types": 6,
        "insurance_plans": 8,
        "locations": 5,
        "providers": 15,
        "schedules": 25,
        "insurance_acceptance": 11,
    }
    with session_factory() as session:
        assert {k: v for k, v in row_counts(session).items() if k in DEMO_ROWS} == DEMO_ROWS
        schedules = session.scalars(select(Schedule)).all()
        assert sum(not s.active for s in schedules) == 1
        assert sum(not s.accepting_new_patients for s in schedules) == 3
        assert sorted({s.context for s in schedules}) == ["Discharge", "Internal", "Patient"]
        assert sorted({s.time_zone_name for s in schedules}) == [
            "America/Chicago",
            "America/New_York",
        ]
        assert sorted(
            (s.age_limit_direction, s.age_limit_threshold)
            for s in schedules
            if s.age_limit_direction
        ) == [
            ("older", 12),
            ("older", 18),
            ("older", 18),
            ("younger", 18),
            ("younger", 18),
            ("younger", 18),
        ]
        providers = session.scalars(select(Provider)).all()
        assert sorted({p.provider_type for p in providers}) == ["Health Resource", "Practitioner"]
        assert sum(p.provider_type == "Health Resource" for p in providers) == 2
        assert sorted({p.gender for p in providers if p.gender}) == ["f", "m"]
        assert sorted({p.affiliation for p in providers if p.affiliation}) == [
            "affiliated",
            "employed",
        ]
        spanish = session.scalars(
            select(Provider.slug)
            .join(ProviderLanguage, ProviderLanguage.provider_pk == Provider.pk)
            .where(ProviderLanguage.language == "spanish")
            .order_by(Provider.slug)
        ).all()
        assert spanish == ["dr-elena-garcia", "dr-jane-smith", "dr-laura-martinez"]


def test_schedule_details_are_stored_as_the_bundle_says(
    session_factory: sessionmaker[Session],
) -> None:
    _load_demo(session_factory)
    with session_factory() as session:
        jane = session.scalars(select(Schedule).where(Schedule.slug == JANE_NASHVILLE)).one()
        hours = session.execute(
            select(ScheduleHours.weekday, ScheduleHours.opens, ScheduleHours.closes)
            .where(ScheduleHours.schedule_pk == jane.pk)
            .order_by(ScheduleHours.weekday, ScheduleHours.opens)
        ).all()
        # Monday to Friday with a lunch break: two ranges a day.
        assert [tuple(h) for h in hours[:2]] == [(0, time(8), time(12)), (0, time(13), time(17))]
        assert len(hours) == 10
        exceptions = session.execute(
            select(ScheduleException.on_date, ScheduleException.opens, ScheduleException.closes)
            .where(ScheduleException.schedule_pk == jane.pk)
            .order_by(ScheduleException.on_date)
        ).all()
        assert [tuple(e) for e in exceptions] == [
            (date(2026, 11, 26), None, None),
            (date(2026, 12, 24), time(8), time(12)),
            (date(2026, 12, 25), None, None),
            (date(2027, 1, 1), None, None),
        ]
        assert jane.visit_settings["patient_instructions"].startswith("Please arrive 15 minutes")
        assert jane.visit_settings["validations"] == [
            {"kind": "presence", "attributes": ["patient-complaint"]}
        ]
        discharge = session.scalars(select(Schedule).where(Schedule.slug == DISCHARGE_CLINIC)).one()
        assert (discharge.context, discharge.capacity, discharge.slot_minutes) == (
            "Discharge",
            3,
            30,
        )
        mri = session.scalars(select(Schedule).where(Schedule.slug == NASHVILLE_MRI)).one()
        assert (mri.capacity, mri.slot_minutes, mri.lead_minutes, mri.horizon_days) == (
            2,
            60,
            1440,
            180,
        )
        hs = session.scalars(select(HealthSystem)).one()
        assert hs.features == ["full-address", "patient-complaint"]
        assert hs.visit_settings["validations"][0] == {
            "kind": "format",
            "attributes": ["zip"],
            "with": "^[0-9]{5}(-[0-9]{4})?$",
            "allow_blank": True,
        }


def test_export_of_the_demo_is_the_packaged_document(
    session_factory: sessionmaker[Session],
) -> None:
    _load_demo(session_factory)
    assert _export(session_factory) == demo_document()


def test_export_reimports_into_a_fresh_database_to_the_same_export(
    engine: Engine, session_factory: sessionmaker[Session]
) -> None:
    _load_demo(session_factory)
    first = _export(session_factory)
    with session_factory() as session:
        rows = row_counts(session)
    wipe(engine)
    with transaction(session_factory) as session:
        result = import_bundle(session, first)
    assert result.created
    assert _export(session_factory) == first
    with session_factory() as session:
        assert row_counts(session) == rows


def test_a_yaml_bundle_imports_like_its_json_twin(
    tmp_path: Path, session_factory: sessionmaker[Session]
) -> None:
    path = tmp_path / "winter-health.yaml"
    path.write_text(yaml.safe_dump(demo_document(), sort_keys=False))
    with transaction(session_factory) as session:
        import_bundle(session, load_document(path))
    assert _export(session_factory) == demo_document()


def test_importing_twice_changes_nothing_but_the_data_version(
    session_factory: sessionmaker[Session],
) -> None:
    _load_demo(session_factory)
    before = _export(session_factory)
    with session_factory() as session:
        rows = row_counts(session)
        hour_pks = sorted(session.scalars(select(ScheduleHours.pk)))
    with transaction(session_factory) as session:
        result = load_demo(session)
    assert (result.created, result.data_version) == (False, 2)
    assert all(c.created == c.updated == c.removed == 0 for c in result.counts.values())
    assert result.counts["schedules"] == SectionCounts(unchanged=25)
    assert result.counts["insurance_acceptance"] == SectionCounts(unchanged=11)
    assert result.summary() == "winter-health updated (data version 2): no changes"
    assert _export(session_factory) == before
    with session_factory() as session:
        assert row_counts(session) == rows
        # Unchanged child rows are not even rewritten.
        assert sorted(session.scalars(select(ScheduleHours.pk))) == hour_pks
        assert session.scalars(select(HealthSystem.data_version)).one() == 2


def test_a_bundle_with_errors_changes_nothing_in_an_empty_database(
    session_factory: sessionmaker[Session],
) -> None:
    with pytest.raises(BundleError) as exc, transaction(session_factory) as session:
        import_bundle(session, broken_demo())
    assert set(exc.value.problems) == BROKEN_DEMO_PROBLEMS
    assert len(exc.value.problems) == 20
    with session_factory() as session:
        assert set(row_counts(session).values()) == {0}


def test_a_bundle_with_errors_changes_nothing_in_a_loaded_database(
    session_factory: sessionmaker[Session],
) -> None:
    _load_demo(session_factory)
    before = _export(session_factory)
    document = demo_document()
    document["providers"][0]["name"] = "Renamed"  # a valid change that must not land
    document["schedules"][0]["hours"][0]["opens"] = "25:00"
    document["schedules"][1]["location"] = "atlantis"
    with pytest.raises(BundleError) as exc, transaction(session_factory) as session:
        import_bundle(session, document)
    assert exc.value.problems == [
        Problem(
            "schedules[0].hours[0].opens", "must be a time of day written HH:MM (00:00 to 23:59)"
        ),
        Problem("schedules[1].location", "unknown location 'atlantis'"),
    ]
    assert _export(session_factory) == before
    with session_factory() as session:
        assert session.scalars(select(HealthSystem.data_version)).one() == 1


def test_a_hostname_of_another_health_system_is_refused(
    session_factory: sessionmaker[Session],
) -> None:
    _load_demo(session_factory)
    document = minimal_bundle(
        sites=[{"hostname": "summer.example.org"}, {"hostname": "winter-health.inquicker.com"}]
    )
    with pytest.raises(BundleError) as exc, transaction(session_factory) as session:
        import_bundle(session, document)
    assert exc.value.problems == [
        Problem(
            "sites[1].hostname",
            "'winter-health.inquicker.com' already belongs to health system winter-health",
        )
    ]
    with session_factory() as session:
        assert row_counts(session)["health_systems"] == 1
    # The same health system may list its own hostname again, and add another.
    document = demo_document()
    document["sites"].append({"hostname": "care.winter-health.example", "name": None})
    with transaction(session_factory) as session:
        result = import_bundle(session, document)
    assert result.counts["sites"] == SectionCounts(created=1, unchanged=1)
    assert [s["hostname"] for s in _export(session_factory)["sites"]] == [
        "care.winter-health.example",
        "winter-health.inquicker.com",
    ]


def test_changed_rows_are_updated_and_child_collections_replaced(
    session_factory: sessionmaker[Session],
) -> None:
    _load_demo(session_factory)
    document = demo_document()
    jane_provider = next(p for p in document["providers"] if p["id"] == "dr-jane-smith")
    jane_provider["languages"] = ["English", "French"]
    jane_provider["medical_groups"] = ["cumberland-physicians", "winter-health-medical-group"]
    jane = next(s for s in document["schedules"] if s["id"] == JANE_NASHVILLE)
    jane["hours"] = [{"days": ["mon"], "opens": "09:00", "closes": "11:00"}]
    jane["exceptions"] = []
    jane["appointment_types"] = [{"id": "sick-visit", "duration_minutes": 20}]
    mri = next(s for s in document["schedules"] if s["id"] == NASHVILLE_MRI)
    mri["capacity"] = 4
    with transaction(session_factory) as session:
        result = import_bundle(session, document)
    assert result.counts["providers"] == SectionCounts(updated=1, unchanged=14)
    assert result.counts["schedules"] == SectionCounts(updated=2, unchanged=23)
    exported = _export(session_factory)
    assert exported == document
    with session_factory() as session:
        languages = session.scalars(
            select(ProviderLanguage.language)
            .join(Provider, Provider.pk == ProviderLanguage.provider_pk)
            .where(Provider.slug == "dr-jane-smith")
            .order_by(ProviderLanguage.language)
        ).all()
        assert languages == ["english", "french"]
        assert row_counts(session)["schedule_hours"] == 129 - 10 + 1


def test_rows_missing_from_a_bundle_are_left_alone(session_factory: sessionmaker[Session]) -> None:
    _load_demo(session_factory)
    before = _export(session_factory)
    partial = {
        "format": "inquicker-bundle/1",
        "health_system": before["health_system"],
        # Refers only to rows the health system already has.
        "schedules": [
            {
                "id": NEW_SCHEDULE,
                "name": "Jane Smith, MD - Telehealth",
                "provider": "dr-jane-smith",
                "location": "nashville-main",
                "service": "primary-care",
                "time_zone": "America/Chicago",
                "appointment_types": [{"id": "follow-up"}],
                "hours": [{"days": ["fri"], "opens": "15:00", "closes": "17:00"}],
            }
        ],
    }
    with transaction(session_factory) as session:
        result = import_bundle(session, partial)
    assert result.counts["schedules"] == SectionCounts(created=1)
    assert "insurance_acceptance" not in result.counts
    after = _export(session_factory)
    assert len(after["schedules"]) == 26
    assert {k: v for k, v in after.items() if k != "schedules"} == {
        k: v for k, v in before.items() if k != "schedules"
    }
    # The new schedule takes its plans from the (untouched) health-system level.
    with session_factory() as session:
        assert plans_of(session, NEW_SCHEDULE) == plans_of(session, JANE_NASHVILLE)
        assert len(plans_of(session, NEW_SCHEDULE)) == 6


def test_export_of_an_unknown_health_system_is_a_lookup_error(
    session_factory: sessionmaker[Session],
) -> None:
    with session_factory() as session, pytest.raises(LookupError, match="'nobody'"):
        export_bundle(session, "nobody")


def test_two_health_systems_stay_apart(session_factory: sessionmaker[Session]) -> None:
    _load_demo(session_factory)
    other = copy.deepcopy(demo_document())
    other["health_system"]["id"] = "summer-health"
    other["sites"] = [{"hostname": "summer-health.example.org", "name": "Summer"}]
    with transaction(session_factory) as session:
        result = import_bundle(session, other)
    assert result.created
    assert result.counts["schedules"] == SectionCounts(created=25)
    summer = _export(session_factory, "summer-health")
    assert summer["schedules"] == demo_document()["schedules"]
    assert _export(session_factory) == demo_document()


def test_the_cancellation_cutoff_is_imported_and_exported(
    session_factory: sessionmaker[Session],
) -> None:
    document = minimal_bundle()
    document["health_system"]["cancellation_cutoff_minutes"] = 120
    with transaction(session_factory) as session:
        import_bundle(session, document)
    with session_factory() as session:
        hs = session.scalars(select(HealthSystem).where(HealthSystem.slug == "summer-health")).one()
        assert hs.cancellation_cutoff_minutes == 120
        exported = export_bundle(session, "summer-health")
    assert exported["health_system"]["cancellation_cutoff_minutes"] == 120
    document["health_system"]["cancellation_cutoff_minutes"] = -5
    with pytest.raises(BundleError) as refused, transaction(session_factory) as session:
        import_bundle(session, document)
    assert [p.path for p in refused.value.problems] == ["health_system.cancellation_cutoff_minutes"]
