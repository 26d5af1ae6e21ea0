"""The importer at scale: thousands of providers and schedules in set-based statements."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from inquicker.bundle.exporter import export_bundle
from inquicker.bundle.importer import import_bundle
from inquicker.db.engine import transaction

from . import row_counts

_NAMESPACE = uuid.UUID("8a0f7c52-3b1d-4e8e-9f65-0c2b7d4e1a93")


def generated_bundle(providers: int, schedules: int) -> dict[str, Any]:
    """A deterministic health system of the given size (4 schedules per provider or so)."""
    locations = max(providers // 50, 2)
    days = ["mon", "tue", "wed", "thu", "fri"]
    return {
        "format": "inquicker-bundle/1",
        "health_system": {"id": "big-health", "name": "Big Health"},
        "sites": [{"hostname": "big-health.example.org", "name": "Big Health"}],
        "regions": [{"id": f"region-{n}", "name": f"Region {n}"} for n in range(4)],
        "locations": [
            {
                "id": f"location-{n}",
                "name": f"Location {n}",
                "region": f"region-{n % 4}",
                "latitude": 35 + n / 1000,
                "longitude": -86 - n / 1000,
            }
            for n in range(locations)
        ],
        "services": [{"id": f"service-{n}", "name": f"Service {n}"} for n in range(10)],
        "medical_groups": [{"id": f"group-{n}", "name": f"Group {n}"} for n in range(20)],
        "providers": [
            {
                "id": f"provider-{n}",
                "name": f"Provider {n}",
                "gender": "mf"[n % 2],
                "languages": ["English", "Spanish"] if n % 3 == 0 else ["English"],
                "medical_groups": [f"group-{n % 20}"],
            }
            for n in range(providers)
        ],
        "appointment_types": [{"id": f"type-{n}", "name": f"Type {n}"} for n in range(5)],
        "insurance_plans": [
            {"id": f"plan-{n}", "company": f"Company {n}", "name": "Plan"} for n in range(20)
        ],
        "insurance_acceptance": [
            {
                "level": "health-system",
                "service": f"service-{n}",
                "plans": [f"plan-{p}" for p in range(n, n + 8)],
            }
            for n in range(10)
        ]
        + [
            {"level": "region", "scope": "region-0", "service": "service-0", "plans": ["plan-1"]},
            {"level": "location", "scope": "location-1", "service": "service-1", "plans": []},
        ],
        "schedules": [
            {
                "id": str(uuid.uuid5(_NAMESPACE, str(n))),
                "name": f"Schedule {n}",
                "provider": f"provider-{n % providers}",
                "location": f"location-{n % locations}",
                "service": f"service-{n % 10}",
                "time_zone": "America/Chicago",
                "appointment_types": [{"id": f"type-{n % 5}"}, {"id": f"type-{(n + 1) % 5}"}],
                "hours": [
                    {"days": days, "opens": "08:00", "closes": "12:00"},
                    {"days": days, "opens": "13:00", "closes": "17:00"},
                ],
                "exceptions": [{"date": "2026-12-25", "closed": True}],
            }
            for n in range(schedules)
        ],
    }


def _import_twice(factory: sessionmaker[Session], document: dict[str, Any]) -> None:
    with transaction(factory) as session:
        first = import_bundle(session, document)
    with transaction(factory) as session:
        second = import_bundle(session, document)
        exported = export_bundle(session, "big-health")
    schedules = len(document["schedules"])
    assert first.counts["schedules"].created == schedules
    assert second.counts["schedules"].unchanged == schedules
    assert second.data_version == 2
    assert len(exported["schedules"]) == schedules


def test_a_generated_health_system_imports_and_reimports(
    session_factory: sessionmaker[Session],
) -> None:
    document = generated_bundle(providers=250, schedules=1000)
    _import_twice(session_factory, document)
    with session_factory() as session:
        counts = row_counts(session)
    assert counts["providers"] == 250
    assert counts["schedules"] == 1000
    assert counts["schedule_hours"] == 1000 * 10
    assert counts["schedule_exceptions"] == 1000
    assert counts["schedule_appointment_types"] == 2000
    assert counts["provider_languages"] == 250 + 84  # every third provider speaks Spanish
    # With 5 locations, service-0 schedules all sit at location-0 (region-0: 1 plan) and
    # service-1 schedules at location-1 (explicitly none); the other 800 get 8 plans each
    # from the health-system level.
    assert counts["schedule_plans"] == 100 * 1 + 100 * 0 + 800 * 8
