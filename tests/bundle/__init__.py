"""Tests of data bundles; helpers shared by the test modules live here."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from inquicker.bundle.schema import Problem
from inquicker.catalog.models import InsurancePlan
from inquicker.catalog.schedule_models import Schedule, SchedulePlan
from inquicker.db.models import Base


def row_counts(session: Session) -> dict[str, int]:
    """Rows per table, for asserting what an import did (or did not) write."""
    return {
        table.name: session.execute(select(func.count()).select_from(table)).scalar_one()
        for table in Base.metadata.sorted_tables
    }


def wipe(engine: Engine) -> None:
    """Empty every table, as a fresh database would be."""
    with engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(table.delete())


def plans_of(session: Session, schedule_id: str) -> list[str]:
    """Ids of a schedule's effective (materialized) insurance plans, sorted."""
    stmt = (
        select(InsurancePlan.slug)
        .join(SchedulePlan, SchedulePlan.plan_pk == InsurancePlan.pk)
        .join(Schedule, Schedule.pk == SchedulePlan.schedule_pk)
        .where(Schedule.slug == schedule_id)
        .order_by(InsurancePlan.slug)
    )
    return list(session.scalars(stmt))


def minimal_bundle(health_system_id: str = "summer-health", **sections: Any) -> dict[str, Any]:
    """A small valid bundle; keyword arguments add or replace sections."""
    document: dict[str, Any] = {
        "format": "inquicker-bundle/1",
        "health_system": {"id": health_system_id, "name": health_system_id.title()},
    }
    document.update(sections)
    return document


def broken_demo() -> dict[str, Any]:
    """The demo bundle with the mistakes listed in BROKEN_DEMO_PROBLEMS."""
    from inquicker.bundle.demo import demo_document

    document = demo_document()
    document["colour"] = "blue"
    document["health_system"]["features"] = ["insurance", "telepathy"]
    document["regions"][1]["id"] = "Middle TN"
    document["locations"][0]["latitude"] = 95.0
    document["locations"][2]["region"] = "west-tennessee"
    document["providers"][0]["gender"] = "x"
    document["providers"][1]["medical_groups"].append("nope-group")
    document["appointment_types"][0]["priority"] = 11
    schedules = document["schedules"]
    schedules[0]["hours"][1]["closes"] = "12:30"  # 13:00-12:30
    schedules[1]["hours"][0]["days"] = ["mon", "funday"]
    schedules[2]["time_zone"] = "Mars/Olympus"
    schedules[3]["provider"] = "dr-nobody"
    schedules[4]["id"] = schedules[5]["id"]
    schedules[6]["slot_minutes"] = 7
    schedules[7]["capacity"] = "2"
    schedules[9]["hours"].append({"days": ["wed"], "opens": "11:00", "closes": "14:00"})
    document["insurance_acceptance"][3]["plans"].append("acme-gold")
    document["insurance_acceptance"][5]["scope"] = None
    return document


BROKEN_DEMO_PROBLEMS = {
    Problem(
        "colour",
        "unknown key (expected one of: format, health_system, sites, regions, locations,"
        " services, medical_groups, providers, appointment_types, insurance_plans,"
        " insurance_acceptance, schedules)",
    ),
    Problem(
        "health_system.features[1]",
        "Input should be 'full-address', 'has-physician', 'patient-complaint', 'insurance'"
        " or 'pregnant'",
    ),
    Problem(
        "regions[1].id",
        "must be an id of lowercase letters, digits and '-', starting with a letter or digit,"
        " at most 100 characters",
    ),
    Problem("locations[0].latitude", "Input should be less than or equal to 90"),
    Problem("locations[2].region", "unknown region 'west-tennessee'"),
    # regions[1] was renamed (badly), so its old id is gone too:
    Problem("locations[4].region", "unknown region 'middle-tennessee'"),
    Problem("providers[0].gender", "Input should be 'm' or 'f'"),
    Problem("providers[1].medical_groups[2]", "unknown medical group 'nope-group'"),
    Problem("appointment_types[0].priority", "Input should be less than or equal to 10"),
    Problem("schedules[0].hours[1].closes", "must be after opens"),
    Problem(
        "schedules[1].hours[0].days[1]",
        "Input should be 'mon', 'tue', 'wed', 'thu', 'fri', 'sat' or 'sun'",
    ),
    Problem("schedules[2].time_zone", "is not an IANA time zone name, e.g. America/New_York"),
    Problem("schedules[3].provider", "unknown provider 'dr-nobody'"),
    Problem(
        "schedules[5].id",
        "duplicate id '34175a9a-9585-5ce9-a69c-79c0a686ccbd' (also at schedules[4])",
    ),
    Problem(
        "schedules[6].slot_minutes",
        "must divide 1440 (a day) evenly, e.g. 5, 10, 15, 20, 30, 60",
    ),
    Problem("schedules[7].capacity", "Input should be a valid integer"),
    Problem("schedules[9].hours[2]", "11:00-14:00 overlaps 08:00-12:00 on wed"),
    Problem("schedules[9].hours[1]", "13:00-17:00 overlaps 11:00-14:00 on wed"),
    Problem("insurance_acceptance[3].plans[6]", "unknown insurance plan 'acme-gold'"),
    Problem("insurance_acceptance[5].scope", "must name the region this list applies to"),
}
