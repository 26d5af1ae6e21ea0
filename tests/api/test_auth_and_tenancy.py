"""API keys and tenant isolation (SPEC §2): every spelling, no oracle, no cross-tenant data."""

from __future__ import annotations

import pytest

from inquicker.tenancy.keys import create_key, revoke_key
from tests.api.helpers import ALPHA_BASE, BETA_BASE, ids, only_error, url
from tests.support.routes import concrete, keyed_reads, required_query, resource_id_routes
from tests.support.seed import ALPHA_HOST, ALPHA_S1, ALPHA_S2, BETA_HOST, BETA_S1

SCHEDULE_RELS = ("location", "provider", "service", "insurance-plans", "appointment-types")

ALPHA_LISTS = [
    "/health-systems",
    "/locations",
    "/services",
    "/medical-groups",
    "/appointment-types",
    "/insurance-plans",
    "/providers",
    "/schedules",
]

# Routes that name alpha-only ids (`primary-care` is shared by both tenants, so not here).
ALPHA_ID_ROUTES = [
    "/health-systems/alpha-health",
    "/locations/downtown",
    "/locations/uptown",
    "/locations/downtown/schedules",
    "/locations/downtown/relationships/schedules",
    "/services/cardiology",
    "/medical-groups/alpha-physicians",
    "/appointment-types/consult",
    "/appointment-types/annual-physical",
    "/appointment_types/sick-visit",
    "/insurance-plans/aetna-ppo",
    "/insurance_plans/cigna-hmo",
    "/providers/dr-smith",
    "/providers/dr-smith/schedules",
    "/providers/dr-smith/medical-groups",
    "/providers/dr-smith/relationships/schedules",
    "/providers/dr-smith/relationships/medical-groups",
    f"/schedules/{ALPHA_S1}",
    f"/schedules/{ALPHA_S2}",
    *(f"/schedules/{ALPHA_S1}/{rel}" for rel in SCHEDULE_RELS),
    *(f"/schedules/{ALPHA_S1}/relationships/{rel}" for rel in SCHEDULE_RELS),
]

EVERY_ALPHA_ROUTE = [*ALPHA_LISTS, "/services/primary-care", *ALPHA_ID_ROUTES]

# Strings only alpha's data contains (names and attribute values, not ids a client may echo).
ALPHA_DATA = [
    "Alpha Health",
    "Downtown",
    "Uptown",
    "Nashville",
    "615-555-0100",
    "Jane Smith",
    "Bob Jones",
    "Smith Primary Care",
    "Jones Cardiology",
    "Cardiology",
    "Annual Physical",
    "Sick Visit",
    "Consult",
    "Aetna",
    "Cigna",
    "Alpha Physicians",
    ALPHA_HOST,
]


def assert_no_alpha_data(text: str) -> None:
    leaked = [marker for marker in ALPHA_DATA if marker in text]
    assert not leaked, f"alpha data in a beta response: {leaked}\n{text}"


def unauthorized_body(client) -> bytes:  # type: ignore[no-untyped-def]
    response = client.get(url("/locations"))
    assert response.status_code == 401
    return response.content


# --- the accepted spellings of a key -------------------------------------------------------


@pytest.mark.parametrize(
    "spelling",
    ["query", "bare", "token", "bearer", "x-api-key", "token-equals"],
)
def test_every_key_spelling_is_accepted(client, keys, spelling):
    key = keys.alpha_read
    headers = {
        "query": {},
        "bare": {"Authorization": key},
        "token": {"Authorization": f"Token {key}"},
        "bearer": {"Authorization": f"Bearer {key}"},
        "x-api-key": {"X-Api-Key": key},
        "token-equals": {"Authorization": f'Token token="{key}"'},
    }[spelling]
    path = url("/locations", key if spelling == "query" else None)
    response = client.get(path, headers=headers)
    assert response.status_code == 200, response.text
    assert ids(response.json()) == ["downtown", "uptown"]


def test_scheme_is_case_insensitive(client, keys):
    response = client.get(url("/services"), headers={"Authorization": f"bearer {keys.alpha_read}"})
    assert response.status_code == 200


def test_book_key_also_reads(client, keys):
    response = client.get(url("/schedules", keys.alpha_book))
    assert response.status_code == 200
    assert ids(response.json()) == [ALPHA_S1, ALPHA_S2]


# --- 401: no oracle ------------------------------------------------------------------------


def test_missing_key_is_401(client, keys):
    err = only_error(client.get(url("/locations")), 401)
    assert err["code"] == "unauthorized"


@pytest.mark.parametrize(
    ("key_param", "headers"),
    [
        ("iqk_not-a-real-key", {}),
        ("", {}),
        (None, {"Authorization": "Bearer iqk_not-a-real-key"}),
        (None, {"Authorization": "Token "}),
        (None, {"Authorization": "Basic dXNlcjpwYXNz"}),
        (None, {"X-Api-Key": "iqk_not-a-real-key"}),
    ],
)
def test_unknown_key_gives_the_same_401_as_a_missing_key(client, keys, key_param, headers):
    expected = unauthorized_body(client)
    response = client.get(url("/locations", key_param), headers=headers)
    assert response.status_code == 401
    assert response.content == expected


def test_revoked_key_gives_the_same_401(client, keys, session_factory):
    assert client.get(url("/locations", keys.alpha_read)).status_code == 200
    with session_factory() as s, s.begin():
        revoke_key(s, keys.alpha_read_only_id)
    response = client.get(url("/locations", keys.alpha_read))
    assert response.status_code == 401
    assert response.content == unauthorized_body(client)
    # The other alpha key is unaffected.
    assert client.get(url("/locations", keys.alpha_book)).status_code == 200


def test_other_site_key_gives_the_same_401(client, keys):
    response = client.get(url("/locations", keys.beta_read))
    assert response.status_code == 401
    assert response.content == unauthorized_body(client)
    response = client.get(url("/locations", keys.alpha_read, host=BETA_HOST))
    assert response.status_code == 401
    assert response.content == unauthorized_body(client)


def test_key_without_read_scope_is_403(client, keys, session_factory):
    with session_factory() as s, s.begin():
        book_only = create_key(s, ALPHA_HOST, "book only", ("book",)).secret
    err = only_error(client.get(url("/locations", book_only)), 403)
    assert err["code"] == "forbidden"


@pytest.mark.parametrize("prefix", ["/api/v3", "/v3"])
def test_unknown_hostname_is_404(client, keys, prefix):
    for key in (keys.alpha_read, None):
        response = client.get(url("/locations", key, host="nowhere.example.com", prefix=prefix))
        err = only_error(response, 404)
        assert err["code"] == "not-found"


def test_hostname_is_case_insensitive(client, keys):
    response = client.get(url("/services", keys.alpha_read, host="Alpha.Example.COM"))
    assert response.status_code == 200
    assert ids(response.json()) == ["cardiology", "primary-care"]


# --- every route: positive control, then beta's key on alpha's site -------------------------

# Read from the route table the app dispatches with: every route a read key opens, as a
# request on alpha's data.
TABLE_READS = [(concrete(r), required_query(r)) for r in keyed_reads()]
TABLE_ID_ROUTES = [concrete(r) for r in resource_id_routes()]


def test_the_table_lists_every_route_of_the_hand_lists():
    assert {p for p, _ in TABLE_READS} >= {*ALPHA_LISTS, *ALPHA_ID_ROUTES} - {
        "/locations/uptown",
        f"/schedules/{ALPHA_S2}",
        "/appointment-types/annual-physical",
        "/appointment_types/sick-visit",
        "/insurance_plans/cigna-hmo",
    }
    assert "/available-appointment-times/explain" in {p for p, _ in TABLE_READS}


@pytest.mark.parametrize(("path", "params"), TABLE_READS, ids=[p for p, _ in TABLE_READS])
def test_every_keyed_route_of_the_table_is_tenant_scoped(client, keys, path, params):
    """Alpha's key is served on alpha's site; beta's key is refused there (401, the same
    body as no key at all)."""
    served = client.get(url(path, keys.alpha_read, params=params))
    assert served.status_code == 200, served.text
    refused = client.get(url(path, keys.beta_read, params=params))
    assert refused.status_code == 401, refused.text
    assert refused.content == unauthorized_body(client)


@pytest.mark.parametrize("path", TABLE_ID_ROUTES)
def test_alpha_ids_of_every_resource_route_are_404_on_beta_site(client, keys, path):
    response = client.get(url(path, keys.beta_read, host=BETA_HOST))
    assert only_error(response, 404)["code"] == "not-found"
    assert_no_alpha_data(response.text)


@pytest.mark.parametrize("path", EVERY_ALPHA_ROUTE)
def test_every_catalog_route_serves_alpha_with_alpha_key(client, keys, path):
    response = client.get(url(path, keys.alpha_read))
    assert response.status_code == 200, response.text


@pytest.mark.parametrize("path", EVERY_ALPHA_ROUTE)
def test_every_catalog_route_refuses_beta_key_on_alpha_site(client, keys, path):
    expected = unauthorized_body(client)
    for prefix in ("/api/v3", "/v3"):
        response = client.get(url(path, keys.beta_read, prefix=prefix))
        assert response.status_code == 401, (prefix, response.text)
        assert response.content == expected
    by_header = client.get(url(path), headers={"Authorization": keys.beta_read})
    assert by_header.status_code == 401
    assert by_header.content == expected


# --- beta's own site never resolves alpha's ids --------------------------------------------


@pytest.mark.parametrize("path", ALPHA_ID_ROUTES)
def test_alpha_ids_are_404_on_beta_site(client, keys, path):
    response = client.get(url(path, keys.beta_read, host=BETA_HOST))
    err = only_error(response, 404)
    assert err["code"] == "not-found"
    assert_no_alpha_data(response.text)


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/health-systems", ["beta-health"]),
        ("/locations", ["beta-clinic"]),
        ("/services", ["primary-care"]),
        ("/medical-groups", ["beta-group"]),
        ("/appointment-types", ["beta-visit"]),
        ("/insurance-plans", ["beta-plan"]),
        ("/providers", ["dr-beta"]),
        ("/schedules", [BETA_S1]),
        ("/appointment_types", ["beta-visit"]),
    ],
)
def test_beta_lists_hold_only_beta_data(client, keys, path, expected):
    response = client.get(url(path, keys.beta_read, host=BETA_HOST))
    assert response.status_code == 200
    doc = response.json()
    assert ids(doc) == expected
    assert doc["meta"] == {"record-count": len(expected)}
    assert_no_alpha_data(response.text)
    assert all(r["links"]["self"].startswith(f"{BETA_BASE}/") for r in doc["data"])


def test_beta_includes_hold_only_beta_data(client, keys):
    params = {
        "include": "location,provider.medical-groups,service,insurance-plans,appointment-types"
    }
    response = client.get(url("/schedules", keys.beta_read, host=BETA_HOST, params=params))
    assert response.status_code == 200
    doc = response.json()
    assert sorted((r["type"], r["id"]) for r in doc["included"]) == [
        ("appointment-types", "beta-visit"),
        ("insurance-plans", "beta-plan"),
        ("locations", "beta-clinic"),
        ("providers", "dr-beta"),  # dr-beta belongs to no medical group
        ("services", "primary-care"),
    ]
    assert_no_alpha_data(response.text)


@pytest.mark.parametrize(
    "params",
    [
        {"filter[service]": "cardiology"},
        {"filter": '{"service":"cardiology"}'},
        {"filter[service]": "Cardiology"},
    ],
)
def test_filter_by_alpha_service_on_beta_site_is_400(client, keys, params):
    response = client.get(url("/appointment-types", keys.beta_read, host=BETA_HOST, params=params))
    err = only_error(response, 400)
    assert err["code"] == "invalid-filter-value"
    assert_no_alpha_data(response.text.replace("Cardiology", ""))  # the echoed input is fine


# --- a shared id resolves per tenant -------------------------------------------------------


@pytest.mark.parametrize(
    ("host", "key_attr", "base", "types"),
    [
        (ALPHA_HOST, "alpha_read", ALPHA_BASE, ["sick-visit", "annual-physical"]),
        (BETA_HOST, "beta_read", BETA_BASE, ["beta-visit"]),
    ],
)
def test_shared_id_primary_care_resolves_to_own_row(client, keys, host, key_attr, base, types):
    key = getattr(keys, key_attr)
    show = client.get(url("/services/primary-care", key, host=host))
    assert show.status_code == 200
    assert show.json()["links"] == {"self": f"{base}/services/primary-care"}
    assert show.json()["data"]["attributes"] == {"name": "Primary Care"}
    for params in ({"filter[service]": "primary-care"}, {"filter": '{"service":"Primary Care"}'}):
        filtered = client.get(url("/appointment-types", key, host=host, params=params))
        assert filtered.status_code == 200
        assert ids(filtered.json()) == types


def test_shared_service_links_back_to_own_schedules(client, keys):
    alpha = client.get(url(f"/schedules/{ALPHA_S1}/relationships/service", keys.alpha_read))
    beta = client.get(
        url(f"/schedules/{BETA_S1}/relationships/service", keys.beta_read, host=BETA_HOST)
    )
    assert alpha.json()["data"] == beta.json()["data"] == {"type": "services", "id": "primary-care"}
    assert client.get(url(f"/schedules/{BETA_S1}", keys.alpha_read)).status_code == 404
