"""Concrete searches on the Winter Health demo bundle (src/inquicker/bundle/data).

Expected ids are read off the bundle JSON by hand; the insurance cross-check derives each
schedule's effective plans from the bundle's acceptance hierarchy independently of the
importer (schedule, else location, else region, else health system).
"""

from __future__ import annotations

import json
import math
from importlib.resources import files
from typing import Any
from urllib.parse import urlencode

import pytest
from sqlalchemy.orm import Session, sessionmaker

from inquicker.bundle.demo import load_demo
from inquicker.tenancy.keys import create_key

HOST = "winter-health.inquicker.com"
NASHVILLE = (36.16, -86.78)
BUNDLE: dict[str, Any] = json.loads(
    files("inquicker.bundle").joinpath("data", "winter-health.json").read_text()
)
NAMES = {p["id"]: p["name"] for p in BUNDLE["providers"]}

# schedules referred to below
DAVID_CHEN_FM = "08de6e10-a6d7-5ebb-9785-f3386490f2a1"  # schedule-level: cigna only
MARCUS_FRANKLIN_FM = "b7c07a7e-95ff-5a1f-854e-34358acfb1e6"  # location franklin: aetna-hmo
PRIYA_COOKEVILLE_PC = "5d67cc0c-8d25-56a3-9fe1-b22bdbd24f42"  # location cookeville: none
ELENA_PC = "f494177e-8513-5afb-8901-a50ff3fffa04"  # region east-tennessee primary care
KNOX_MRI = "654d60e9-0b2b-538c-960f-0036367dbf6f"  # schedule-level: aetna-ppo, uhc
DISCHARGE = "4e2bbea1-ded6-5b20-b8d6-bb174df19d3c"
INTERNAL = "7429111e-2c13-5cdb-beab-568f8162c9a7"


@pytest.fixture
def demo(session_factory: sessionmaker[Session]) -> str:
    with session_factory() as session, session.begin():
        load_demo(session)
        return create_key(session, HOST, "t", ("read",)).secret


def get_doc(client, key: str, p: str, params: Any = ()) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    pairs = list(params.items()) if isinstance(params, dict) else list(params)
    pairs += [("page[size]", "100"), ("api_key", key)]
    response = client.get(f"/api/v3/{HOST}{p}?{urlencode(pairs)}")
    assert response.status_code == 200, response.text
    doc: dict[str, Any] = response.json()
    if isinstance(doc["data"], list):
        assert doc["meta"]["record-count"] == len(doc["data"])
    return doc


def ids(client, key: str, p: str, params: Any = ()) -> list[str]:  # type: ignore[no-untyped-def]
    return [r["id"] for r in get_doc(client, key, p, params)["data"]]


def by_name(providers: set[str]) -> list[str]:
    return sorted(providers, key=lambda p: NAMES[p])


# --- independent derivations from the bundle ---------------------------------------------------


def effective_plans(schedule: dict[str, Any]) -> list[str]:
    region = {loc["id"]: loc["region"] for loc in BUNDLE["locations"]}[schedule["location"]]
    said = {
        (a["level"], a["scope"], a["service"]): a["plans"] for a in BUNDLE["insurance_acceptance"]
    }
    for key in (
        ("schedule", schedule["id"], schedule["service"]),
        ("location", schedule["location"], schedule["service"]),
        ("region", region, schedule["service"]),
        ("health-system", None, schedule["service"]),
    ):
        if key in said:
            return list(said[key])
    return []


def miles(a: tuple[float, float], b: tuple[float, float]) -> float:
    p1, p2 = math.radians(a[0]), math.radians(b[0])
    dp, dl = p2 - p1, math.radians(b[1] - a[1])
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 3958.7613 * math.asin(math.sqrt(h))


def near_order(
    point: tuple[float, float], providers: set[str] | None = None
) -> list[tuple[str, float]]:
    coords = {loc["id"]: (loc["latitude"], loc["longitude"]) for loc in BUNDLE["locations"]}
    best: dict[str, float] = {}
    for s in BUNDLE["schedules"]:
        if not s["active"] or (providers is not None and s["provider"] not in providers):
            continue
        d = miles(point, coords[s["location"]])
        best[s["provider"]] = min(d, best.get(s["provider"], math.inf))
    return sorted(best.items(), key=lambda pd: (pd[1], NAMES[pd[0]]))


# --- provider searches ---------------------------------------------------------------------


def test_spanish_speakers(client, demo):
    expected = ["dr-elena-garcia", "dr-jane-smith", "dr-laura-martinez"]
    assert ids(client, demo, "/providers", {"filter[language]": "Spanish"}) == expected
    assert ids(client, demo, "/providers", {"filter": '{"language":"spanish"}'}) == expected


def test_female_and_employed(client, demo):
    expected = [
        "dr-aisha-rahman",
        "dr-grace-kim",
        "dr-jane-smith",
        "dr-priya-patel",
        "sarah-thompson-fnp",
    ]
    params = {"filter[gender]": "female", "filter[affiliation]": "employed"}
    assert ids(client, demo, "/providers", params) == expected
    assert (
        ids(client, demo, "/providers", {"filter": '{"gender":"female","affiliation":"employed"}'})
        == expected
    )


def test_health_resources(client, demo):
    params = {"filter[provider-type]": "healthresource"}
    assert ids(client, demo, "/providers", params) == ["knoxville-open-mri", "nashville-mri"]


def test_evening_hours(client, demo):
    # 17-20 (Sarah Thompson, Internal), 07-19 (Knoxville MRI), 06-22 (Nashville MRI);
    # Grace Kim 10-18 and Elena Garcia 13-18 end exactly when the evening starts.
    params = {"filter[hours-availability]": "evening"}
    assert ids(client, demo, "/providers", params) == [
        "knoxville-open-mri",
        "nashville-mri",
        "sarah-thompson-fnp",
    ]


def test_accepting_new_patients(client, demo):
    # Only James O'Connor has no active schedule accepting new patients.
    expected = by_name(set(NAMES) - {"dr-james-oconnor"})
    assert ids(client, demo, "/providers", {"filter[accepting-new-patients]": "true"}) == expected
    everyone = by_name(set(NAMES))
    assert ids(client, demo, "/providers", {"filter[accepting-new-patients]": "false"}) == everyone


def test_medical_group_and_appointment_type(client, demo):
    assert ids(client, demo, "/providers", {"filter[medical-group]": "cumberland-physicians"}) == [
        "dr-robert-williams",
        "dr-thomas-anderson",
    ]
    assert ids(client, demo, "/providers", {"filter[appointment-type]": "well-child"}) == [
        "dr-laura-martinez",
        "dr-thomas-anderson",
    ]
    params = {"filter[service]": "pediatrics", "filter[language]": "german"}
    assert ids(client, demo, "/providers", params) == ["dr-thomas-anderson"]


# --- insurance through each acceptance level -------------------------------------------------


def test_insurance_schedule_level(client, demo):
    cigna = ids(client, demo, "/providers", {"filter[insurance]": "cigna-open-access"})
    # David Chen takes Cigna only through his schedule-level list (his primary-care schedule
    # follows the east-tennessee region list, which has no Cigna) ...
    assert "dr-david-chen" in cigna
    # ... and the Knoxville MRI's schedule-level list drops the health system's Cigna.
    assert "knoxville-open-mri" not in cigna
    assert "nashville-mri" in cigna
    params = {"filter[insurance]": "cigna-open-access", "filter[provider]": "dr-david-chen"}
    assert ids(client, demo, "/schedules", params) == [DAVID_CHEN_FM]
    plans = ids(client, demo, f"/schedules/{KNOX_MRI}/insurance-plans")
    assert sorted(plans) == ["aetna-ppo", "unitedhealthcare-choice-plus"]


def test_insurance_location_level(client, demo):
    # aetna-hmo is a women's-health plan at health-system level; Franklin's family-medicine
    # location list adds it for Marcus Johnson.
    assert ids(client, demo, "/providers", {"filter[insurance]": "aetna-hmo"}) == [
        "dr-aisha-rahman",
        "dr-elena-garcia",
        "dr-marcus-johnson",
        "dr-priya-patel",
    ]
    params = {"filter[insurance]": "aetna-hmo", "filter[service]": "family-medicine"}
    assert ids(client, demo, "/schedules", params) == [MARCUS_FRANKLIN_FM]
    # Cookeville's primary-care list is empty: that schedule accepts nothing.
    assert ids(client, demo, f"/schedules/{PRIYA_COOKEVILLE_PC}/insurance-plans") == []


def test_insurance_region_level(client, demo):
    params = {
        "filter[insurance]": "humana-medicare-advantage",
        "filter[provider]": "dr-elena-garcia",
    }
    assert ids(client, demo, "/schedules", params) == [ELENA_PC]
    # Laura Martinez (east-tennessee pediatrics: bcbst-network-p, tenncare only) takes no Aetna.
    assert "dr-laura-martinez" not in ids(
        client, demo, "/providers", {"filter[insurance]": "aetna-ppo"}
    )
    assert "dr-laura-martinez" in ids(
        client, demo, "/providers", {"filter[insurance]": "tenncare-bluecare"}
    )


def test_insurance_health_system_level(client, demo):
    assert ids(client, demo, "/providers", {"filter[insurance]": "tenncare-bluecare"}) == [
        "dr-david-chen",
        "dr-elena-garcia",
        "dr-grace-kim",
        "dr-james-oconnor",
        "dr-laura-martinez",
        "dr-marcus-johnson",
        "dr-michael-nguyen",
        "dr-robert-williams",
        "dr-thomas-anderson",
    ]


@pytest.mark.parametrize("plan", [p["id"] for p in BUNDLE["insurance_plans"]])
def test_insurance_matches_independent_hierarchy(client, demo, plan):
    expected = by_name(
        {s["provider"] for s in BUNDLE["schedules"] if s["active"] and plan in effective_plans(s)}
    )
    assert ids(client, demo, "/providers", {"filter[insurance]": plan}) == expected
    schedules = {s["id"] for s in BUNDLE["schedules"] if s["active"] and plan in effective_plans(s)}
    assert set(ids(client, demo, "/schedules", {"filter[insurance]": plan})) == schedules


# --- near and schedules --------------------------------------------------------------------------


def test_near_nashville(client, demo):
    doc = get_doc(client, demo, "/providers", {"filter[near]": json.dumps(list(NASHVILLE))})
    expected = near_order(NASHVILLE)
    assert [r["id"] for r in doc["data"]] == [p for p, _ in expected]
    assert [r["meta"]["distance"] for r in doc["data"]] == [round(d, 2) for _, d in expected]
    # Robert Williams's inactive schedule is in Nashville; his active one is in Cookeville.
    robert = next(r for r in doc["data"] if r["id"] == "dr-robert-williams")
    assert robert["meta"]["distance"] == round(miles(NASHVILLE, (36.1684, -85.5072)), 2)


def test_near_with_service(client, demo):
    doc = get_doc(
        client,
        demo,
        "/providers",
        {"filter[near]": "[36.16,-86.78]", "filter[service]": "pediatrics"},
    )
    assert [r["id"] for r in doc["data"]] == ["dr-thomas-anderson", "dr-laura-martinez"]
    expected = near_order(NASHVILLE, {"dr-thomas-anderson", "dr-laura-martinez"})
    assert [r["meta"]["distance"] for r in doc["data"]] == [round(d, 2) for _, d in expected]


def test_schedule_contexts(client, demo):
    assert ids(client, demo, "/schedules", {"filter[context]": "Discharge"}) == [DISCHARGE]
    assert ids(client, demo, "/schedules", {"filter[context]": "Internal"}) == [INTERNAL]
    active = {s["id"] for s in BUNDLE["schedules"] if s["active"]}
    patient = {s["id"] for s in BUNDLE["schedules"] if s["active"] and s["context"] == "Patient"}
    assert set(ids(client, demo, "/schedules")) == active
    assert set(ids(client, demo, "/schedules", {"filter[context]": "Patient"})) == patient


def test_schedules_by_service_name_and_location(client, demo):
    expected = {
        s["id"] for s in BUNDLE["schedules"] if s["active"] and s["service"] == "womens-health"
    }
    assert set(ids(client, demo, "/schedules", {"filter[service]": "Women's Health"})) == expected
    franklin = {
        s["id"] for s in BUNDLE["schedules"] if s["active"] and s["location"] == "franklin-clinic"
    }
    assert set(ids(client, demo, "/locations/franklin-clinic/schedules")) == franklin
    assert set(ids(client, demo, "/schedules", {"filter[location]": "franklin-clinic"})) == franklin


def test_demo_hours_summary(client, demo):
    doc = get_doc(client, demo, "/schedules/4a8cf484-65e5-531d-95cf-160e7cfbc746")
    assert doc["data"]["attributes"]["hours"] == "Mon–Fri 8:00 AM–12:00 PM, 1:00 PM–5:00 PM"
    doc = get_doc(client, demo, "/schedules/e5026ae9-1d22-5e57-96a2-a556cdde29af")
    assert doc["data"]["attributes"]["hours"] == "Mon–Fri 6:00 AM–10:00 PM; Sat–Sun 8:00 AM–4:00 PM"
