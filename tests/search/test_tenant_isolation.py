"""Tenant isolation of the search surface, with the two tenants of tests/support/seed.py.

Beta's key never reads alpha's providers, schedules or locations, and alpha's ids used as
filter values are unknown ids to beta (400 naming the filter), even where ids coincide
(both tenants have a service `primary-care`, which resolves to beta's own).
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

import pytest

from tests.search.fixture import great_circle_miles
from tests.support.seed import ALPHA_S1, ALPHA_S2, ALPHA_S3_INACTIVE, BETA_HOST, BETA_S1

# Strings that only alpha's data contains (names, not ids: a 404 may echo the requested id).
ALPHA_ONLY = (
    "Jane Smith",
    "Bob Jones",
    "Downtown",
    "Uptown",
    "Alpha Physicians",
    "Annual Physical",
    "Aetna",
    "Cigna",
    "Cardiology",
    "Smith Primary Care",
    "alpha.example.com",
    "Alpha Health",
)


def beta(p: str, key: str, params: Any = ()) -> str:
    pairs = list(params.items()) if isinstance(params, dict) else list(params)
    return f"/api/v3/{BETA_HOST}{p}?{urlencode([*pairs, ('api_key', key)])}"


def assert_no_alpha_data(text: str) -> None:
    leaked = [s for s in ALPHA_ONLY if s in text]
    assert not leaked, (leaked, text)


@pytest.mark.parametrize(
    "p",
    [
        "/providers/dr-smith",
        "/providers/dr-jones",
        "/providers/dr-smith/schedules",
        "/providers/dr-smith/medical-groups",
        "/providers/dr-smith/relationships/schedules",
        f"/schedules/{ALPHA_S1}",
        f"/schedules/{ALPHA_S2}",
        f"/schedules/{ALPHA_S3_INACTIVE}",
        f"/schedules/{ALPHA_S1}/provider",
        f"/schedules/{ALPHA_S1}/location",
        f"/schedules/{ALPHA_S1}/insurance-plans",
        f"/schedules/{ALPHA_S1}/appointment-types",
        f"/schedules/{ALPHA_S1}/relationships/provider",
        "/locations/downtown",
        "/locations/downtown/schedules",
        "/medical-groups/alpha-physicians",
        "/insurance-plans/aetna-ppo",
        "/appointment-types/sick-visit",
        "/services/cardiology",
    ],
)
def test_alpha_ids_are_404_for_beta(client, keys, p):
    response = client.get(beta(p, keys.beta_read))
    assert response.status_code == 404, response.text
    assert_no_alpha_data(response.text)


@pytest.mark.parametrize(
    ("p", "name", "value"),
    [
        ("/providers", "service", "cardiology"),
        ("/providers", "insurance", "aetna-ppo"),
        ("/providers", "insurance", "cigna-hmo"),
        ("/providers", "medical-group", "alpha-physicians"),
        ("/providers", "appointment-type", "sick-visit"),
        ("/schedules", "location", "downtown"),
        ("/schedules", "provider", "dr-smith"),
        ("/schedules", "service", "cardiology"),
        ("/schedules", "service", "Cardiology"),  # alpha's service name
        ("/schedules", "insurance", "aetna-ppo"),
        ("/schedules", "appointment-type", "annual-physical"),
        ("/locations/beta-clinic/schedules", "provider", "dr-jones"),
        ("/appointment-types", "service", "cardiology"),
    ],
)
@pytest.mark.parametrize("spelling", ["bracket", "json"])
def test_alpha_ids_as_filter_values_are_400_for_beta(client, keys, p, name, value, spelling):
    params = (
        {f"filter[{name}]": value}
        if spelling == "bracket"
        else {"filter": json.dumps({name: value})}
    )
    response = client.get(beta(p, keys.beta_read, params))
    assert response.status_code == 400, response.text
    [error] = response.json()["errors"]
    expected = f"filter[{name}]" if spelling == "bracket" else "filter"
    assert error["source"] == {"parameter": expected}
    assert_no_alpha_data(response.text.replace(value, ""))  # the echoed value aside


def _ids(client, key: str, p: str, params: Any = ()) -> list[str]:  # type: ignore[no-untyped-def]
    response = client.get(beta(p, key, params))
    assert response.status_code == 200, response.text
    assert_no_alpha_data(response.text)
    return [r["id"] for r in response.json()["data"]]


@pytest.mark.parametrize(
    ("p", "params", "expected"),
    [
        ("/providers", {}, ["dr-beta"]),
        ("/providers", {"filter[service]": "primary-care"}, ["dr-beta"]),  # beta's own
        ("/providers", {"filter[gender]": "female"}, ["dr-beta"]),
        ("/providers", {"filter[affiliation]": "employed"}, ["dr-beta"]),
        ("/providers", {"filter[language]": "spanish"}, []),  # alpha's Jane Smith speaks it
        ("/providers", {"filter[accepting-new-patients]": "true"}, ["dr-beta"]),
        ("/providers", {"filter[hours-availability]": "morning"}, []),  # alpha's S1 has hours
        ("/providers", {"include": "schedules,medical-groups"}, ["dr-beta"]),
        ("/schedules", {}, [BETA_S1]),
        ("/schedules", {"filter[service]": "primary-care"}, [BETA_S1]),
        ("/schedules", {"filter[service]": "Primary Care"}, [BETA_S1]),
        ("/schedules", {"filter[provider-type]": "practitioner"}, [BETA_S1]),
        ("/schedules", {"filter[context]": "Discharge"}, []),  # alpha's S2 is Discharge
        ("/schedules", {"include": "location,provider,insurance-plans"}, [BETA_S1]),
        ("/locations", {"include": "schedules.provider"}, ["beta-clinic"]),
        ("/insurance-plans", {}, ["beta-plan"]),
    ],
)
def test_beta_sees_only_beta(client, keys, p, params, expected):
    assert _ids(client, keys.beta_read, p, params) == expected


def test_beta_near_ignores_alpha_locations(client, keys):
    # The query point is alpha's downtown clinic, where alpha has an active schedule.
    response = client.get(beta("/providers", keys.beta_read, {"filter[near]": "[36.16,-86.78]"}))
    assert response.status_code == 200
    assert_no_alpha_data(response.text)
    [provider] = response.json()["data"]
    assert provider["id"] == "dr-beta"
    expected = great_circle_miles((36.16, -86.78), (30.27, -97.74))
    assert provider["meta"] == {"distance": round(expected, 2)}


def test_alpha_key_is_refused_on_beta_host(client, keys):
    response = client.get(beta("/providers", keys.alpha_read, {"filter[service]": "cardiology"}))
    assert response.status_code == 401
    assert_no_alpha_data(response.text)
