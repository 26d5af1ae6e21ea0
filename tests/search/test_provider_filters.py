"""Every provider filter of SPEC section 4, alone and combined, on the purpose-built tenant.

The data set and the subset each filter should select are documented in fixture.py.
"""

from __future__ import annotations

import json
from datetime import time
from typing import Any

import pytest
from sqlalchemy import select

from inquicker.catalog.models import Location, Provider, Service
from inquicker.catalog.schedule_models import Schedule, ScheduleHours
from tests.search.fixture import (
    ALL_PROVIDERS,
    ANN,
    BEN,
    CARA,
    DAN,
    EVE,
    FAY,
    GUS,
    JSONAPI,
    MRI,
    SCANNER,
    expected_near,
    great_circle_miles,
    path,
)

PRACTITIONERS = [ANN, BEN, CARA, DAN, EVE, FAY, GUS]
P1 = (36.1, -86.1)  # just off the "center" location, exactly at the inactive-only "annex"


def get_doc(client, key: str, params: Any, p: str = "/providers") -> dict[str, Any]:  # type: ignore[no-untyped-def]
    response = client.get(path(p, key, params))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == JSONAPI
    return response.json()


def provider_ids(client, key: str, params: Any) -> list[str]:  # type: ignore[no-untyped-def]
    doc = get_doc(client, key, [*_pairs(params), ("page[size]", "100")])
    found = [r["id"] for r in doc["data"]]
    assert doc["meta"]["record-count"] == len(found)
    assert all(r["type"] == "providers" for r in doc["data"])
    return found


def _pairs(params: Any) -> list[tuple[str, str]]:
    return list(params.items()) if isinstance(params, dict) else list(params)


def bracket(filters: dict[str, Any]) -> list[tuple[str, str]]:
    """filter[name]=value spelling (lists become comma-separated values)."""
    return [(f"filter[{k}]", ",".join(v) if _strings(v) else _text(v)) for k, v in filters.items()]


def as_json(filters: dict[str, Any]) -> list[tuple[str, str]]:
    """The reference's filter={...} spelling."""
    return [("filter", json.dumps(filters))]


def _strings(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return json.dumps(list(value))
    return str(value)


SPELLINGS = pytest.mark.parametrize("spell", [bracket, as_json], ids=["bracket", "json"])


# --- each filter alone ---------------------------------------------------------------------

SINGLE = [
    # gender (provider attribute; health resources have none)
    ("gender", "female", [ANN, CARA, EVE, FAY]),
    ("gender", "male", [BEN, DAN, GUS]),
    ("gender", "Female", [ANN, CARA, EVE, FAY]),
    ("gender", "female,male", PRACTITIONERS),
    ("gender", ["male", "female"], PRACTITIONERS),
    # affiliation
    ("affiliation", "employed", [ANN, DAN, EVE, FAY, MRI]),
    ("affiliation", "affiliated", [BEN, CARA, GUS, SCANNER]),
    ("affiliation", "employed,affiliated", ALL_PROVIDERS),
    # provider-type
    ("provider-type", "practitioner", PRACTITIONERS),
    ("provider-type", "healthresource", [MRI, SCANNER]),
    ("provider-type", "Practitioner,HealthResource", ALL_PROVIDERS),
    # language: case-insensitive, any of several
    ("language", "spanish", [ANN, CARA, FAY]),
    ("language", "Spanish", [ANN, CARA, FAY]),
    ("language", "SPANISH", [ANN, CARA, FAY]),
    ("language", "english", [ANN, BEN, DAN, EVE, GUS]),
    ("language", "French", [CARA]),
    ("language", "german,french", [CARA, DAN]),
    ("language", "klingon", []),
    # medical-group
    ("medical-group", "mg-a", [ANN, CARA]),
    ("medical-group", "mg-b", [BEN, CARA, EVE]),
    ("medical-group", "mg-a,mg-b", [ANN, BEN, CARA, EVE]),
    ("medical-group", "mg-empty", []),
    # service: active schedules only (Dan's primary care S07 and Fay's S10 are inactive)
    ("service", "primary-care", [ANN, CARA, EVE]),
    ("service", "cardiology", [ANN, BEN, DAN]),
    ("service", "imaging", [MRI, SCANNER]),
    ("service", "pediatrics", [CARA]),
    ("service", "dermatology", []),
    ("service", "imaging,pediatrics", [CARA, MRI, SCANNER]),
    # accepting-new-patients: false is no restriction
    ("accepting-new-patients", "true", [ANN, BEN, DAN, EVE, MRI, SCANNER]),
    ("accepting-new-patients", True, [ANN, BEN, DAN, EVE, MRI, SCANNER]),
    ("accepting-new-patients", "false", ALL_PROVIDERS),
    ("accepting-new-patients", False, ALL_PROVIDERS),
    # appointment-type: offered by an active schedule
    ("appointment-type", "physical", [ANN, EVE]),
    ("appointment-type", "new-patient", [ANN, CARA]),
    ("appointment-type", "follow-up", [ANN, BEN, CARA, DAN]),
    ("appointment-type", "mri", [MRI, SCANNER]),
    ("appointment-type", "checkup", [ANN]),
    ("appointment-type", "legacy", []),
    ("appointment-type", "new-patient,mri", [ANN, CARA, MRI, SCANNER]),
    # insurance: accepted by an active schedule
    ("insurance", "aetna", [ANN, BEN, EVE, MRI]),
    ("insurance", "cigna", [ANN, CARA, SCANNER]),
    ("insurance", "humana", [ANN]),
    ("insurance", "medicare", [DAN, MRI]),
    ("insurance", "humana,medicare", [ANN, DAN, MRI]),
    # hours-availability: weekly hours overlapping the band
    ("hours-availability", "morning", [ANN, BEN, MRI]),
    ("hours-availability", "afternoon", [ANN, CARA, MRI]),
    ("hours-availability", "evening", [DAN, MRI]),
    ("hours-availability", "Morning", [ANN, BEN, MRI]),
    ("hours-availability", "morning,evening", [ANN, BEN, DAN, MRI]),
]


@SPELLINGS
@pytest.mark.parametrize(
    ("name", "value", "expected"),
    SINGLE,
    ids=[f"{n}={v}" for n, v, _ in SINGLE],
)
def test_single_filter(client, search, spell, name, value, expected):
    assert provider_ids(client, search.read, spell({name: value})) == expected


def test_no_filter_lists_every_provider_by_name(client, search):
    doc = get_doc(client, search.read, {})
    assert [r["id"] for r in doc["data"]] == ALL_PROVIDERS
    assert doc["meta"]["record-count"] == 9
    assert all("meta" not in r for r in doc["data"])  # distance only with near


def test_language_filter_uses_lowercased_index_not_display_list(client, search):
    # The attribute keeps the display form; the filter matches case-insensitively.
    doc = get_doc(client, search.read, {"filter[language]": "fReNcH"})
    assert [r["id"] for r in doc["data"]] == [CARA]
    assert doc["data"][0]["attributes"]["languages"] == ["Spanish", "French"]


@pytest.mark.parametrize(
    ("params", "excluded"),
    [
        ({"filter[service]": "dermatology"}, [FAY]),  # only her inactive S10 offers it
        ({"filter[service]": "primary-care"}, [DAN, FAY]),  # S07 inactive
        ({"filter[appointment-type]": "physical"}, [FAY]),
        ({"filter[appointment-type]": "legacy"}, [DAN]),  # only the inactive S07
        ({"filter[insurance]": "aetna"}, [FAY]),
        ({"filter[insurance]": "humana"}, [DAN]),  # S07 inactive
        ({"filter[accepting-new-patients]": "true"}, [FAY]),
        ({"filter[hours-availability]": "morning"}, [DAN, FAY]),  # S07 06-10 is inactive
    ],
)
def test_inactive_schedules_never_make_a_provider_match(client, search, params, excluded):
    found = provider_ids(client, search.read, params)
    assert not set(found) & set(excluded)


# --- hours bands and their boundaries --------------------------------------------------------


def test_near_gives_no_distance_for_an_inactive_schedule(client, search):
    # Fay's only schedule (at the query point itself) is inactive: she is listed last, with no
    # distance, as are Gus (no schedule) and the Open Scanner (no coordinates).
    doc = get_doc(client, search.read, {"filter[near]": "[36.1,-86.1]"})
    tail = {r["id"]: r["meta"] for r in doc["data"][-3:]}
    assert tail == {FAY: {"distance": None}, GUS: {"distance": None}, SCANNER: {"distance": None}}


def _give_gus_hours(session_factory, opens: time, closes: time) -> None:  # type: ignore[no-untyped-def]
    """An active schedule for Gus (who has none) open Mondays ``opens``-``closes``."""
    with session_factory() as session, session.begin():
        gus = session.scalars(select(Provider).where(Provider.slug == GUS)).one()
        location = session.scalars(
            select(Location).where(
                Location.slug == "center", Location.health_system_pk == gus.health_system_pk
            )
        ).one()
        service = session.scalars(
            select(Service).where(
                Service.slug == "primary-care", Service.health_system_pk == gus.health_system_pk
            )
        ).one()
        schedule = Schedule(
            health_system_pk=gus.health_system_pk,
            slug="5e000000-0000-4000-8000-0000000000aa",
            name="Gus boundary",
            provider_pk=gus.pk,
            location_pk=location.pk,
            service_pk=service.pk,
            time_zone_name="America/Chicago",
            visit_settings={},
        )
        session.add(schedule)
        session.flush()
        session.add(ScheduleHours(schedule_pk=schedule.pk, weekday=0, opens=opens, closes=closes))


@pytest.mark.parametrize(
    ("opens", "closes", "bands"),
    [
        (time(11), time(12), {"morning"}),  # ends where afternoon starts: morning only
        (time(17), time(18), {"afternoon"}),  # ends where evening starts: afternoon only
        (time(12), time(13), {"afternoon"}),  # starts at noon: afternoon only
        (time(11, 59), time(12), {"morning"}),
        (time(11, 59), time(12, 1), {"morning", "afternoon"}),
        (time(17, 59), time(18, 1), {"afternoon", "evening"}),
        (time(18), time(23, 59), {"evening"}),
        (time(23), time(23, 59), {"evening"}),
        (time(4), time(5), set()),  # closes as the morning opens
        (time(0), time(4, 59), set()),
        (time(4, 30), time(5, 30), {"morning"}),
        (time(5), time(23, 59), {"morning", "afternoon", "evening"}),
    ],
)
def test_hours_band_boundaries(client, search, session_factory, opens, closes, bands):
    _give_gus_hours(session_factory, opens, closes)
    for band in ("morning", "afternoon", "evening"):
        found = provider_ids(client, search.read, {"filter[hours-availability]": band})
        assert (GUS in found) == (band in bands), (band, opens, closes)


# --- combinations ----------------------------------------------------------------------------

COMBOS: list[tuple[dict[str, Any], list[str]]] = [
    ({"gender": "female", "language": "spanish", "insurance": "aetna"}, [ANN]),
    ({"gender": "female", "language": "Spanish", "insurance": "cigna"}, [ANN, CARA]),
    ({"gender": "female", "language": "spanish", "insurance": "medicare"}, []),
    ({"hours-availability": "afternoon", "accepting-new-patients": "true"}, [ANN, MRI]),
    ({"hours-availability": "afternoon", "accepting-new-patients": "false"}, [ANN, CARA, MRI]),
    (
        {
            "hours-availability": "evening",
            "accepting-new-patients": "true",
            "provider-type": "practitioner",
        },
        [DAN],
    ),
    ({"service": "primary-care", "insurance": "cigna"}, [ANN, CARA]),
    ({"medical-group": "mg-b", "affiliation": "affiliated"}, [BEN, CARA]),
    (
        {
            "provider-type": "healthresource",
            "affiliation": "employed",
            "accepting-new-patients": True,
        },
        [MRI],
    ),
    ({"appointment-type": "follow-up", "gender": "male", "hours-availability": "evening"}, [DAN]),
    ({"gender": "male", "service": "imaging"}, []),
    ({"language": "english,french", "medical-group": "mg-b"}, [BEN, CARA, EVE]),
    ({"service": "cardiology,pediatrics", "gender": "female"}, [ANN, CARA]),
]


@SPELLINGS
@pytest.mark.parametrize(("filters", "expected"), COMBOS, ids=[str(i) for i in range(len(COMBOS))])
def test_filter_combinations(client, search, spell, filters, expected):
    assert provider_ids(client, search.read, spell(filters)) == expected


def test_both_spellings_in_one_request_combine(client, search):
    params = [("filter", '{"gender":"female"}'), ("filter[language]", "spanish")]
    assert provider_ids(client, search.read, params) == [ANN, CARA, FAY]


@SPELLINGS
def test_all_eleven_filters_at_once(client, search, spell):
    filters = {
        "gender": "female",
        "affiliation": "employed",
        "provider-type": "practitioner",
        "language": "english",
        "medical-group": "mg-a",
        "service": "primary-care",
        "accepting-new-patients": "true",
        "appointment-type": "physical",
        "insurance": "aetna",
        "hours-availability": "morning",
        "near": [36.1, -86.1],
    }
    doc = get_doc(client, search.read, spell(filters))
    assert [r["id"] for r in doc["data"]] == [ANN]
    [(_, miles)] = expected_near(P1, [ANN])
    assert doc["data"][0]["meta"] == {"distance": round(miles, 2)}


# --- near --------------------------------------------------------------------------------------


def _assert_not_on_rounding_edge(miles: float) -> None:
    # Keeps the rounded comparison meaningful across engines' float arithmetic.
    cents = miles * 100
    assert abs(cents - round(cents) - 0.5) > 1e-4 and abs(cents - round(cents) + 0.5) > 1e-4


def _near_values() -> list[tuple[str, list[tuple[str, str]]]]:
    return [
        ("bracket", [("filter[near]", "[36.1,-86.1]")]),
        ("bracket-spaces", [("filter[near]", "[ 36.1 , -86.1 ]")]),
        ("json-array", [("filter", '{"near":[36.1,-86.1]}')]),
        ("json-string", [("filter", '{"near":"[36.1,-86.1]"}')]),
    ]


@pytest.mark.parametrize(("spelling", "params"), _near_values(), ids=[s for s, _ in _near_values()])
def test_near_orders_by_nearest_active_schedule(client, search, spelling, params):
    doc = get_doc(client, search.read, params)
    expected = expected_near(P1, ALL_PROVIDERS)
    # Hand-checked: Ann and MRI tie at "center" (Ann first by name), Ben at "north", Cara and
    # Dan tie at "east" (Dan's nearer S07 at "center" is inactive), Eve at "far". Fay (only
    # an inactive schedule at the query point itself), Gus (no schedule) and the Open
    # Scanner (location without coordinates) have no distance: they come last, by name,
    # with a null distance (near orders, it never drops a provider).
    assert [p for p, _ in expected] == [ANN, MRI, BEN, CARA, DAN, EVE, FAY, GUS, SCANNER]
    assert [r["id"] for r in doc["data"]] == [p for p, _ in expected]
    assert doc["meta"]["record-count"] == 9
    assert [r["meta"] for r in doc["data"][6:]] == [{"distance": None}] * 3
    for resource, (_, miles) in zip(doc["data"][:6], expected[:6], strict=True):
        assert miles is not None
        _assert_not_on_rounding_edge(miles)
        assert resource["meta"] == {"distance": round(miles, 2)}
    assert doc["data"][0]["meta"]["distance"] == 8.89


@pytest.mark.parametrize(
    "point",
    [(40.0, -80.1), (36.16, -86.78), (36.6, -86.0), (35.0, -90.0), (-33.9, 151.2)],
)
def test_near_other_points(client, search, point):
    doc = get_doc(client, search.read, {"filter[near]": json.dumps(list(point))})
    expected = expected_near(point, ALL_PROVIDERS)
    assert [r["id"] for r in doc["data"]] == [p for p, _ in expected]
    for resource, (_, miles) in zip(doc["data"], expected, strict=True):
        if miles is None:  # no located active schedule: last, without a distance
            assert resource["meta"] == {"distance": None}
            continue
        _assert_not_on_rounding_edge(miles)
        assert resource["meta"]["distance"] == round(miles, 2)


def test_near_tie_is_broken_by_name(client, search):
    # From the "far" side Cara (S05 at far) and Eve (S08 at far) tie; Ann and Ben tie at north.
    doc = get_doc(client, search.read, {"filter[near]": "[40.0,-80.1]"})
    assert [r["id"] for r in doc["data"]] == [CARA, EVE, DAN, ANN, BEN, MRI, FAY, GUS, SCANNER]
    distances = [r["meta"]["distance"] for r in doc["data"]]
    assert distances[0] == distances[1] and distances[3] == distances[4]
    assert distances[:6] == sorted(distances[:6]) and distances[6:] == [None] * 3


def test_near_integer_coordinates(client, search):
    doc = get_doc(client, search.read, {"filter[near]": "[36,-86]"})
    assert [r["id"] for r in doc["data"]][:2] == [ANN, MRI]
    assert doc["data"][0]["meta"] == {"distance": 0.0}


def test_near_pages_concatenate_to_full_ordering(client, search):
    full = get_doc(client, search.read, {"filter[near]": "[36.1,-86.1]"})
    pages = []
    for number in (1, 2, 3, 4, 5):
        doc = get_doc(
            client,
            search.read,
            {"filter[near]": "[36.1,-86.1]", "page[size]": "2", "page[number]": str(number)},
        )
        assert doc["meta"]["record-count"] == 9  # the three without a distance come last
        assert len(doc["data"]) == (2 if number < 5 else 1)
        assert ("next" in doc["links"]) == (number < 5)
        assert ("prev" in doc["links"]) == (number > 1)
        pages.extend(doc["data"])
    assert [(r["id"], r["meta"]) for r in pages] == [(r["id"], r["meta"]) for r in full["data"]]
    # page links keep the near filter
    last = get_doc(client, search.read, {"filter[near]": "[36.1,-86.1]", "page[size]": "2"})
    assert "filter%5Bnear%5D" in last["links"]["last"] or "filter[near]" in last["links"]["last"]


def test_near_paging_with_sizes_3_to_5(client, search):
    expected = [p for p, _ in expected_near(P1, ALL_PROVIDERS)]
    for size in (3, 4, 5):
        seen: list[str] = []
        number = 1
        while True:
            doc = get_doc(
                client,
                search.read,
                {
                    "filter[near]": "[36.1,-86.1]",
                    "page[size]": str(size),
                    "page[number]": str(number),
                },
            )
            seen.extend(r["id"] for r in doc["data"])
            if "next" not in doc["links"]:
                break
            number += 1
        assert seen == expected, size


@SPELLINGS
def test_near_with_service(client, search, spell):
    doc = get_doc(client, search.read, spell({"near": [36.1, -86.1], "service": "primary-care"}))
    expected = expected_near(P1, [ANN, CARA, EVE])
    assert [r["id"] for r in doc["data"]] == [ANN, CARA, EVE]
    assert [r["meta"]["distance"] for r in doc["data"]] == [round(m, 2) for _, m in expected]
    assert doc["meta"]["record-count"] == 3


def test_near_with_hours_and_gender(client, search):
    doc = get_doc(
        client,
        search.read,
        {"filter[near]": "[36.1,-86.1]", "filter[hours-availability]": "evening"},
    )
    assert [r["id"] for r in doc["data"]][:2] == [MRI, DAN]
    doc = get_doc(client, search.read, {"filter[near]": "[36.1,-86.1]", "filter[gender]": "female"})
    # Fay (inactive only) comes last, without a distance.
    assert [r["id"] for r in doc["data"]] == [ANN, CARA, EVE, FAY]
    assert doc["data"][-1]["meta"] == {"distance": None}


def test_near_ignores_other_tenants_locations(client, search, keys):
    # Alpha (tests/support/seed.py) has an active schedule exactly at this point.
    doc = get_doc(client, search.read, {"filter[near]": "[36.16,-86.78]"})
    expected = expected_near((36.16, -86.78), ALL_PROVIDERS)
    assert [r["id"] for r in doc["data"]] == [p for p, _ in expected]
    assert doc["data"][0]["meta"]["distance"] > 40


def test_near_on_the_seed_tenant_uses_active_schedules_only(client, keys):
    # dr-jones's inactive S3 is at downtown (the query point); his active S2 is at uptown.
    response = client.get(
        f"/api/v3/alpha.example.com/providers?filter[near]=[36.16,-86.78]&api_key={keys.alpha_read}"
    )
    assert response.status_code == 200, response.text
    doc = response.json()
    assert [r["id"] for r in doc["data"]] == ["dr-smith", "dr-jones"]
    uptown = great_circle_miles((36.16, -86.78), (36.15, -86.80))
    assert doc["data"][0]["meta"] == {"distance": 0.0}
    assert doc["data"][1]["meta"] == {"distance": round(uptown, 2)}


# --- bad input: 400 naming the filter, never 500 -----------------------------------------------


def _only_400(response) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == JSONAPI
    errors = response.json()["errors"]
    assert len(errors) == 1, errors
    assert errors[0]["status"] == "400"
    return errors[0]


BAD_NEAR = [
    "[999,0]",
    "[0,999]",
    "[-90.5,0]",
    "[0,-180.5]",
    "notjson",
    "[1]",
    "[1,2,3]",
    '["a","b"]',
    '["36.1","-86.1"]',
    "[true,false]",
    "[null,null]",
    '{"lat":1,"lng":2}',
    "",
    "[NaN,0]",
    "[1e999,0]",
    "36.1,-86.1",
]


@pytest.mark.parametrize("raw", BAD_NEAR)
def test_bad_near_bracket(client, search, raw):
    err = _only_400(client.get(path("/providers", search.read, {"filter[near]": raw})))
    assert err["source"] == {"parameter": "filter[near]"}
    assert "near" in err["detail"]


BAD_NEAR_JSON = [
    [999, 0],
    "notjson",
    [1],
    ["a", "b"],
    [True, False],
    None,
    {"lat": 1, "lng": 2},
    "[999,0]",
    36.1,
]


@pytest.mark.parametrize("raw", BAD_NEAR_JSON, ids=[json.dumps(v) for v in BAD_NEAR_JSON])
def test_bad_near_json(client, search, raw):
    params = {"filter": json.dumps({"near": raw})}
    err = _only_400(client.get(path("/providers", search.read, params)))
    assert err["source"] == {"parameter": "filter"}
    assert "near" in err["detail"]


BAD_VALUES = [
    ("gender", "other"),
    ("gender", "f"),
    ("gender", ""),
    ("affiliation", "x"),
    ("provider-type", "robot"),
    ("provider-type", "health resource,practitioner"),
    ("hours-availability", "night"),
    ("hours-availability", "morning,night"),
    ("accepting-new-patients", "maybe"),
    ("insurance", "no-such-plan"),
    ("insurance", "aetna,no-such-plan"),
    ("service", "no-such-service"),
    ("service", "Primary Care"),  # providers take service ids only (schedules also take names)
    ("medical-group", "no-such-group"),
    ("appointment-type", "no-such-type"),
    ("service", ""),
    ("insurance", ",".join(["aetna"] * 101)),  # at most 100 values
]


@SPELLINGS
@pytest.mark.parametrize(
    ("name", "value"), BAD_VALUES, ids=[f"{n}={v[:20]}" for n, v in BAD_VALUES]
)
def test_bad_filter_value_is_400_naming_the_filter(client, search, spell, name, value):
    err = _only_400(client.get(path("/providers", search.read, spell({name: value}))))
    expected_parameter = "filter" if spell is as_json else f"filter[{name}]"
    assert err["source"] == {"parameter": expected_parameter}
    assert name in err["detail"]
    if name in ("insurance", "service", "medical-group", "appointment-type") and "," not in value:
        assert value in err["detail"]  # the unknown id is named


def test_unknown_id_in_a_list_is_named(client, search):
    err = _only_400(
        client.get(path("/providers", search.read, {"filter[insurance]": "aetna,nope-plan"}))
    )
    assert "nope-plan" in err["detail"]
    assert "aetna" not in err["detail"].replace("nope-plan", "")


@SPELLINGS
def test_unknown_filter_key_is_400(client, search, spell):
    err = _only_400(client.get(path("/providers", search.read, spell({"colour": "red"}))))
    assert err["source"]["parameter"] == ("filter" if spell is as_json else "filter[colour]")
    assert "colour" in err["detail"]


def test_retired_plan_offered_only_by_inactive_schedule(client, search):
    # The plan exists but no active schedule accepts it: an empty result or a 400 are both
    # defensible (the SPEC does not say); never a match, never a 500.
    response = client.get(path("/providers", search.read, {"filter[insurance]": "retired"}))
    assert response.status_code in (200, 400), response.text
    if response.status_code == 200:
        assert response.json()["data"] == []


def test_every_bad_filter_is_reported(client, search):
    # SPEC section 3: "every problem found, not just the first".
    response = client.get(
        path(
            "/providers",
            search.read,
            [("filter[gender]", "other"), ("filter[near]", "[999,0]"), ("filter[x]", "1")],
        )
    )
    assert response.status_code == 400
    params = sorted(e["source"]["parameter"] for e in response.json()["errors"])
    assert params == ["filter[gender]", "filter[near]", "filter[x]"]


def test_every_unknown_id_is_reported(client, search):
    response = client.get(
        path(
            "/providers",
            search.read,
            [("filter[service]", "nope-s"), ("filter[insurance]", "nope-i")],
        )
    )
    assert response.status_code == 400
    params = sorted(e["source"]["parameter"] for e in response.json()["errors"])
    assert params == ["filter[insurance]", "filter[service]"]


def test_bad_value_and_unknown_id_are_reported_together(client, search):
    # A syntactically bad value and an unknown id in the same request: both are problems
    # the server can find, so SPEC section 3 asks for both.
    response = client.get(
        path(
            "/providers",
            search.read,
            [("filter[gender]", "other"), ("filter[service]", "nope-s")],
        )
    )
    assert response.status_code == 400
    params = sorted(e["source"]["parameter"] for e in response.json()["errors"])
    assert params == ["filter[gender]", "filter[service]"]


def test_filter_json_must_be_an_object(client, search):
    for raw in ("[1,2]", "nope", '"gender"'):
        err = _only_400(client.get(path("/providers", search.read, {"filter": raw})))
        assert err["source"] == {"parameter": "filter"}
