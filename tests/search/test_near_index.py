"""filter[near] from the in-memory index (catalog/near_index.py) gives exactly the SQL path's
pages: same providers, order (nearest first, ties by name then pk, unlocated last) and
distances, and the same record count, alone and combined with every other filter.

A generated data set is added to the search tenant: providers sharing names (ties decided
by pk), locations sharing coordinates (ties across locations) or without any, inactive
schedules, and random filter attributes. Each request is answered twice, once by the
index and once with the pager switched off (the SQL ordering), and compared.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

import inquicker.catalog.provider_search as provider_search
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
from inquicker.catalog.near_index import near_page
from inquicker.catalog.schedule_models import Schedule, ScheduleAppointmentType, SchedulePlan
from inquicker.memo import Memo
from inquicker.web.response_cache import ResponseCache
from tests.search.fixture import SearchKeys, path

NAMES = ["Avery Lane", "Blake Moss", "Casey Rowe", "Drew Hale", "Emery Lark"]
POINTS = [(36.16, -86.78), (36.0, -86.0), (40.0, -80.0), (35.5, -85.0), (-33.9, 151.2)]
FILTER_SETS: list[dict[str, str]] = [
    {},
    {"filter[gender]": "female"},
    {"filter[service]": "primary-care,cardiology"},
    {"filter[accepting-new-patients]": "true"},
    {"filter[insurance]": "aetna"},
    {"filter[appointment-type]": "follow-up"},
    {"filter[language]": "spanish"},
    {"filter[medical-group]": "mg-b"},
    {"filter[provider-type]": "practitioner", "filter[affiliation]": "employed"},
    {"filter[hours-availability]": "morning"},
    {"filter[gender]": "male", "filter[insurance]": "cigna", "filter[service]": "cardiology"},
]
WINDOWS = [("1", "100"), ("1", "7"), ("3", "7"), ("9", "7")]  # (page number, size)


def _add_generated(session: Session, seed: int) -> None:
    rng = random.Random(seed)
    hs_pk = session.execute(select(Service.health_system_pk).limit(1)).scalar_one()
    by_slug = {
        model: {r.slug: r.pk for r in session.execute(select(model.slug, model.pk)).all()}
        for model in (Service, InsurancePlan, AppointmentType, MedicalGroup)
    }
    region = Region(health_system_pk=hs_pk, slug="gen", name="Generated")
    session.add(region)
    session.flush()
    coords: list[tuple[float, float] | None] = [
        (36.2, -86.7),
        (36.2, -86.7),  # the same point twice: a tie across two locations
        (35.9, -86.4),
        (39.9, -80.2),
        (36.0, -86.0),  # the same point as the fixture's "center"
        None,
        (37.1, -84.9),
    ]
    locations = []
    for i, c in enumerate(coords):
        loc = Location(
            health_system_pk=hs_pk,
            slug=f"gen-loc-{i}",
            name=f"Gen {i}",
            region_pk=region.pk,
            city="Gen",
            state="TN",
            latitude=c[0] if c else None,
            longitude=c[1] if c else None,
        )
        locations.append(loc)
    session.add_all(locations)
    providers = []
    for i in range(40):
        languages = rng.sample(["English", "Spanish", "French"], rng.randint(0, 2))
        providers.append(
            Provider(
                health_system_pk=hs_pk,
                slug=f"gen-prov-{i:02d}",
                name=rng.choice(NAMES),
                gender=rng.choice(["m", "f", None]),
                affiliation=rng.choice(["employed", "affiliated"]),
                provider_type=rng.choice(["Practitioner", "Health Resource"]),
                languages=languages,
            )
        )
    session.add_all(providers)
    session.flush()
    for j, provider in enumerate(providers):
        for language in provider.languages:
            session.add(ProviderLanguage(provider_pk=provider.pk, language=language.lower()))
        if rng.random() < 0.4:
            group = by_slug[MedicalGroup][rng.choice(["mg-a", "mg-b"])]
            session.add(
                ProviderMedicalGroup(provider_pk=provider.pk, medical_group_pk=group, position=0)
            )
        for k in range(rng.randint(0, 3)):  # some providers have no schedule at all
            schedule = Schedule(
                health_system_pk=hs_pk,
                slug=f"5e000000-0000-4000-9000-{j * 10 + k:012d}",
                name=f"Gen {j} {k}",
                provider_pk=provider.pk,
                location_pk=rng.choice(locations).pk,
                service_pk=by_slug[Service][rng.choice(["primary-care", "cardiology"])],
                time_zone_name="America/Chicago",
                active=rng.random() < 0.8,
                accepting_new_patients=rng.random() < 0.5,
                visit_settings={},
            )
            session.add(schedule)
            session.flush()
            plan = by_slug[InsurancePlan][rng.choice(["aetna", "cigna", "humana"])]
            session.add(SchedulePlan(schedule_pk=schedule.pk, plan_pk=plan))
            kind = by_slug[AppointmentType][rng.choice(["follow-up", "physical"])]
            session.add(ScheduleAppointmentType(schedule_pk=schedule.pk, appointment_type_pk=kind))


@pytest.fixture
def generated(session_factory: sessionmaker[Session], search: SearchKeys) -> Iterator[SearchKeys]:
    with session_factory() as session, session.begin():
        _add_generated(session, seed=15)
    yield search


def _answer(client: Any, url: str, *, index: bool, monkeypatch: pytest.MonkeyPatch) -> Any:
    api = client.app.state.api
    api.documents = ResponseCache(0)  # every request computed, none served from the cache
    with monkeypatch.context() as m:
        if not index:
            m.setattr(provider_search, "partial", lambda *_: None)  # no pager: the SQL path
        response = client.get(url)
    assert response.status_code == 200, response.text
    doc = response.json()
    return (
        [(r["id"], (r.get("meta") or {}).get("distance", "absent")) for r in doc["data"]],
        doc["meta"]["record-count"],
        doc["links"],
        sorted((r["type"], r["id"]) for r in doc.get("included", [])),
    )


@pytest.mark.parametrize("filters", FILTER_SETS, ids=lambda f: ",".join(f) or "none")
def test_index_pages_equal_the_sql_path(client, generated, monkeypatch, filters):
    client.app.state.api.memo = Memo()
    for point in POINTS:
        for number, size in WINDOWS:
            params = {
                "filter[near]": f"[{point[0]},{point[1]}]",
                **filters,
                "include": "schedules",
                "page[number]": number,
                "page[size]": size,
            }
            url = path("/providers", generated.read, params)
            fast = _answer(client, url, index=True, monkeypatch=monkeypatch)
            slow = _answer(client, url, index=False, monkeypatch=monkeypatch)
            assert fast == slow, (point, filters, number, size)


def test_index_pages_equal_with_offset_and_limit(client, generated, monkeypatch):
    for offset in ("0", "5", "38", "47", "200"):
        params = {"filter[near]": "[36.2,-86.7]", "page[offset]": offset, "page[limit]": "6"}
        url = path("/providers", generated.read, params)
        fast = _answer(client, url, index=True, monkeypatch=monkeypatch)
        slow = _answer(client, url, index=False, monkeypatch=monkeypatch)
        assert fast == slow, offset


def test_data_set_has_ties_and_unlocated(client, generated, monkeypatch):
    # Guard: the comparisons above cover equal distances and null distances.
    calls: list[int] = []

    def spy(*args: Any) -> Any:
        calls.append(1)
        return near_page(*args)

    monkeypatch.setattr(provider_search, "near_page", spy)
    url = path("/providers", generated.read, {"filter[near]": "[36.2,-86.7]", "page[size]": "100"})
    rows, total, _, _ = _answer(client, url, index=True, monkeypatch=monkeypatch)
    assert calls  # the index answered (the SQL comparisons above are not vacuous)
    distances = [d for _, d in rows]
    assert total == len(rows) > 40
    assert None in distances
    located = [d for d in distances if d is not None]
    assert len(set(located)) < len(located)  # ties
    assert located == sorted(located)


def test_sort_or_related_routes_keep_the_sql_path(client, generated, monkeypatch):
    # An explicit sort puts near second: the pager must not answer it.
    params = {"filter[near]": "[36.2,-86.7]", "sort": "-name", "page[size]": "100"}
    url = path("/providers", generated.read, params)
    fast = _answer(client, url, index=True, monkeypatch=monkeypatch)
    slow = _answer(client, url, index=False, monkeypatch=monkeypatch)
    assert fast == slow


def test_a_change_committed_here_is_served_at_once(client, search, session_factory):
    # The index, ranking and fragments are memoised per data version *and* this process's
    # change generation: an ORM edit without an import must show in the very next page.
    url = path("/providers", search.read, {"filter[near]": "[36.0,-86.0]", "page[size]": "3"})

    def first_ids() -> list[str]:
        client.app.state.api.documents = ResponseCache(0)
        return [r["id"] for r in client.get(url).json()["data"]]

    assert first_ids()[:2] == ["ann-adams", "mri-suite"]  # both at "center"
    with session_factory() as session, session.begin():
        ann = session.execute(select(Provider).where(Provider.slug == "ann-adams")).scalar_one()
        ann.name = "Zoe Adams"  # now after "MRI Suite" in the tie at "center"
    assert first_ids()[:2] == ["mri-suite", "ann-adams"]
    with session_factory() as session, session.begin():
        for schedule in session.execute(select(Schedule)).scalars():
            if schedule.provider_pk == ann.pk:
                schedule.active = False
    assert "ann-adams" not in first_ids()[:2]
