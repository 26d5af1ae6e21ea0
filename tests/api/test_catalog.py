"""The catalog endpoints over HTTP, against the two-tenant seed (tests/support/seed.py)."""

from __future__ import annotations

import pytest

from tests.api.helpers import ALPHA_BASE, JSONAPI, ids, only_error, refs, url
from tests.support.seed import ALPHA_HOST, ALPHA_S1, ALPHA_S2, ALPHA_S3_INACTIVE, Keys

S1_URL = f"{ALPHA_BASE}/schedules/{ALPHA_S1}"


def get(client, keys: Keys, path: str, params=()):  # type: ignore[no-untyped-def]
    """GET an alpha path with alpha's read key; asserts a JSON:API 200 and returns the body."""
    response = client.get(url(path, keys.alpha_read, params=params))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == JSONAPI
    return response.json()


def get_status(client, keys: Keys, path: str, params=()) -> int:  # type: ignore[no-untyped-def]
    return client.get(url(path, keys.alpha_read, params=params)).status_code


# --- health-systems ------------------------------------------------------------------------


def test_health_systems_list(client, keys):
    doc = get(client, keys, "/health-systems")
    assert ids(doc) == ["alpha-health"]
    assert doc["meta"] == {"record-count": 1}
    [hs] = doc["data"]
    assert hs["type"] == "health-systems"
    assert hs["links"] == {"self": f"{ALPHA_BASE}/health-systems/alpha-health"}
    assert hs["attributes"] == {
        "name": "Alpha Health",
        "use-gtm-container": False,
        "disable-google-indexing": False,
        "gtm-container": None,
        "gtag-conversion-event-id": None,
        "gtag-id": None,
    }


def test_health_system_show(client, keys):
    doc = get(client, keys, "/health-systems/alpha-health")
    assert ids(doc) == "alpha-health"
    assert doc["links"] == {"self": f"{ALPHA_BASE}/health-systems/alpha-health"}
    assert doc["data"]["attributes"]["name"] == "Alpha Health"


def test_health_system_of_other_tenant_is_404(client, keys):
    err = only_error(client.get(url("/health-systems/beta-health", keys.alpha_read)), 404)
    assert err["code"] == "not-found"


# --- locations -----------------------------------------------------------------------------


def test_locations_list(client, keys):
    doc = get(client, keys, "/locations")
    assert ids(doc) == ["downtown", "uptown"]  # default order: name
    assert doc["meta"] == {"record-count": 2}
    downtown = doc["data"][0]
    assert downtown["type"] == "locations"
    assert downtown["links"] == {"self": f"{ALPHA_BASE}/locations/downtown"}
    assert downtown["attributes"] == {
        "name": "Downtown Clinic",
        "facility-name": "Downtown Medical Plaza",
        "address": "1 Main St",
        "city": "Nashville",
        "state": "TN",
        "zip": "37201",
        "phone": "615-555-0100",
        "latitude": 36.16,
        "longitude": -86.78,
    }
    assert downtown["relationships"] == {
        "schedules": {
            "links": {
                "self": f"{ALPHA_BASE}/locations/downtown/relationships/schedules",
                "related": f"{ALPHA_BASE}/locations/downtown/schedules",
            }
        }
    }
    uptown = doc["data"][1]["attributes"]
    assert uptown["facility-name"] is None
    assert uptown["phone"] is None
    assert (uptown["latitude"], uptown["longitude"]) == (36.15, -86.8)


def test_location_show(client, keys):
    doc = get(client, keys, "/locations/uptown")
    assert ids(doc) == "uptown"
    assert doc["links"] == {"self": f"{ALPHA_BASE}/locations/uptown"}
    assert doc["data"]["attributes"]["name"] == "Uptown Clinic"
    assert "included" not in doc


@pytest.mark.parametrize(
    ("location", "expected"),
    [("downtown", [ALPHA_S1]), ("uptown", [ALPHA_S2])],  # the inactive S3 is at downtown
)
def test_location_schedules_are_active_schedules_only(client, keys, location, expected):
    doc = get(client, keys, f"/locations/{location}/schedules")
    assert ids(doc) == expected
    assert doc["meta"] == {"record-count": 1}
    assert all(r["type"] == "schedules" for r in doc["data"])
    link = f"{ALPHA_BASE}/locations/{location}/schedules"
    assert doc["links"]["first"].startswith(link + "?")


def test_location_schedules_include_and_page(client, keys):
    doc = get(
        client,
        keys,
        "/locations/downtown/schedules",
        {"include": "provider,location", "page[size]": "1"},
    )
    assert ids(doc) == [ALPHA_S1]
    assert sorted(refs(doc["included"])) == [("locations", "downtown"), ("providers", "dr-smith")]
    rels = doc["data"][0]["relationships"]
    assert rels["provider"]["data"] == {"type": "providers", "id": "dr-smith"}
    assert rels["location"]["data"] == {"type": "locations", "id": "downtown"}


def test_location_schedules_linkage(client, keys):
    doc = get(client, keys, "/locations/downtown/relationships/schedules")
    assert doc["data"] == [{"type": "schedules", "id": ALPHA_S1}]
    assert doc["links"] == {
        "self": f"{ALPHA_BASE}/locations/downtown/relationships/schedules",
        "related": f"{ALPHA_BASE}/locations/downtown/schedules",
    }


def test_location_schedules_of_unknown_location_is_404(client, keys):
    assert only_error(client.get(url("/locations/nowhere/schedules", keys.alpha_read)), 404)


# --- services / medical groups --------------------------------------------------------------


def test_services_list_and_show(client, keys):
    doc = get(client, keys, "/services")
    assert ids(doc) == ["cardiology", "primary-care"]
    assert [r["attributes"] for r in doc["data"]] == [
        {"name": "Cardiology"},
        {"name": "Primary Care"},
    ]
    assert doc["meta"] == {"record-count": 2}
    show = get(client, keys, "/services/primary-care")
    assert show["data"]["attributes"] == {"name": "Primary Care"}
    assert show["data"]["links"] == {"self": f"{ALPHA_BASE}/services/primary-care"}
    assert "relationships" not in show["data"]


def test_medical_groups_list_and_show(client, keys):
    doc = get(client, keys, "/medical-groups")
    assert ids(doc) == ["alpha-physicians"]
    assert doc["data"][0]["attributes"] == {"name": "Alpha Physicians"}
    show = get(client, keys, "/medical-groups/alpha-physicians")
    assert show["links"] == {"self": f"{ALPHA_BASE}/medical-groups/alpha-physicians"}
    assert get_status(client, keys, "/medical-groups/beta-group") == 404


# --- appointment types ---------------------------------------------------------------------


def test_appointment_types_list_default_order_is_priority(client, keys):
    doc = get(client, keys, "/appointment-types")
    assert ids(doc) == ["sick-visit", "annual-physical", "consult"]
    assert [r["attributes"] for r in doc["data"]] == [
        {"name": "Sick Visit", "priority": 1},
        {"name": "Annual Physical", "priority": 2},
        {"name": "Consult", "priority": 5},
    ]
    show = get(client, keys, "/appointment-types/consult")
    assert show["data"]["attributes"] == {"name": "Consult", "priority": 5}


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"filter[context]": "Patient"}, ["sick-visit", "annual-physical"]),
        ({"filter[context]": "patient"}, ["sick-visit", "annual-physical"]),
        ({"filter[context]": "Discharge"}, ["consult"]),
        ({"filter[context]": "Internal"}, []),
        ({"filter[context]": "Patient,Discharge"}, ["sick-visit", "annual-physical", "consult"]),
        ({"filter": '{"context":"Discharge"}'}, ["consult"]),
        (
            {"filter": '{"context":["Patient","Discharge"]}'},
            ["sick-visit", "annual-physical", "consult"],
        ),
    ],
)
def test_appointment_types_filter_context(client, keys, params, expected):
    doc = get(client, keys, "/appointment-types", params)
    assert ids(doc) == expected
    assert doc["meta"] == {"record-count": len(expected)}


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"filter[service]": "primary-care"}, ["sick-visit", "annual-physical"]),
        ({"filter[service]": "Primary Care"}, ["sick-visit", "annual-physical"]),
        ({"filter[service]": "primary care"}, ["sick-visit", "annual-physical"]),
        ({"filter[service]": "cardiology"}, ["consult"]),
        ({"filter[service]": "Cardiology"}, ["consult"]),
        (
            {"filter[service]": "cardiology,primary-care"},
            ["sick-visit", "annual-physical", "consult"],
        ),
        ({"filter": '{"service":"primary-care"}'}, ["sick-visit", "annual-physical"]),
        ({"filter": '{"service":"Primary Care"}'}, ["sick-visit", "annual-physical"]),
        ({"filter": '{"service":"cardiology"}'}, ["consult"]),
        ({"filter[service]": "primary-care", "filter[context]": "Discharge"}, []),
        ({"filter": '{"service":"cardiology","context":"Discharge"}'}, ["consult"]),
    ],
)
def test_appointment_types_filter_service(client, keys, params, expected):
    doc = get(client, keys, "/appointment-types", params)
    assert ids(doc) == expected
    assert doc["meta"] == {"record-count": len(expected)}


def test_appointment_types_filter_bad_context_is_400(client, keys):
    response = client.get(
        url("/appointment-types", keys.alpha_read, params={"filter[context]": "Bogus"})
    )
    err = only_error(response, 400)
    assert err["code"] == "invalid-filter-value"
    assert err["source"] == {"parameter": "filter[context]"}


def test_appointment_types_filter_unknown_service_is_400(client, keys):
    response = client.get(
        url("/appointment-types", keys.alpha_read, params={"filter[service]": "dentistry"})
    )
    err = only_error(response, 400)
    assert err["code"] == "invalid-filter-value"
    assert err["source"] == {"parameter": "filter[service]"}
    assert "dentistry" in err["detail"]


def test_appointment_types_filter_unknown_service_json_spelling_names_filter(client, keys):
    """With the JSON spelling the offending query parameter is `filter`."""
    params = {"filter": '{"service":"dentistry"}'}
    err = only_error(client.get(url("/appointment-types", keys.alpha_read, params=params)), 400)
    assert err["code"] == "invalid-filter-value"
    assert err["source"] == {"parameter": "filter"}


# --- insurance plans -----------------------------------------------------------------------


def test_insurance_plans_only_those_accepted_by_an_active_schedule(client, keys):
    doc = get(client, keys, "/insurance-plans")
    assert ids(doc) == ["aetna-ppo", "cigna-hmo"]  # not unused-plan (only the inactive S3)
    assert doc["meta"] == {"record-count": 2}
    assert [r["attributes"] for r in doc["data"]] == [
        {"company": "Aetna", "name": "PPO"},
        {"company": "Cigna", "name": "HMO"},
    ]
    assert doc["data"][0]["links"] == {"self": f"{ALPHA_BASE}/insurance-plans/aetna-ppo"}


def test_insurance_plan_show(client, keys):
    doc = get(client, keys, "/insurance-plans/cigna-hmo")
    assert doc["data"]["attributes"] == {"company": "Cigna", "name": "HMO"}
    assert get_status(client, keys, "/insurance-plans/unused-plan") == 404
    assert get_status(client, keys, "/insurance-plans/beta-plan") == 404


# --- schedules -----------------------------------------------------------------------------

SCHEDULE_ATTRIBUTES = {
    "name",
    "schedule-type",
    "service",
    "sort-order",
    "time-zone-name",
    "hours",
    "age-limit-direction",
    "age-limit-threshold",
    "accepting-new-patients",
    "context",
}


def test_schedules_list(client, keys):
    doc = get(client, keys, "/schedules")
    assert ids(doc) == [ALPHA_S1, ALPHA_S2]  # default order: sort-order, name; S3 inactive
    assert doc["meta"] == {"record-count": 2}
    s1 = doc["data"][0]
    assert s1["links"] == {"self": S1_URL}
    attrs = s1["attributes"]
    assert {
        k: attrs.get(k)
        for k in (
            "name",
            "schedule-type",
            "service",
            "sort-order",
            "time-zone-name",
            "age-limit-direction",
            "age-limit-threshold",
            "accepting-new-patients",
            "context",
        )
    } == {
        "name": "Smith Primary Care",
        "schedule-type": "online",
        "service": "Primary Care",
        "sort-order": 1,
        "time-zone-name": "America/Chicago",
        "age-limit-direction": None,
        "age-limit-threshold": None,
        "accepting-new-patients": True,
        "context": "Patient",
    }
    s2 = doc["data"][1]["attributes"]
    assert (s2["name"], s2["service"], s2["context"], s2["sort-order"]) == (
        "Jones Cardiology",
        "Cardiology",
        "Discharge",
        2,
    )
    assert set(s1["relationships"]) == {
        "location",
        "provider",
        "service-resource",
        "insurance-plans",
        "appointment-types",
    }
    for name, rel in s1["relationships"].items():
        assert rel == {
            "links": {
                "self": f"{S1_URL}/relationships/{name}",
                "related": f"{S1_URL}/{name}",
            }
        }


def test_schedule_attributes_match_spec(client, keys):
    """SPEC §4 schedules: `hours` is a human summary of weekly hours, or null."""
    doc = get(client, keys, "/schedules")
    s1, s2 = doc["data"]
    assert set(s1["attributes"]) == SCHEDULE_ATTRIBUTES
    assert isinstance(s1["attributes"]["hours"], str) and s1["attributes"]["hours"]
    assert s2["attributes"]["hours"] is None  # S2 has no weekly hours


def test_schedule_show(client, keys):
    doc = get(client, keys, f"/schedules/{ALPHA_S2}")
    assert ids(doc) == ALPHA_S2
    assert doc["links"] == {"self": f"{ALPHA_BASE}/schedules/{ALPHA_S2}"}
    assert doc["data"]["attributes"]["name"] == "Jones Cardiology"


@pytest.mark.parametrize(
    "path",
    [
        f"/schedules/{ALPHA_S3_INACTIVE}",
        f"/schedules/{ALPHA_S3_INACTIVE}/location",
        f"/schedules/{ALPHA_S3_INACTIVE}/insurance-plans",
        f"/schedules/{ALPHA_S3_INACTIVE}/relationships/provider",
        "/schedules/00000000-0000-4000-8000-000000000000",
        "/schedules/not-a-uuid",
    ],
)
def test_inactive_or_unknown_schedule_is_404(client, keys, path):
    err = only_error(client.get(url(path, keys.alpha_read)), 404)
    assert err["code"] == "not-found"


# --- schedule related and relationship routes ----------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("location", ("locations", "downtown")),
        ("provider", ("providers", "dr-smith")),
        ("service-resource", ("services", "primary-care")),
    ],
)
def test_schedule_to_one_related(client, keys, name, expected):
    doc = get(client, keys, f"/schedules/{ALPHA_S1}/{name}")
    assert (doc["data"]["type"], doc["data"]["id"]) == expected
    assert doc["links"] == {"self": f"{S1_URL}/{name}"}
    assert doc["data"]["links"] == {"self": f"{ALPHA_BASE}/{expected[0]}/{expected[1]}"}
    assert "attributes" in doc["data"]


def test_schedule_related_location_attributes(client, keys):
    doc = get(client, keys, f"/schedules/{ALPHA_S2}/location")
    assert ids(doc) == "uptown"
    assert doc["data"]["attributes"]["name"] == "Uptown Clinic"


@pytest.mark.parametrize(
    ("schedule", "name", "expected"),
    [
        (ALPHA_S1, "insurance-plans", ["aetna-ppo", "cigna-hmo"]),
        (ALPHA_S2, "insurance-plans", ["aetna-ppo"]),
        (ALPHA_S1, "appointment-types", ["sick-visit", "annual-physical"]),
        (ALPHA_S2, "appointment-types", ["consult"]),
    ],
)
def test_schedule_to_many_related(client, keys, schedule, name, expected):
    doc = get(client, keys, f"/schedules/{schedule}/{name}")
    assert ids(doc) == expected
    assert all(r["type"] == name for r in doc["data"])
    assert doc["meta"] == {"record-count": len(expected)}
    assert doc["links"]["first"].startswith(f"{ALPHA_BASE}/schedules/{schedule}/{name}?")


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("location", {"type": "locations", "id": "downtown"}),
        ("provider", {"type": "providers", "id": "dr-smith"}),
        ("service-resource", {"type": "services", "id": "primary-care"}),
        (
            "insurance-plans",
            [
                {"type": "insurance-plans", "id": "aetna-ppo"},
                {"type": "insurance-plans", "id": "cigna-hmo"},
            ],
        ),
        (
            "appointment-types",
            [
                {"type": "appointment-types", "id": "sick-visit"},
                {"type": "appointment-types", "id": "annual-physical"},
            ],
        ),
    ],
)
def test_schedule_relationship_linkage(client, keys, name, expected):
    doc = get(client, keys, f"/schedules/{ALPHA_S1}/relationships/{name}")
    assert doc["data"] == expected
    assert doc["links"] == {
        "self": f"{S1_URL}/relationships/{name}",
        "related": f"{S1_URL}/{name}",
    }
    assert "included" not in doc


@pytest.mark.parametrize(
    "path",
    [
        f"/schedules/{ALPHA_S1}/insurance_plans",
        f"/schedules/{ALPHA_S1}/appointment_types",
        f"/schedules/{ALPHA_S1}/relationships/insurance_plans",
    ],
)
def test_schedule_related_underscore_spelling(client, keys, path):
    doc = get(client, keys, path)
    assert {r["type"] for r in doc["data"]} <= {"insurance-plans", "appointment-types"}
    assert len(doc["data"]) == 2


@pytest.mark.parametrize(
    "path",
    [
        f"/schedules/{ALPHA_S1}/nope",
        f"/schedules/{ALPHA_S1}/relationships/nope",
        f"/schedules/{ALPHA_S1}/relationships",
        "/services/primary-care/schedules",  # services declare no relationships
    ],
)
def test_unknown_relationship_is_404(client, keys, path):
    err = only_error(client.get(url(path, keys.alpha_read)), 404)
    assert err["code"] == "not-found"


# --- providers -----------------------------------------------------------------------------


def test_providers_list(client, keys):
    doc = get(client, keys, "/providers")
    assert ids(doc) == ["dr-jones", "dr-smith"]  # default order: name (Bob Jones, Jane Smith)
    assert doc["meta"] == {"record-count": 2}
    smith = doc["data"][1]
    assert smith["links"] == {"self": f"{ALPHA_BASE}/providers/dr-smith"}
    attrs = smith["attributes"]
    assert {
        k: attrs[k]
        for k in ("name", "gender", "affiliation", "provider-type", "languages", "suffix", "bio")
    } == {
        "name": "Jane Smith",
        "gender": "f",
        "affiliation": "employed",
        "provider-type": "Practitioner",
        "languages": ["English", "Spanish"],
        "suffix": None,
        "bio": None,
    }
    assert attrs["backgrounds"] == [] and attrs["subspecialties"] == []
    assert set(smith["relationships"]) == {"schedules", "medical-group-resources"}


def test_provider_attributes_match_spec(client, keys):
    """SPEC §4 providers: appointment-types and medical-groups as lists of {id, name}."""
    doc = get(client, keys, "/providers")
    jones, smith = doc["data"]
    assert set(smith["attributes"]) == {
        "name",
        "suffix",
        "gender",
        "affiliation",
        "provider-type",
        "bio",
        "credentials",
        "card-image",
        "profile-image",
        "grad-school",
        "undergrad-school",
        "backgrounds",
        "subspecialties",
        "languages",
        "appointment-types",
        "medical-groups",
    }
    by_id = sorted(smith["attributes"]["appointment-types"], key=lambda t: t["id"])
    assert by_id == [
        {"id": "annual-physical", "name": "Annual Physical"},
        {"id": "sick-visit", "name": "Sick Visit"},
    ]
    assert smith["attributes"]["medical-groups"] == [
        {"id": "alpha-physicians", "name": "Alpha Physicians"}
    ]
    # Jones's inactive S3 offers annual-physical; only his active S2 counts.
    assert jones["attributes"]["appointment-types"] == [{"id": "consult", "name": "Consult"}]
    assert jones["attributes"]["medical-groups"] == []


def test_provider_show(client, keys):
    doc = get(client, keys, "/providers/dr-jones")
    assert ids(doc) == "dr-jones"
    assert doc["links"] == {"self": f"{ALPHA_BASE}/providers/dr-jones"}
    assert doc["data"]["attributes"]["gender"] == "m"
    assert get_status(client, keys, "/providers/dr-beta") == 404


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/providers/dr-jones/schedules", [ALPHA_S2]),  # S3 is inactive
        ("/providers/dr-smith/schedules", [ALPHA_S1]),
        ("/providers/dr-smith/medical-group-resources", ["alpha-physicians"]),
        ("/providers/dr-jones/medical-group-resources", []),
        # The former name (shared with the attribute) still answers, as an alias.
        ("/providers/dr-smith/medical-groups", ["alpha-physicians"]),
        ("/providers/dr-smith/medical_groups", ["alpha-physicians"]),
    ],
)
def test_provider_related_collections(client, keys, path, expected):
    doc = get(client, keys, path)
    assert ids(doc) == expected
    assert doc["meta"] == {"record-count": len(expected)}


def test_provider_relationship_linkage(client, keys):
    doc = get(client, keys, "/providers/dr-jones/relationships/schedules")
    assert doc["data"] == [{"type": "schedules", "id": ALPHA_S2}]
    doc = get(client, keys, "/providers/dr-jones/relationships/medical-group-resources")
    assert doc["data"] == []
    assert doc["links"] == {
        "self": f"{ALPHA_BASE}/providers/dr-jones/relationships/medical-group-resources",
        "related": f"{ALPHA_BASE}/providers/dr-jones/medical-group-resources",
    }
    # The former name answers with the new links.
    alias = get(client, keys, "/providers/dr-jones/relationships/medical-groups")
    assert alias == doc


# --- every list has its show route ---------------------------------------------------------


@pytest.mark.parametrize(
    "type_",
    [
        "health-systems",
        "locations",
        "services",
        "medical-groups",
        "appointment-types",
        "insurance-plans",
        "providers",
        "schedules",
    ],
)
def test_every_listed_resource_shows_itself(client, keys, type_):
    listing = get(client, keys, f"/{type_}")
    assert listing["data"], type_
    for resource in listing["data"]:
        assert resource["type"] == type_
        shown = client.get(resource["links"]["self"], headers={"X-Api-Key": keys.alpha_read})
        assert shown.status_code == 200
        assert shown.json()["data"] == resource


def test_host_is_in_every_self_link(client, keys):
    doc = get(client, keys, "/schedules", {"include": "location,provider,service"})
    for resource in doc["data"] + doc["included"]:
        assert resource["links"]["self"].startswith(f"http://testserver/api/v3/{ALPHA_HOST}/")
