"""Insurance acceptance: the four-level hierarchy and the materialized effective plans."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session, sessionmaker

from inquicker.bundle.acceptance import Key, effective_plans
from inquicker.bundle.demo import demo_document, load_demo
from inquicker.bundle.exporter import export_bundle
from inquicker.bundle.importer import import_bundle
from inquicker.bundle.result import SectionCounts
from inquicker.db.engine import transaction

from . import plans_of, row_counts

HEALTH_SYSTEM_PRIMARY_CARE = [
    "aetna-ppo",
    "bcbst-network-p",
    "bcbst-network-s",
    "cigna-open-access",
    "humana-medicare-advantage",
    "unitedhealthcare-choice-plus",
]
HEALTH_SYSTEM_FAMILY_MEDICINE = [
    "aetna-ppo",
    "bcbst-network-p",
    "cigna-open-access",
    "tenncare-bluecare",
    "unitedhealthcare-choice-plus",
]
EAST_TENNESSEE_PRIMARY_CARE = [
    "bcbst-network-p",
    "bcbst-network-s",
    "humana-medicare-advantage",
    "tenncare-bluecare",
]

# (schedule id, what it is and where its plans come from, expected plan ids)
DEMO_EXPECTATIONS = [
    (
        "4a8cf484-65e5-531d-95cf-160e7cfbc746",
        "Jane Smith, primary care, Nashville: health-system level (no regional list there)",
        HEALTH_SYSTEM_PRIMARY_CARE,
    ),
    (
        "8ab8d7df-4e6e-5ec4-be9a-92446be3411b",
        "Aisha Rahman, primary care, Franklin: Franklin's list is for family medicine only",
        HEALTH_SYSTEM_PRIMARY_CARE,
    ),
    (
        "f494177e-8513-5afb-8901-a50ff3fffa04",
        "Elena Garcia, primary care, Knoxville: East Tennessee region",
        EAST_TENNESSEE_PRIMARY_CARE,
    ),
    (
        "366db415-5a8d-5b69-b19c-d03ce14cf641",
        "Laura Martinez, pediatrics, Knoxville: East Tennessee region",
        ["bcbst-network-p", "tenncare-bluecare"],
    ),
    (
        "21a58530-22bc-5d41-95e4-35ed8170939d",
        "Elena Garcia, women's health, Knoxville: the region says nothing about it",
        [
            "aetna-hmo",
            "aetna-ppo",
            "bcbst-network-p",
            "cigna-open-access",
            "unitedhealthcare-choice-plus",
        ],
    ),
    (
        "b7c07a7e-95ff-5a1f-854e-34358acfb1e6",
        "Marcus Johnson, family medicine, Franklin: location level",
        ["aetna-hmo", "bcbst-network-p"],
    ),
    (
        "5d67cc0c-8d25-56a3-9fe1-b22bdbd24f42",
        "Priya Patel, primary care, Cookeville: the location explicitly accepts none",
        [],
    ),
    (
        "0f338051-1815-56c0-a2b8-edbdec671442",
        "Robert Williams, family medicine, Cookeville (no region): health-system level",
        HEALTH_SYSTEM_FAMILY_MEDICINE,
    ),
    (
        "08de6e10-a6d7-5ebb-9785-f3386490f2a1",
        "David Chen, family medicine, Chattanooga: schedule level",
        ["cigna-open-access"],
    ),
    (
        "bc38517e-c2f3-549a-8a58-f83a77c165b5",
        "Michael Nguyen, family medicine, Chattanooga: health-system level",
        HEALTH_SYSTEM_FAMILY_MEDICINE,
    ),
    (
        "654d60e9-0b2b-538c-960f-0036367dbf6f",
        "Knoxville open MRI: schedule level",
        ["aetna-ppo", "unitedhealthcare-choice-plus"],
    ),
]


@pytest.fixture
def demo(session_factory: sessionmaker[Session]) -> sessionmaker[Session]:
    with transaction(session_factory) as session:
        load_demo(session)
    return session_factory


@pytest.mark.parametrize(
    ("schedule_id", "plans"),
    [(schedule_id, plans) for schedule_id, _, plans in DEMO_EXPECTATIONS],
    ids=[why.split(":")[0] for _, why, _ in DEMO_EXPECTATIONS],
)
def test_demo_schedules_accept_the_plans_of_the_most_specific_level(
    demo: sessionmaker[Session], schedule_id: str, plans: list[str]
) -> None:
    with demo() as session:
        assert plans_of(session, schedule_id) == plans


def test_the_acceptance_section_replaces_every_level(demo: sessionmaker[Session]) -> None:
    document = demo_document()
    document["insurance_acceptance"] = [
        {
            "level": "health-system",
            "scope": None,
            "service": "primary-care",
            "plans": ["aetna-ppo"],
        },
        {
            "level": "location",
            "scope": "cookeville-clinic",
            "service": "primary-care",
            "plans": ["tenncare-bluecare"],
        },
    ]
    with transaction(demo) as session:
        result = import_bundle(session, document)
    # Two lists kept (one with changed plans), nine removed.
    assert result.counts["insurance_acceptance"] == SectionCounts(updated=2, unchanged=0, removed=9)
    with demo() as session:
        assert plans_of(session, "4a8cf484-65e5-531d-95cf-160e7cfbc746") == ["aetna-ppo"]
        assert plans_of(session, "f494177e-8513-5afb-8901-a50ff3fffa04") == ["aetna-ppo"]
        assert plans_of(session, "5d67cc0c-8d25-56a3-9fe1-b22bdbd24f42") == ["tenncare-bluecare"]
        # No list anywhere for family medicine any more: no plans.
        assert plans_of(session, "08de6e10-a6d7-5ebb-9785-f3386490f2a1") == []
        counts = row_counts(session)
        assert counts["acceptance_lists"] == 2
        assert counts["acceptance_list_plans"] == 2
        assert (
            export_bundle(session, "winter-health")["insurance_acceptance"]
            == (document["insurance_acceptance"])
        )


def test_a_new_schedule_level_list_overrides_after_reimport(demo: sessionmaker[Session]) -> None:
    document = demo_document()
    document["insurance_acceptance"].append(
        {
            "level": "schedule",
            "scope": "4a8cf484-65e5-531d-95cf-160e7cfbc746",
            "service": "primary-care",
            "plans": [],
        }
    )
    with transaction(demo) as session:
        result = import_bundle(session, document)
    assert result.counts["insurance_acceptance"] == SectionCounts(created=1, unchanged=11)
    with demo() as session:
        assert plans_of(session, "4a8cf484-65e5-531d-95cf-160e7cfbc746") == []
        assert row_counts(session)["schedule_plans"] == 107 - 6


LISTS: dict[Key, frozenset[int]] = {
    ("health-system", None, 1): frozenset({10, 11}),
    ("region", 7, 1): frozenset({12}),
    ("location", 3, 1): frozenset(),
    ("schedule", 99, 1): frozenset({13}),
}


@pytest.mark.parametrize(
    ("schedule_pk", "service_pk", "location_pk", "region_pk", "plans"),
    [
        (99, 1, 3, 7, {13}),  # schedule beats everything
        (98, 1, 3, 7, set()),  # location's explicit "none" beats region and health system
        (98, 1, 4, 7, {12}),  # region
        (98, 1, 4, None, {10, 11}),  # no region: health system
        (98, 1, 4, 8, {10, 11}),  # a region without a list for the service
        (98, 2, 3, 7, set()),  # no list at any level for this service: nothing
    ],
)
def test_effective_plans_take_the_most_specific_level(
    schedule_pk: int, service_pk: int, location_pk: int, region_pk: int | None, plans: set[int]
) -> None:
    assert effective_plans(LISTS, schedule_pk, service_pk, location_pk, region_pk) == plans
