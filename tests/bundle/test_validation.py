"""Bundle validation without a database: shapes, ranges and references, each with its path."""

from __future__ import annotations

from typing import Any

import pytest

from inquicker.bundle.schema import Problem
from inquicker.bundle.validate import Existing, ParsedBundle, check_references, parse_document

from . import BROKEN_DEMO_PROBLEMS, broken_demo, minimal_bundle

SCHEDULE_ID = "0b9c4f4e-6f1e-4c43-9a57-2d1c3b7e5a10"


def problems_of(document: Any, existing: Existing | None = None) -> list[Problem]:
    bundle, problems = parse_document(document)
    if bundle is not None:
        problems += check_references(bundle, existing or Existing())
    return problems


def parsed(document: dict[str, Any]) -> ParsedBundle:
    bundle, problems = parse_document(document)
    assert problems == []
    assert bundle is not None
    return bundle


def schedule(**changes: Any) -> dict[str, Any]:
    """A valid schedule referring to the ids of :func:`catalog`."""
    item: dict[str, Any] = {
        "id": SCHEDULE_ID,
        "name": "Dr. A - Primary Care",
        "provider": "dr-a",
        "location": "main",
        "service": "primary-care",
        "time_zone": "America/New_York",
    }
    item.update(changes)
    return item


def catalog(**sections: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "locations": [{"id": "main", "name": "Main"}],
        "services": [{"id": "primary-care", "name": "Primary Care"}],
        "providers": [{"id": "dr-a", "name": "A"}],
        "appointment_types": [{"id": "visit", "name": "Visit"}],
        "insurance_plans": [{"id": "plan-a", "company": "A", "name": "A"}],
    }
    base.update(sections)
    return minimal_bundle(**base)


def test_every_problem_of_a_broken_demo_is_reported_with_its_path() -> None:
    problems = problems_of(broken_demo())
    assert set(problems) == BROKEN_DEMO_PROBLEMS
    assert len(problems) == len(BROKEN_DEMO_PROBLEMS)


def test_the_demo_is_valid() -> None:
    from inquicker.bundle.demo import demo_document

    assert problems_of(demo_document()) == []


def test_a_document_must_be_a_mapping() -> None:
    assert problems_of(["not", "a", "bundle"]) == [
        Problem("", "the bundle must be an object (a mapping of sections)")
    ]


def test_format_and_health_system_are_required() -> None:
    assert problems_of({}) == [
        Problem("format", 'Field required (use "inquicker-bundle/1")'),
        Problem("health_system", "Field required"),
    ]
    assert problems_of(minimal_bundle() | {"format": "inquicker-bundle/2"}) == [
        Problem("format", 'must be "inquicker-bundle/1"')
    ]


def test_sections_must_be_lists() -> None:
    assert problems_of(minimal_bundle(regions={"id": "east"})) == [
        Problem("regions", "must be a list")
    ]


def test_types_are_strict_and_unknown_keys_refused() -> None:
    document = catalog(
        schedules=[schedule(capacity="2", accepting_new_patients="yes", colour="red")]
    )
    document["health_system"]["visit_settings"] = {
        "validations": [{"kind": "regex", "attributes": ["zip"]}],
        "instructions": "typo for patient_instructions",
    }
    assert set(problems_of(document)) == {
        Problem(
            "health_system.visit_settings.validations[0].kind",
            "Input should be 'acceptance', 'birthdate', 'email', 'format', 'inclusion',"
            " 'length', 'numericality', 'presence' or 'phone'",
        ),
        Problem("health_system.visit_settings.instructions", "Extra inputs are not permitted"),
        Problem("schedules[0].capacity", "Input should be a valid integer"),
        Problem("schedules[0].accepting_new_patients", "Input should be a valid boolean"),
        Problem("schedules[0].colour", "Extra inputs are not permitted"),
    }


@pytest.mark.parametrize(
    ("changes", "path", "message"),
    [
        ({"slot_minutes": 4}, "slot_minutes", "Input should be greater than or equal to 5"),
        ({"slot_minutes": 300}, "slot_minutes", "Input should be less than or equal to 240"),
        ({"capacity": 0}, "capacity", "Input should be greater than or equal to 1"),
        ({"capacity": 1001}, "capacity", "Input should be less than or equal to 1000"),
        ({"horizon_days": 731}, "horizon_days", "Input should be less than or equal to 730"),
        ({"lead_minutes": -1}, "lead_minutes", "Input should be greater than or equal to 0"),
        (
            {"context": "Patients"},
            "context",
            "Input should be 'Patient', 'Discharge' or 'Internal'",
        ),
        ({"time_zone": "US/Eastern Standard"}, "time_zone", None),
        ({"time_zone": "../../etc/passwd"}, "time_zone", None),
        ({"id": "not-a-uuid"}, "id", "must be a UUID, e.g. 0b9c4f4e-6f1e-4c43-9a57-2d1c3b7e5a10"),
        (
            {"age_limit": {"direction": "older", "threshold": 200}},
            "age_limit.threshold",
            "Input should be less than or equal to 130",
        ),
        (
            {"hours": [{"days": [], "opens": "08:00", "closes": "12:00"}]},
            "hours[0].days",
            "List should have at least 1 item after validation, not 0",
        ),
        (
            {"hours": [{"days": ["mon", "mon"], "opens": "08:00", "closes": "12:00"}]},
            "hours[0].days",
            "lists 'mon' more than once",
        ),
        (
            {"hours": [{"days": ["mon"], "opens": "8:00", "closes": "12:00"}]},
            "hours[0].opens",
            "must be a time of day written HH:MM (00:00 to 23:59)",
        ),
        (
            {"hours": [{"days": ["mon"], "opens": "08:00", "closes": "24:00"}]},
            "hours[0].closes",
            "must be a time of day written HH:MM (00:00 to 23:59)",
        ),
        (
            {"hours": [{"days": ["mon"], "opens": "12:00", "closes": "12:00"}]},
            "hours[0].closes",
            "must be after opens",
        ),
        (
            {"exceptions": [{"date": "2026-02-30", "closed": True}]},
            "exceptions[0].date",
            "is not a calendar date",
        ),
        (
            {"exceptions": [{"date": "12/25/2026", "closed": True}]},
            "exceptions[0].date",
            "must be a date written YYYY-MM-DD",
        ),
        (
            {"exceptions": [{"date": "2026-12-24"}]},
            "exceptions[0]",
            'give either "closed": true or a non-empty "hours" list',
        ),
        (
            {
                "exceptions": [
                    {
                        "date": "2026-12-24",
                        "closed": True,
                        "hours": [{"opens": "08:00", "closes": "12:00"}],
                    }
                ]
            },
            "exceptions[0]",
            'give either "closed": true or a non-empty "hours" list',
        ),
        (
            {"appointment_types": [{"id": "visit", "duration_minutes": 481}]},
            "appointment_types[0].duration_minutes",
            "Input should be less than or equal to 480",
        ),
    ],
)
def test_schedule_fields_are_range_checked(
    changes: dict[str, Any], path: str, message: str | None
) -> None:
    problems = problems_of(catalog(schedules=[schedule(**changes)]))
    expected = message or "is not an IANA time zone name, e.g. America/New_York"
    assert problems == [Problem(f"schedules[0].{path}", expected)]


def test_other_sections_are_range_checked() -> None:
    document = catalog(
        locations=[
            {"id": "main", "name": "Main", "latitude": 36.1},
            {"id": "east", "name": "", "longitude": -181.0, "latitude": 0},
        ],
        appointment_types=[{"id": "visit", "name": "Visit", "priority": 0}],
        providers=[
            {"id": "dr-a", "name": "A", "affiliation": "contractor"},
            {"id": "mri", "name": "MRI", "provider_type": "Machine"},
        ],
        sites=[{"hostname": "Winter.Example.com"}],
    )
    document["health_system"]["hold_minutes"] = -5
    assert set(problems_of(document)) == {
        Problem("health_system.hold_minutes", "Input should be greater than or equal to 0"),
        Problem(
            "sites[0].hostname", "must be a lowercase hostname, e.g. winter-health.inquicker.com"
        ),
        Problem("locations[0]", "latitude and longitude must be given together"),
        Problem("locations[1].name", "String should have at least 1 character"),
        Problem("locations[1].longitude", "Input should be greater than or equal to -180"),
        Problem("providers[0].affiliation", "Input should be 'employed' or 'affiliated'"),
        Problem(
            "providers[1].provider_type", "Input should be 'Practitioner' or 'Health Resource'"
        ),
        Problem("appointment_types[0].priority", "Input should be greater than or equal to 1"),
    }


def test_overlapping_and_repeated_schedule_entries_are_reported() -> None:
    document = catalog(
        schedules=[
            schedule(
                appointment_types=[{"id": "visit"}, {"id": "visit", "duration_minutes": 30}],
                hours=[
                    {"days": ["mon", "tue"], "opens": "08:00", "closes": "17:00"},
                    {"days": ["tue"], "opens": "09:00", "closes": "10:00"},
                    {"days": ["tue"], "opens": "11:00", "closes": "12:00"},
                    {"days": ["wed"], "opens": "12:00", "closes": "13:00"},
                    {"days": ["wed"], "opens": "13:00", "closes": "14:00"},
                ],
                exceptions=[
                    {"date": "2026-12-24", "closed": True},
                    {
                        "date": "2026-12-24",
                        "hours": [
                            {"opens": "08:00", "closes": "12:00"},
                            {"opens": "11:00", "closes": "13:00"},
                        ],
                    },
                ],
            )
        ]
    )
    assert problems_of(document) == [
        Problem("schedules[0].appointment_types[1].id", "appointment type 'visit' listed twice"),
        # A long range overlapping several short ones is reported against each of them.
        Problem("schedules[0].hours[1]", "09:00-10:00 overlaps 08:00-17:00 on tue"),
        Problem("schedules[0].hours[2]", "11:00-12:00 overlaps 08:00-17:00 on tue"),
        Problem(
            "schedules[0].exceptions[1].date",
            "date 2026-12-24 also at schedules[0].exceptions[0]",
        ),
        Problem("schedules[0].exceptions[1].hours[1]", "11:00-13:00 overlaps 08:00-12:00"),
    ]


def test_duplicates_within_lists_are_reported() -> None:
    document = catalog(
        sites=[{"hostname": "a.example.com"}, {"hostname": "a.example.com"}],
        providers=[
            {
                "id": "dr-a",
                "name": "A",
                "languages": ["English", "Spanish", "english "],
                "medical_groups": ["g", "g"],
            }
        ],
        medical_groups=[{"id": "g", "name": "G"}, {"id": "g", "name": "G again"}],
    )
    assert problems_of(document) == [
        Problem("sites[1].hostname", "duplicate hostname 'a.example.com' (also at sites[0])"),
        Problem("medical_groups[1].id", "duplicate id 'g' (also at medical_groups[0])"),
        Problem("providers[0].medical_groups[1]", "medical group 'g' listed twice"),
        Problem("providers[0].languages[2]", "language 'english' listed twice"),
    ]
    assert problems_of(
        minimal_bundle()
        | {"health_system": {"id": "x", "name": "X", "features": ["insurance", "insurance"]}}
    ) == [Problem("health_system.features", "lists 'insurance' more than once")]


def test_acceptance_entries_are_checked() -> None:
    document = catalog(
        regions=[{"id": "east", "name": "East"}],
        schedules=[schedule()],
        insurance_acceptance=[
            {"level": "health-system", "scope": "east", "service": "primary-care", "plans": []},
            {"level": "region", "scope": "west", "service": "primary-care", "plans": []},
            {"level": "location", "service": "primary-care", "plans": ["plan-a", "plan-a"]},
            {"level": "schedule", "scope": "main", "service": "dentistry", "plans": ["plan-z"]},
            {"level": "region", "scope": "east", "service": "primary-care", "plans": []},
            {"level": "region", "scope": "east", "service": "primary-care", "plans": ["plan-a"]},
            {"level": "state", "service": "primary-care", "plans": []},
        ],
    )
    assert problems_of(document) == [
        Problem("insurance_acceptance[0].scope", "must be null at the health-system level"),
        Problem("insurance_acceptance[2].scope", "must name the location this list applies to"),
        Problem(
            "insurance_acceptance[3].scope",
            "must be a UUID, e.g. 0b9c4f4e-6f1e-4c43-9a57-2d1c3b7e5a10",
        ),
        Problem(
            "insurance_acceptance[6].level",
            "Input should be 'health-system', 'region', 'location' or 'schedule'",
        ),
        Problem("insurance_acceptance[1].scope", "unknown region 'west'"),
        Problem(
            "insurance_acceptance[5]",
            "a second region list for service 'primary-care' (also at insurance_acceptance[4])",
        ),
    ]


def test_references_resolve_against_what_the_health_system_already_has() -> None:
    document = minimal_bundle(schedules=[schedule(appointment_types=[{"id": "visit"}])])
    assert [p.path for p in problems_of(document)] == [
        "schedules[0].provider",
        "schedules[0].location",
        "schedules[0].service",
        "schedules[0].appointment_types[0].id",
    ]
    existing = Existing(
        providers=frozenset({"dr-a"}),
        locations=frozenset({"main"}),
        services=frozenset({"primary-care"}),
        appointment_types=frozenset({"visit"}),
    )
    assert problems_of(document, existing) == []


def test_a_hostname_of_another_health_system_is_reported() -> None:
    document = minimal_bundle(sites=[{"hostname": "winter-health.inquicker.com"}])
    existing = Existing(foreign_hostnames={"winter-health.inquicker.com": ["winter-health"]})
    assert problems_of(document, existing) == [
        Problem(
            "sites[0].hostname",
            "'winter-health.inquicker.com' already belongs to health system winter-health",
        )
    ]


def test_defaults_match_the_columns_and_schedule_ids_are_canonical() -> None:
    bundle = parsed(catalog(schedules=[schedule(id=SCHEDULE_ID.upper())]))
    ((_, item),) = bundle.schedules
    assert item.id == SCHEDULE_ID
    assert (item.schedule_type, item.sort_order, item.context) == ("online", 0, "Patient")
    assert (item.accepting_new_patients, item.active, item.age_limit) == (True, True, None)
    assert (item.slot_minutes, item.capacity, item.lead_minutes, item.horizon_days) == (
        15,
        1,
        0,
        90,
    )
    assert bundle.health_system is not None
    assert bundle.health_system.hold_minutes == 30
    assert bundle.health_system.features == []
    ((_, plan_type),) = bundle.appointment_types
    assert (plan_type.priority, plan_type.duration_minutes) == (5, 15)
    assert bundle.insurance_acceptance is None  # absent: acceptance is left alone


def test_visit_settings_parameters_in_the_reference_types() -> None:
    rules = [
        {"kind": "acceptance", "attributes": ["terms"], "accept": "1"},
        {"kind": "inclusion", "attributes": ["requires-translator"], "in": ["yes", "no"]},
        {"kind": "inclusion", "attributes": ["new-patient"], "in": [True]},
        {"kind": "length", "attributes": ["zip"], "is": 5},
        {
            "kind": "presence",
            "attributes": ["translator-language"],
            "when_attribute": "requires-translator",
            "when_in": ["yes"],
        },
    ]
    bundle = parsed(catalog(schedules=[schedule(visit_settings={"validations": rules})]))
    [(_, item)] = bundle.schedules
    validations = item.visit_settings.validations
    assert validations[0].accept == "1"
    assert validations[1].in_ == [True, False]
    assert validations[2].in_ == [True]
    assert validations[3].is_ == 5
    assert validations[4].when_in == [True]


def test_built_in_only_parameters_are_refused_in_a_bundle() -> None:
    rules = [
        {"kind": "birthdate", "attributes": ["birthdate"], "minimum_age": 18},
        {"kind": "presence", "attributes": ["x"], "when_attribute": "birthdate"},
    ]
    found = problems_of(catalog(schedules=[schedule(visit_settings={"validations": rules})]))
    [problem] = found
    assert problem.path.startswith("schedules[0].visit_settings")
    assert "age_limit" in problem.message
    assert "'when_attribute' and 'when_in' go together" in problem.message
