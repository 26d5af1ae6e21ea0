"""JSON:API query features (SPEC §3): include, fields, sort, page, filter, links, aliases."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from starlette.testclient import TestClient

from inquicker.app import create_app
from inquicker.settings import Settings
from tests.api.helpers import ALPHA_BASE, ORIGIN, ids, key_header, only_error, query_of, refs, url
from tests.conftest import ApiClient
from tests.support.seed import ALPHA_HOST, ALPHA_S1, ALPHA_S2, Keys

LOCATIONS = f"{ALPHA_BASE}/locations"


def get(client: TestClient, keys: Keys, path: str, params=(), **kwargs):  # type: ignore[no-untyped-def]
    """GET an alpha path, authenticated by header so that links carry no key."""
    response = client.get(url(path, params=params), headers=key_header(keys.alpha_read), **kwargs)
    assert response.status_code == 200, response.text
    return response.json()


def get_error(client: TestClient, keys: Keys, path: str, params) -> dict:  # type: ignore[no-untyped-def,type-arg]
    response = client.get(url(path, params=params), headers=key_header(keys.alpha_read))
    return only_error(response, 400)


def page_link(base: str, *params: tuple[str, str]) -> str:
    """A page link exactly as the server spells it: percent-encoded, brackets included
    (page%5Bnumber%5D=2), so strict URL parsers accept it."""
    return f"{base}?{urlencode(list(params))}"


def by_ref(doc: dict) -> dict[tuple[str, str], dict]:  # type: ignore[type-arg]
    return {(r["type"], r["id"]): r for r in doc.get("included", [])}


# --- include -------------------------------------------------------------------------------


def test_include_to_one_relationships_of_a_schedule(client, keys):
    doc = get(client, keys, f"/schedules/{ALPHA_S1}", {"include": "location,provider"})
    rels = doc["data"]["relationships"]
    assert rels["location"]["data"] == {"type": "locations", "id": "downtown"}
    assert rels["provider"]["data"] == {"type": "providers", "id": "dr-smith"}
    # Linkage appears only for included relationships.
    for name in ("service-resource", "insurance-plans", "appointment-types"):
        assert "data" not in rels[name], name
    assert refs(doc["included"]) == [("locations", "downtown"), ("providers", "dr-smith")]
    downtown = by_ref(doc)[("locations", "downtown")]
    assert downtown["attributes"]["name"] == "Downtown Clinic"
    assert downtown["links"] == {"self": f"{ALPHA_BASE}/locations/downtown"}
    assert "data" not in downtown["relationships"]["schedules"]


def test_no_include_means_no_included_and_no_linkage(client, keys):
    doc = get(client, keys, "/schedules")
    assert "included" not in doc
    for resource in doc["data"]:
        for rel in resource["relationships"].values():
            assert set(rel) == {"links"}


def test_include_to_many_is_deduplicated(client, keys):
    # S1 accepts aetna-ppo and cigna-hmo, S2 accepts aetna-ppo: aetna appears once.
    doc = get(client, keys, "/schedules", {"include": "insurance-plans"})
    assert sorted(refs(doc["included"])) == [
        ("insurance-plans", "aetna-ppo"),
        ("insurance-plans", "cigna-hmo"),
    ]
    s1, s2 = doc["data"]
    assert s1["relationships"]["insurance-plans"]["data"] == [
        {"type": "insurance-plans", "id": "aetna-ppo"},
        {"type": "insurance-plans", "id": "cigna-hmo"},
    ]
    assert s2["relationships"]["insurance-plans"]["data"] == [
        {"type": "insurance-plans", "id": "aetna-ppo"}
    ]


def test_nested_include_schedules_provider(client, keys):
    doc = get(client, keys, "/locations", {"include": "schedules.provider"})
    included = refs(doc["included"])
    assert len(included) == len(set(included)), "included must hold each resource once"
    assert sorted(included) == [
        ("providers", "dr-jones"),
        ("providers", "dr-smith"),
        ("schedules", ALPHA_S1),
        ("schedules", ALPHA_S2),
    ]
    downtown, uptown = doc["data"]
    assert downtown["relationships"]["schedules"]["data"] == [{"type": "schedules", "id": ALPHA_S1}]
    assert uptown["relationships"]["schedules"]["data"] == [{"type": "schedules", "id": ALPHA_S2}]
    s1 = by_ref(doc)[("schedules", ALPHA_S1)]
    assert s1["relationships"]["provider"]["data"] == {"type": "providers", "id": "dr-smith"}
    assert "data" not in s1["relationships"]["location"]  # not on the include path
    s2 = by_ref(doc)[("schedules", ALPHA_S2)]
    assert s2["relationships"]["provider"]["data"] == {"type": "providers", "id": "dr-jones"}
    smith = by_ref(doc)[("providers", "dr-smith")]
    assert "data" not in smith["relationships"]["schedules"]


def test_include_never_repeats_primary_data(client, keys):
    # provider.schedules leads back to the primary schedules: they are not in `included`.
    doc = get(client, keys, "/schedules", {"include": "provider.schedules"})
    assert sorted(refs(doc["included"])) == [("providers", "dr-jones"), ("providers", "dr-smith")]
    smith = by_ref(doc)[("providers", "dr-smith")]
    assert smith["relationships"]["schedules"]["data"] == [{"type": "schedules", "id": ALPHA_S1}]


def test_include_same_path_twice_and_prefix(client, keys):
    doc = get(client, keys, "/locations", {"include": "schedules,schedules.provider,schedules"})
    included = refs(doc["included"])
    assert len(included) == 4 == len(set(included))


def test_include_on_show_of_location(client, keys):
    doc = get(client, keys, "/locations/downtown", {"include": "schedules.location"})
    assert refs(doc["included"]) == [("schedules", ALPHA_S1)]
    s1 = doc["included"][0]
    assert s1["relationships"]["location"]["data"] == {"type": "locations", "id": "downtown"}


def test_include_underscore_spelling(client, keys):
    doc = get(client, keys, f"/schedules/{ALPHA_S2}", {"include": "appointment_types"})
    assert refs(doc["included"]) == [("appointment-types", "consult")]


def test_include_with_empty_result_gives_empty_included(client, keys):
    doc = get(client, keys, "/providers/dr-jones", {"include": "medical-group-resources"})
    assert doc["included"] == []
    assert doc["data"]["relationships"]["medical-group-resources"]["data"] == []


@pytest.mark.parametrize(
    ("path", "include"),
    [
        ("/locations", "nope"),
        ("/locations", "schedules.nope"),
        ("/schedules", "location.nope"),
        (f"/schedules/{ALPHA_S1}", "doctor"),
        ("/services", "schedules"),
    ],
)
def test_unknown_include_is_400(client, keys, path, include):
    err = get_error(client, keys, path, {"include": include})
    assert err["code"] == "invalid-include"
    assert err["source"] == {"parameter": "include"}
    assert include in err["detail"]


def test_include_deeper_than_three_is_400(client, keys):
    params = {"include": "schedules.provider.schedules.location"}
    err = get_error(client, keys, "/locations", params)
    assert err["source"] == {"parameter": "include"}


# --- sparse fieldsets ----------------------------------------------------------------------


def test_sparse_fieldset_on_list(client, keys):
    doc = get(client, keys, "/locations", {"fields[locations]": "name"})
    assert [r["attributes"] for r in doc["data"]] == [
        {"name": "Downtown Clinic"},
        {"name": "Uptown Clinic"},
    ]
    assert all("relationships" not in r for r in doc["data"])
    assert doc["data"][0]["links"] == {"self": f"{LOCATIONS}/downtown"}


def test_sparse_fieldset_with_relationship(client, keys):
    doc = get(client, keys, "/locations/downtown", {"fields[locations]": "city,schedules"})
    assert doc["data"]["attributes"] == {"city": "Nashville"}
    assert set(doc["data"]["relationships"]) == {"schedules"}


def test_sparse_fieldset_applies_to_included(client, keys):
    params = {
        "include": "location",
        "fields[locations]": "city",
        "fields[schedules]": "name,location",
    }
    doc = get(client, keys, "/schedules", params)
    assert [r["attributes"] for r in doc["data"]] == [
        {"name": "Smith Primary Care"},
        {"name": "Jones Cardiology"},
    ]
    assert set(doc["data"][0]["relationships"]) == {"location"}
    assert [r["attributes"] for r in doc["included"]] == [{"city": "Nashville"}] * 2


def test_sparse_fieldset_underscore_type(client, keys):
    doc = get(client, keys, "/insurance-plans", {"fields[insurance_plans]": "company"})
    assert [r["attributes"] for r in doc["data"]] == [{"company": "Aetna"}, {"company": "Cigna"}]


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ({"fields[locations]": "name,nope"}, "fields[locations]"),
        ({"fields[nope]": "name"}, "fields[nope]"),
        ({"fields[schedules]": "hours,bogus"}, "fields[schedules]"),
    ],
)
def test_unknown_field_is_400(client, keys, params, parameter):
    err = get_error(client, keys, "/locations", params)
    assert err["source"] == {"parameter": parameter}


# --- sort ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "sort", "expected"),
    [
        ("/locations", "name", ["downtown", "uptown"]),
        ("/locations", "-name", ["uptown", "downtown"]),
        ("/locations", "city,name", ["downtown", "uptown"]),  # same city: name breaks the tie
        ("/locations", "city,-name", ["uptown", "downtown"]),
        ("/locations", "state,-zip", ["uptown", "downtown"]),
        ("/locations", "zip", ["downtown", "uptown"]),
        ("/appointment-types", "-priority", ["consult", "annual-physical", "sick-visit"]),
        ("/appointment-types", "name", ["annual-physical", "consult", "sick-visit"]),
        ("/services", "-name", ["primary-care", "cardiology"]),
        ("/providers", "-name", ["dr-smith", "dr-jones"]),
        ("/schedules", "-sort-order", [ALPHA_S2, ALPHA_S1]),
        ("/schedules", "service", [ALPHA_S2, ALPHA_S1]),
        ("/insurance-plans", "-company", ["cigna-hmo", "aetna-ppo"]),
    ],
)
def test_sort(client, keys, path, sort, expected):
    assert ids(get(client, keys, path, {"sort": sort})) == expected


@pytest.mark.parametrize(
    ("path", "sort", "bad"),
    [
        ("/locations", "nope", "nope"),
        ("/locations", "name,-nope", "nope"),
        ("/locations", "address", "address"),  # an attribute, but not sortable
        ("/locations", "schedules", "schedules"),
        ("/schedules", "hours", "hours"),
    ],
)
def test_unknown_sort_is_400(client, keys, path, sort, bad):
    err = get_error(client, keys, path, {"sort": sort})
    assert err["code"] == "invalid-sort"
    assert err["source"] == {"parameter": "sort"}
    assert f"'{bad}'" in err["detail"]


# --- pagination ----------------------------------------------------------------------------


def test_default_page_links(client, keys):
    doc = get(client, keys, "/locations")
    first = page_link(LOCATIONS, ("page[number]", "1"), ("page[size]", "10"))
    assert doc["links"] == {"first": first, "last": first}
    assert doc["meta"] == {"record-count": 2}


def test_first_page_of_two(client, keys):
    doc = get(client, keys, "/locations", {"sort": "-name", "page[size]": "1"})
    assert ids(doc) == ["uptown"]
    assert doc["meta"] == {"record-count": 2}  # total, not page size
    assert doc["links"] == {
        "first": page_link(
            LOCATIONS, ("sort", "-name"), ("page[number]", "1"), ("page[size]", "1")
        ),
        "last": page_link(LOCATIONS, ("sort", "-name"), ("page[number]", "2"), ("page[size]", "1")),
        "next": page_link(LOCATIONS, ("sort", "-name"), ("page[number]", "2"), ("page[size]", "1")),
    }


def test_last_page_of_two(client, keys):
    doc = get(client, keys, "/locations", {"page[number]": "2", "page[size]": "1"})
    assert ids(doc) == ["uptown"]
    assert doc["links"] == {
        "first": page_link(LOCATIONS, ("page[number]", "1"), ("page[size]", "1")),
        "last": page_link(LOCATIONS, ("page[number]", "2"), ("page[size]", "1")),
        "prev": page_link(LOCATIONS, ("page[number]", "1"), ("page[size]", "1")),
    }


def test_middle_page_has_prev_and_next(client, keys):
    doc = get(client, keys, "/appointment-types", {"page[number]": "2", "page[size]": "1"})
    assert ids(doc) == ["annual-physical"]
    assert doc["meta"] == {"record-count": 3}
    assert {k: dict(query_of(v))["page[number]"] for k, v in doc["links"].items()} == {
        "first": "1",
        "last": "3",
        "prev": "1",
        "next": "3",
    }


def test_page_beyond_last_is_empty_with_prev_to_last(client, keys):
    doc = get(client, keys, "/locations", {"page[number]": "7", "page[size]": "1"})
    assert doc["data"] == []
    assert doc["meta"] == {"record-count": 2}
    assert dict(query_of(doc["links"]["prev"]))["page[number]"] == "2"
    assert "next" not in doc["links"]


def test_empty_collection_links(client, keys):
    doc = get(client, keys, "/appointment-types", {"filter[context]": "Internal"})
    assert doc["data"] == [] and doc["meta"] == {"record-count": 0}
    base = f"{ALPHA_BASE}/appointment-types"
    first = page_link(
        base, ("filter[context]", "Internal"), ("page[number]", "1"), ("page[size]", "10")
    )
    assert doc["links"] == {"first": first, "last": first}


def test_page_links_keep_every_other_parameter(client, keys):
    params = [
        ("filter[context]", "Patient"),
        ("sort", "-name"),
        ("fields[appointment-types]", "name"),
        ("page[size]", "1"),
    ]
    doc = get(client, keys, "/appointment-types", params)
    assert ids(doc) == ["sick-visit"]
    assert doc["meta"] == {"record-count": 2}
    assert query_of(doc["links"]["next"]) == [
        ("filter[context]", "Patient"),
        ("sort", "-name"),
        ("fields[appointment-types]", "name"),
        ("page[number]", "2"),
        ("page[size]", "1"),
    ]


def test_page_links_keep_json_filter(client, keys):
    params = {"filter": '{"service":"Primary Care"}', "page[size]": "1"}
    doc = get(client, keys, "/appointment-types", params)
    assert query_of(doc["links"]["next"]) == [
        ("filter", '{"service":"Primary Care"}'),
        ("page[number]", "2"),
        ("page[size]", "1"),
    ]


def test_following_next_link_walks_all_pages(client, keys):
    seen: list[str] = []
    link: str | None = f"{ALPHA_BASE}/appointment-types?page[size]=2"
    while link:
        response = client.get(link, headers=key_header(keys.alpha_read))
        assert response.status_code == 200
        doc = response.json()
        seen += ids(doc)
        link = doc["links"].get("next")
    assert seen == ["sick-visit", "annual-physical", "consult"]


def test_page_size_max_is_accepted(client, keys):
    doc = get(client, keys, "/locations", {"page[size]": "100"})
    assert ids(doc) == ["downtown", "uptown"]


def test_related_collection_is_paged(client, keys):
    doc = get(client, keys, f"/schedules/{ALPHA_S1}/insurance-plans", {"page[size]": "1"})
    assert ids(doc) == ["aetna-ppo"]
    assert doc["meta"] == {"record-count": 2}
    base = f"{ALPHA_BASE}/schedules/{ALPHA_S1}/insurance-plans"
    assert doc["links"]["next"] == page_link(base, ("page[number]", "2"), ("page[size]", "1"))


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ({"page[size]": "0"}, "page[size]"),
        ({"page[size]": "101"}, "page[size]"),
        ({"page[size]": "abc"}, "page[size]"),
        ({"page[size]": "-1"}, "page[size]"),
        ({"page[size]": "1.5"}, "page[size]"),
        ({"page[size]": ""}, "page[size]"),
        ({"page[number]": "0"}, "page[number]"),
        ({"page[number]": "abc"}, "page[number]"),
        ({"page[number]": "-2"}, "page[number]"),
        ({"page[offset]": "-1"}, "page[offset]"),
        ({"page[limit]": "0"}, "page[limit]"),
        ({"page[limit]": "101"}, "page[limit]"),
        ({"page[cursor]": "x"}, "page[cursor]"),
        ({"page[number]": "1", "page[offset]": "0"}, "page"),
    ],
)
def test_bad_page_is_400(client, keys, params, parameter):
    err = get_error(client, keys, "/locations", params)
    assert err["source"] == {"parameter": parameter}


# --- filters -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "params", "parameter"),
    [
        ("/locations", {"filter[foo]": "x"}, "filter[foo]"),
        ("/locations", {"filter": '{"foo":"x"}'}, "filter"),
        ("/services", {"filter[name]": "x"}, "filter[name]"),
        ("/appointment-types", {"filter[gender]": "female"}, "filter[gender]"),
        ("/health-systems", {"filter": '{"service":"primary-care"}'}, "filter"),
    ],
)
def test_unknown_filter_is_400(client, keys, path, params, parameter):
    err = get_error(client, keys, path, params)
    assert err["code"] == "invalid-filter"
    assert err["source"] == {"parameter": parameter}


@pytest.mark.parametrize(
    "raw",
    ['{"service":', "service=primary-care", '["primary-care"]', '"primary-care"', "{'a':1}", ""],
)
def test_malformed_filter_json_is_400(client, keys, raw):
    err = get_error(client, keys, "/appointment-types", {"filter": raw})
    assert err["code"] == "invalid-filter"
    assert err["source"] == {"parameter": "filter"}


def test_filter_empty_value_is_400(client, keys):
    err = get_error(client, keys, "/appointment-types", {"filter[context]": ""})
    assert err["code"] == "invalid-filter-value"
    assert err["source"] == {"parameter": "filter[context]"}


def test_every_problem_is_reported(client, keys):
    params = {"sort": "nope", "include": "nope", "page[size]": "0", "filter[foo]": "1"}
    response = client.get(url("/locations", params=params), headers=key_header(keys.alpha_read))
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert sorted(e["source"]["parameter"] for e in errors) == [
        "filter[foo]",
        "include",
        "page[size]",
        "sort",
    ]
    assert {e["status"] for e in errors} == {"400"}


# --- addresses: prefixes, aliases, trailing slash, hosts -----------------------------------


@pytest.mark.parametrize(
    ("alias", "type_", "expected"),
    [
        ("/appointment_types", "appointment-types", ["sick-visit", "annual-physical", "consult"]),
        ("/insurance_plans", "insurance-plans", ["aetna-ppo", "cigna-hmo"]),
        ("/medical_groups", "medical-groups", ["alpha-physicians"]),
        ("/health_systems", "health-systems", ["alpha-health"]),
    ],
)
def test_underscore_path_aliases(client, keys, alias, type_, expected):
    doc = get(client, keys, alias)
    assert ids(doc) == expected
    assert all(r["type"] == type_ for r in doc["data"])
    # Resource links use the canonical dasherized path.
    assert doc["data"][0]["links"]["self"] == f"{ALPHA_BASE}/{type_}/{expected[0]}"
    # Page links stay followable.
    follow = client.get(doc["links"]["first"], headers=key_header(keys.alpha_read))
    assert follow.status_code == 200
    assert ids(follow.json()) == expected


@pytest.mark.parametrize(
    "alias",
    [
        "/appointment_types/consult",
        "/insurance_plans/aetna-ppo",
        "/medical_groups/alpha-physicians",
        "/health_systems/alpha-health",
    ],
)
def test_underscore_show_aliases(client, keys, alias):
    doc = get(client, keys, alias)
    type_, id_ = alias.strip("/").split("/")
    assert doc["data"]["type"] == type_.replace("_", "-")
    assert doc["links"] == {"self": f"{ALPHA_BASE}/{type_.replace('_', '-')}/{id_}"}


@pytest.mark.parametrize("prefix", ["/api/v3", "/v3"])
def test_both_prefixes_and_links_follow_the_prefix(client, keys, prefix):
    base = f"{ORIGIN}{prefix}/{ALPHA_HOST}"
    response = client.get(
        url(f"/schedules/{ALPHA_S1}", prefix=prefix, params={"include": "location"}),
        headers=key_header(keys.alpha_read),
    )
    assert response.status_code == 200
    doc = response.json()
    assert doc["links"] == {"self": f"{base}/schedules/{ALPHA_S1}"}
    assert doc["data"]["relationships"]["location"]["links"] == {
        "self": f"{base}/schedules/{ALPHA_S1}/relationships/location",
        "related": f"{base}/schedules/{ALPHA_S1}/location",
    }
    assert doc["included"][0]["links"] == {"self": f"{base}/locations/downtown"}

    listing = client.get(url("/locations", prefix=prefix), headers=key_header(keys.alpha_read))
    assert listing.status_code == 200
    assert listing.json()["links"]["first"] == page_link(
        f"{base}/locations", ("page[number]", "1"), ("page[size]", "10")
    )
    assert listing.json()["data"][0]["links"]["self"] == f"{base}/locations/downtown"


@pytest.mark.parametrize("prefix", ["/api/v3", "/v3"])
@pytest.mark.parametrize(
    "path",
    [
        "/locations/",
        "/locations/downtown/",
        "/locations/downtown/schedules/",
        f"/schedules/{ALPHA_S1}/relationships/location/",
        "/appointment_types/",
    ],
)
def test_trailing_slash_is_accepted(client, keys, prefix, path):
    response = client.get(url(path, prefix=prefix), headers=key_header(keys.alpha_read))
    assert response.status_code == 200, response.text
    response_no_slash = client.get(
        url(path.rstrip("/"), prefix=prefix), headers=key_header(keys.alpha_read)
    )
    assert response.json() == response_no_slash.json()


def test_trailing_slash_page_links_have_no_slash(client, keys):
    doc = get(client, keys, "/locations/")
    assert doc["links"]["first"] == page_link(
        LOCATIONS, ("page[number]", "1"), ("page[size]", "10")
    )


def test_links_use_the_request_host(client, keys):
    headers = {**key_header(keys.alpha_read), "Host": "api.partner.example:8443"}
    response = client.get(url("/locations", params={"include": "schedules"}), headers=headers)
    assert response.status_code == 200
    doc = response.json()
    base = f"http://api.partner.example:8443/api/v3/{ALPHA_HOST}"
    assert doc["data"][0]["links"] == {"self": f"{base}/locations/downtown"}
    assert doc["links"]["first"].startswith(f"{base}/locations?")
    assert doc["included"][0]["links"]["self"] == f"{base}/schedules/{ALPHA_S1}"


def test_https_base_url_gives_https_links(engine, settings, keys):
    app = create_app(settings, engine=engine)
    with ApiClient(app, base_url="https://secure.example") as client:
        response = client.get(url("/locations/downtown"), headers=key_header(keys.alpha_read))
    assert response.status_code == 200
    base = f"https://secure.example/api/v3/{ALPHA_HOST}"
    assert response.json()["links"] == {"self": f"{base}/locations/downtown"}


def test_forwarded_headers_are_ignored_by_default(client, keys):
    headers = {
        **key_header(keys.alpha_read),
        "X-Forwarded-Proto": "https",
        "X-Forwarded-Host": "evil.example",
    }
    doc = client.get(url("/locations"), headers=headers).json()
    assert doc["data"][0]["links"]["self"] == f"{LOCATIONS}/downtown"
    assert doc["links"]["first"].startswith(f"{LOCATIONS}?")


def test_forwarded_headers_are_honoured_when_trusting_a_proxy(engine, keys):
    app = create_app(Settings(env="test", access_log=False, trust_proxy=True), engine=engine)
    headers = {
        **key_header(keys.alpha_read),
        "X-Forwarded-Proto": "https",
        "X-Forwarded-Host": "api.health.example, internal.lb",
    }
    with ApiClient(app, base_url="http://testserver") as client:
        doc = client.get(url("/locations", prefix="/v3"), headers=headers).json()
    base = f"https://api.health.example/v3/{ALPHA_HOST}"
    assert doc["data"][0]["links"]["self"] == f"{base}/locations/downtown"
    assert doc["links"]["first"].startswith(f"{base}/locations?")
