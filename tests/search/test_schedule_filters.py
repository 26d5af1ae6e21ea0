"""Schedule filters, /locations/{id}/schedules, the `hours` summary and provider computed
attributes, on the purpose-built tenant of fixture.py."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.search.fixture import (
    ACTIVE_IN_ORDER,
    ANN,
    BASE,
    BEN,
    CARA,
    DAN,
    EVE,
    FAY,
    GUS,
    JSONAPI,
    MRI,
    S01,
    S02,
    S03,
    S04,
    S05,
    S06,
    S07,
    S08,
    S09,
    S10,
    S11,
    SCANNER,
    path,
)


def get_doc(client, key: str, p: str, params: Any = ()) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    response = client.get(path(p, key, params))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == JSONAPI
    return response.json()


def list_ids(client, key: str, p: str, params: Any = ()) -> list[str]:  # type: ignore[no-untyped-def]
    pairs = list(params.items()) if isinstance(params, dict) else list(params)
    doc = get_doc(client, key, p, [*pairs, ("page[size]", "100")])
    found = [r["id"] for r in doc["data"]]
    assert doc["meta"]["record-count"] == len(found)
    return found


def only_400(response) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    assert response.status_code == 400, response.text
    errors = response.json()["errors"]
    assert len(errors) == 1, errors
    return errors[0]


# --- /schedules filters ----------------------------------------------------------------------


def test_only_active_schedules_are_listed_in_default_order(client, search):
    doc = get_doc(client, search.read, "/schedules", {"page[size]": "100"})
    assert [r["id"] for r in doc["data"]] == ACTIVE_IN_ORDER  # sort-order, then name
    assert doc["meta"]["record-count"] == 9
    assert S07 not in ACTIVE_IN_ORDER and S10 not in ACTIVE_IN_ORDER


@pytest.mark.parametrize("inactive", [S07, S10])
def test_inactive_schedule_is_not_found(client, search, inactive):
    response = client.get(path(f"/schedules/{inactive}", search.read))
    assert response.status_code == 404
    assert inactive not in response.text or "No schedules" in response.text


SCHEDULE_CASES: list[tuple[str, Any, list[str]]] = [
    ("provider-type", "healthresource", [S09, S11]),
    ("provider-type", "practitioner", [S02, S03, S04, S05, S06, S08, S01]),
    ("provider_type", "healthresource", [S09, S11]),
    ("provider_type", "Practitioner", [S02, S03, S04, S05, S06, S08, S01]),
    ("provider-type", "practitioner,healthresource", ACTIVE_IN_ORDER),
    ("service", "primary-care", [S04, S08, S01]),
    ("service", "Primary Care", [S04, S08, S01]),
    ("service", "primary care", [S04, S08, S01]),
    ("service", "Pediatrics", [S05]),
    ("service", "cardiology,Imaging", [S02, S03, S06, S09, S11]),
    ("service", ["cardiology", "Imaging"], [S02, S03, S06, S09, S11]),
    ("service", "dermatology", []),  # only the inactive S10
    ("location", "center", [S09, S01]),  # S07 there is inactive
    ("location", "east", [S04, S06]),
    ("location", "north,far", [S02, S03, S05, S08]),
    ("location", "virtual", [S11]),
    ("location", "annex", []),  # only the inactive S10
    ("provider", ANN, [S02, S01]),
    ("provider", DAN, [S06]),
    ("provider", FAY, []),
    ("provider", GUS, []),
    ("provider", f"{BEN},{CARA}", [S03, S04, S05]),
    ("appointment-type", "follow-up", [S03, S04, S06, S01]),
    ("appointment-type", "physical", [S08, S01]),
    ("appointment-type", "mri", [S09, S11]),
    ("appointment-type", "legacy", []),
    ("appointment-type", "new-patient,checkup", [S02, S05, S01]),
    ("insurance", "aetna", [S03, S08, S09, S01]),
    ("insurance", "cigna", [S04, S11, S01]),
    ("insurance", "humana", [S02]),  # S07 (inactive) also takes it
    ("insurance", "medicare", [S06, S09]),
    ("insurance", "humana,medicare", [S02, S06, S09]),
    ("context", "Discharge", [S03]),
    ("context", "Internal", [S06]),
    ("context", "Patient", [S02, S04, S05, S08, S09, S11, S01]),
    ("context", "patient", [S02, S04, S05, S08, S09, S11, S01]),
    ("context", "Discharge,Internal", [S03, S06]),
]


@pytest.mark.parametrize("spelling", ["bracket", "json"])
@pytest.mark.parametrize(
    ("name", "value", "expected"),
    SCHEDULE_CASES,
    ids=[f"{n}={v}" for n, v, _ in SCHEDULE_CASES],
)
def test_schedule_filter(client, search, spelling, name, value, expected):
    if spelling == "bracket":
        text = ",".join(value) if isinstance(value, list) else value
        params = {f"filter[{name}]": text}
    else:
        params = {"filter": json.dumps({name: value})}
    assert list_ids(client, search.read, "/schedules", params) == expected


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"service": "primary-care", "insurance": "cigna"}, [S04, S01]),
        ({"provider-type": "healthresource", "location": "center"}, [S09]),
        ({"context": "Patient", "appointment-type": "new-patient"}, [S02, S05]),
        ({"provider": ANN, "service": "Cardiology"}, [S02]),
        ({"provider": DAN, "context": "Patient"}, []),  # his Patient schedule is inactive
        ({"location": "east", "insurance": "medicare", "provider_type": "practitioner"}, [S06]),
    ],
)
def test_schedule_filter_combinations(client, search, filters, expected):
    assert list_ids(client, search.read, "/schedules", {"filter": json.dumps(filters)}) == expected
    bracket = {f"filter[{k}]": v for k, v in filters.items()}
    assert list_ids(client, search.read, "/schedules", bracket) == expected


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("provider-type", "robot"),
        ("provider_type", "robot"),
        ("context", "bogus"),
        ("service", "no-such-service"),
        ("location", "no-such-location"),
        ("provider", "no-such-provider"),
        ("appointment-type", "no-such-type"),
        ("insurance", "no-such-plan"),
        ("gender", "female"),  # a provider filter, not a schedule filter
        ("near", "[36,-86]"),
    ],
)
def test_bad_schedule_filter_is_400(client, search, name, value):
    err = only_400(client.get(path("/schedules", search.read, {f"filter[{name}]": value})))
    assert err["source"] == {"parameter": f"filter[{name}]"}
    err = only_400(
        client.get(path("/schedules", search.read, {"filter": json.dumps({name: value})}))
    )
    assert err["source"] == {"parameter": "filter"}


def test_schedule_filters_page(client, search):
    params = {"filter[insurance]": "aetna", "page[size]": "3", "page[number]": "2"}
    doc = get_doc(client, search.read, "/schedules", params)
    assert [r["id"] for r in doc["data"]] == [S01]
    assert doc["meta"]["record-count"] == 4
    assert "next" not in doc["links"] and "prev" in doc["links"]


# --- /locations/{id}/schedules ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("location", "params", "expected"),
    [
        ("center", {}, [S09, S01]),
        ("center", {"filter[insurance]": "aetna"}, [S09, S01]),
        ("center", {"filter[provider-type]": "healthresource"}, [S09]),
        ("center", {"filter[provider_type]": "practitioner"}, [S01]),
        ("center", {"filter[service]": "Imaging"}, [S09]),
        ("center", {"filter": '{"appointment-type":"physical"}'}, [S01]),
        ("center", {"filter[location]": "east"}, []),
        ("center", {"filter[provider]": DAN}, []),  # S07 there is inactive
        ("east", {"filter[context]": "Internal"}, [S06]),
        ("annex", {}, []),
        ("virtual", {}, [S11]),
    ],
)
def test_location_schedules_accept_schedule_filters(client, search, location, params, expected):
    assert list_ids(client, search.read, f"/locations/{location}/schedules", params) == expected


def test_location_schedules_page_and_include(client, search):
    p = "/locations/center/schedules"
    first = get_doc(client, search.read, p, {"page[size]": "1", "include": "provider"})
    second = get_doc(
        client, search.read, p, {"page[size]": "1", "page[number]": "2", "include": "provider"}
    )
    assert [r["id"] for r in first["data"]] == [S09]
    assert [r["id"] for r in second["data"]] == [S01]
    assert first["meta"]["record-count"] == second["meta"]["record-count"] == 2
    assert [(r["type"], r["id"]) for r in first["included"]] == [("providers", MRI)]
    assert [(r["type"], r["id"]) for r in second["included"]] == [("providers", ANN)]
    assert first["links"]["next"].startswith(f"{BASE}/locations/center/schedules?")


def test_location_schedules_bad_filter_is_400(client, search):
    err = only_400(
        client.get(path("/locations/center/schedules", search.read, {"filter[context]": "x"}))
    )
    assert err["source"] == {"parameter": "filter[context]"}


def test_location_schedules_relationship_is_active_only(client, search):
    doc = get_doc(client, search.read, "/locations/center/relationships/schedules")
    assert sorted(r["id"] for r in doc["data"]) == sorted([S01, S09])
    doc = get_doc(client, search.read, "/locations/annex/relationships/schedules")
    assert doc["data"] == []


def test_locations_include_schedules_is_active_only(client, search):
    doc = get_doc(client, search.read, "/locations", {"include": "schedules"})
    linkage = {
        r["id"]: sorted(s["id"] for s in r["relationships"]["schedules"]["data"])
        for r in doc["data"]
    }
    assert linkage == {
        "center": sorted([S01, S09]),
        "north": sorted([S02, S03]),
        "east": sorted([S04, S06]),
        "far": sorted([S05, S08]),
        "annex": [],
        "virtual": [S11],
    }
    assert {r["id"] for r in doc["included"]} == set(ACTIVE_IN_ORDER)


# --- the hours summary ---------------------------------------------------------------------

HOURS = {
    S01: "Mon–Fri 8:00 AM–5:00 PM",
    S02: "Mon–Fri 8:00 AM–12:00 PM, 1:00 PM–5:00 PM; Sat 9:00 AM–1:00 PM",
    S03: "Mon 11:00 AM–12:00 PM",
    S04: "Tue 5:00 PM–6:00 PM",
    S05: "Wed 12:00 PM–1:00 PM",
    S06: "Thu 6:00 PM–9:00 PM; Sat 11:00 PM–11:59 PM",
    S08: None,
    S09: "Mon–Wed, Fri 6:00 AM–10:00 PM; Sun 10:00 AM–2:00 PM",
    S11: "Sat 12:00 AM–4:59 AM; Sun 4:00 AM–5:00 AM",
}


def test_hours_summary_in_list(client, search):
    doc = get_doc(client, search.read, "/schedules", {"page[size]": "100"})
    assert {r["id"]: r["attributes"]["hours"] for r in doc["data"]} == HOURS


@pytest.mark.parametrize("schedule", [S01, S02, S08, S09])
def test_hours_summary_in_show_and_sparse_fieldset(client, search, schedule):
    doc = get_doc(client, search.read, f"/schedules/{schedule}")
    assert doc["data"]["attributes"]["hours"] == HOURS[schedule]
    sparse = get_doc(client, search.read, f"/schedules/{schedule}", {"fields[schedules]": "hours"})
    assert sparse["data"]["attributes"] == {"hours": HOURS[schedule]}


def test_schedule_attributes(client, search):
    doc = get_doc(client, search.read, f"/schedules/{S01}")
    assert doc["data"]["attributes"] == {
        "name": "Sched 01 Ann Adams",
        "schedule-type": "online",
        "service": "Primary Care",
        "sort-order": 5,
        "time-zone-name": "America/Chicago",
        "hours": HOURS[S01],
        "age-limit-direction": None,
        "age-limit-threshold": None,
        "accepting-new-patients": True,
        "context": "Patient",
    }
    s04 = get_doc(client, search.read, f"/schedules/{S04}")["data"]["attributes"]
    assert s04["accepting-new-patients"] is False


def test_schedule_relationships_included(client, search):
    doc = get_doc(
        client,
        search.read,
        f"/schedules/{S01}",
        {"include": "location,provider,service-resource,insurance-plans,appointment-types"},
    )
    rels = doc["data"]["relationships"]
    assert rels["location"]["data"] == {"type": "locations", "id": "center"}
    assert rels["provider"]["data"] == {"type": "providers", "id": ANN}
    assert rels["service-resource"]["data"] == {"type": "services", "id": "primary-care"}
    assert sorted(r["id"] for r in rels["insurance-plans"]["data"]) == ["aetna", "cigna"]
    assert sorted(r["id"] for r in rels["appointment-types"]["data"]) == [
        "checkup",
        "follow-up",
        "physical",
    ]


# --- provider computed attributes ------------------------------------------------------------

TYPES = {
    "new-patient": "New Patient",
    "physical": "Annual Physical",
    "checkup": "Checkup",
    "follow-up": "Follow-up",
    "mri": "MRI Scan",
}


def _types(*slugs: str) -> list[dict[str, str]]:
    return [{"id": s, "name": TYPES[s]} for s in slugs]


EXPECTED_TYPES = {
    # priority order (1 first); Annual Physical and Checkup tie at 2 (name order)
    ANN: _types("new-patient", "physical", "checkup", "follow-up"),
    BEN: _types("follow-up"),
    CARA: _types("new-patient", "follow-up"),
    DAN: _types("follow-up"),  # "legacy" only on his inactive S07
    EVE: _types("physical"),
    FAY: [],  # only an inactive schedule
    GUS: [],
    MRI: _types("mri"),
    SCANNER: _types("mri"),
}
EXPECTED_GROUPS = {
    ANN: [{"id": "mg-a", "name": "Alpha Group"}],
    BEN: [{"id": "mg-b", "name": "Beta Group"}],
    CARA: [{"id": "mg-b", "name": "Beta Group"}, {"id": "mg-a", "name": "Alpha Group"}],
    DAN: [],
    EVE: [{"id": "mg-b", "name": "Beta Group"}],
    FAY: [],
    GUS: [],
    MRI: [],
    SCANNER: [],
}


def test_provider_appointment_types_and_medical_groups_in_list(client, search):
    doc = get_doc(client, search.read, "/providers")
    assert {r["id"]: r["attributes"]["appointment-types"] for r in doc["data"]} == EXPECTED_TYPES
    assert {r["id"]: r["attributes"]["medical-groups"] for r in doc["data"]} == EXPECTED_GROUPS


@pytest.mark.parametrize("provider", [ANN, CARA, DAN, FAY])
def test_provider_computed_attributes_in_show(client, search, provider):
    attributes = get_doc(client, search.read, f"/providers/{provider}")["data"]["attributes"]
    assert attributes["appointment-types"] == EXPECTED_TYPES[provider]
    assert attributes["medical-groups"] == EXPECTED_GROUPS[provider]


def test_provider_computed_attributes_on_a_filtered_page(client, search):
    # computed per page: the second page of a near search carries the right values
    doc = get_doc(
        client,
        search.read,
        "/providers",
        {"filter[near]": "[36.1,-86.1]", "page[size]": "2", "page[number]": "2"},
    )
    assert [r["id"] for r in doc["data"]] == [BEN, CARA]
    assert [r["attributes"]["appointment-types"] for r in doc["data"]] == [
        EXPECTED_TYPES[BEN],
        EXPECTED_TYPES[CARA],
    ]


def test_provider_attributes(client, search):
    attributes = get_doc(client, search.read, f"/providers/{CARA}")["data"]["attributes"]
    assert attributes["name"] == "Cara Cruz"
    assert attributes["gender"] == "f"
    assert attributes["affiliation"] == "affiliated"
    assert attributes["provider-type"] == "Practitioner"
    assert attributes["languages"] == ["Spanish", "French"]
    resource = get_doc(client, search.read, f"/providers/{MRI}")["data"]["attributes"]
    assert resource["provider-type"] == "Health Resource"
    assert resource["gender"] is None
    assert resource["languages"] == []


def test_provider_sparse_fieldset_skips_computed(client, search):
    doc = get_doc(client, search.read, "/providers", {"fields[providers]": "name"})
    assert all(set(r["attributes"]) == {"name"} for r in doc["data"])
    doc = get_doc(client, search.read, "/providers", {"fields[providers]": "appointment-types"})
    assert doc["data"][0]["attributes"] == {"appointment-types": EXPECTED_TYPES[ANN]}


def test_provider_schedules_relationship_is_active_only(client, search):
    # "medical-groups", the relationship's former name, is still accepted in include.
    doc = get_doc(client, search.read, "/providers", {"include": "schedules,medical-groups"})
    linkage = {
        r["id"]: sorted(s["id"] for s in r["relationships"]["schedules"]["data"])
        for r in doc["data"]
    }
    assert linkage[DAN] == [S06]
    assert linkage[FAY] == []
    assert linkage[ANN] == sorted([S01, S02])
    groups = {
        r["id"]: sorted(g["id"] for g in r["relationships"]["medical-group-resources"]["data"])
        for r in doc["data"]
    }
    assert groups[CARA] == ["mg-a", "mg-b"]
    assert groups[DAN] == []
    assert list_ids(client, search.read, f"/providers/{DAN}/schedules") == [S06]
    assert list_ids(client, search.read, f"/providers/{FAY}/schedules") == []
    rel = get_doc(client, search.read, f"/providers/{DAN}/relationships/schedules")
    assert rel["data"] == [{"type": "schedules", "id": S06}]


def test_provider_schedules_related_accepts_filters(client, search):
    p = f"/providers/{ANN}/schedules"
    assert list_ids(client, search.read, p, {"filter[service]": "cardiology"}) == [S02]
    assert list_ids(client, search.read, p, {"filter[insurance]": "cigna"}) == [S01]


# --- catalog lists the search relies on --------------------------------------------------


def test_insurance_plans_are_those_of_active_schedules(client, search):
    # "retired" is accepted only by the inactive S07
    assert list_ids(client, search.read, "/insurance-plans") == [
        "aetna",
        "cigna",
        "humana",
        "medicare",
    ]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, ["new-patient", "physical", "checkup", "legacy", "follow-up", "mri"]),
        (
            {"filter[context]": "Patient"},
            ["new-patient", "physical", "checkup", "follow-up", "mri"],
        ),
        ({"filter[context]": "Internal"}, ["follow-up"]),
        ({"filter[context]": "Discharge"}, ["follow-up"]),
        ({"filter[service]": "Primary Care"}, ["physical", "checkup", "follow-up"]),
        ({"filter[service]": "primary-care"}, ["physical", "checkup", "follow-up"]),
        ({"filter[service]": "dermatology"}, []),  # only the inactive S10
        ({"filter": '{"service":"imaging","context":"Patient"}'}, ["mri"]),
    ],
)
def test_appointment_type_filters(client, search, params, expected):
    assert list_ids(client, search.read, "/appointment-types", params) == expected
