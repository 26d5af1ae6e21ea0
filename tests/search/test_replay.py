"""Warm catalog requests replay what the SQL path recorded (pages and counts, relationship
pairs, id lookups) and splice kept resource objects (jsonapi/fragments.py). The documents
must be byte-for-byte those of the SQL path, over many combinations of resources, includes
(nested, reaching back to the primary type), sparse fieldsets, sorts, filters, page windows
in both spellings, related collections and single resources; a warm request must read no
catalog table; errors, and changes committed in this process, must not be replayed away."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from sqlalchemy import Engine, update
from sqlalchemy.orm import Session, sessionmaker

import inquicker.jsonapi.handlers as handlers
from inquicker.catalog.models import Provider
from inquicker.memo import Memo
from inquicker.tenancy.changes import mark_changed
from inquicker.web.response_cache import ResponseCache
from tests.search.fixture import ANN, S01, S09, path
from tests.support.statements import counting

Params = list[tuple[str, str]]

PAGES: list[Params] = [
    [],
    [("page[size]", "2"), ("page[number]", "2")],
    [("page[offset]", "1"), ("page[limit]", "3")],
    [("page[size]", "4"), ("page[number]", "9")],  # past the end: empty data
]

PROVIDER_INCLUDES = [
    "",
    "schedules",
    "schedules.location",
    "schedules.provider",  # back to the primary type
    "medical-group-resources",
    "schedules.location.schedules,medical-group-resources",
    "schedules.insurance-plans,schedules.appointment-types",
]
PROVIDER_FIELDS: list[Params] = [
    [],
    [("fields[providers]", "name,schedules")],
    [("fields[schedules]", "name,location"), ("fields[locations]", "city")],
]
PROVIDER_FILTERS: list[Params] = [
    [],
    [("filter[near]", "[36.1,-86.1]")],
    [("filter[near]", "[40.0,-80.1]"), ("filter[gender]", "female")],
    [("filter[language]", "english"), ("filter[insurance]", "aetna")],
]
PROVIDER_SORTS: list[Params] = [[], [("sort", "-name")]]

SCHEDULE_INCLUDES = ["", "provider,location", "insurance-plans,appointment-types,service"]
SCHEDULE_FILTERS: list[Params] = [
    [],
    [("filter[service]", "imaging")],
    [("filter[context]", "Patient"), ("filter[provider-type]", "practitioner")],
]

OTHER_LISTS: list[tuple[str, Params]] = [
    ("/locations", [("include", "schedules.provider")]),
    ("/locations", [("sort", "-city"), ("page[size]", "2")]),
    ("/insurance-plans", []),
    ("/insurance-plans", [("page[size]", "2"), ("page[number]", "2"), ("sort", "name")]),
    ("/appointment-types", [("filter[context]", "Patient")]),
    ("/appointment-types", [("filter[service]", "cardiology"), ("page[size]", "1")]),
    ("/services", []),
    ("/medical-groups", [("sort", "-name")]),
    ("/health-systems", []),
    # related collections: the parent is part of what a page was recorded under
    ("/locations/center/schedules", [("include", "provider")]),
    ("/locations/north/schedules", [("include", "provider")]),
    ("/locations/far/schedules", [("page[size]", "1"), ("page[number]", "2")]),
    (f"/providers/{ANN}/schedules", [("include", "location")]),
    ("/providers/cara-cruz/schedules", [("include", "location")]),
    ("/providers/cara-cruz/medical-group-resources", []),
    (f"/schedules/{S01}/insurance-plans", []),
    (f"/schedules/{S09}/insurance-plans", [("fields[insurance-plans]", "name")]),
]

SINGLES: list[tuple[str, Params]] = [
    (f"/providers/{ANN}", []),
    (f"/providers/{ANN}", [("include", "schedules.location")]),
    (f"/providers/{ANN}", [("include", "schedules"), ("fields[schedules]", "name")]),
    ("/providers/gus-grant", [("include", "schedules")]),  # no schedule: empty linkage
    (f"/schedules/{S01}", []),
    (f"/schedules/{S01}", [("include", "insurance-plans,appointment-types")]),
    (f"/schedules/{S09}", [("include", "provider.schedules"), ("fields[providers]", "name")]),
    ("/locations/center", [("include", "schedules")]),
    ("/insurance-plans/aetna", []),
    (f"/schedules/{S01}/provider", [("include", "schedules")]),  # to-one: SQL path as ever
]


def _provider_urls() -> list[tuple[str, Params]]:
    out: list[tuple[str, Params]] = []
    combos = itertools.product(PROVIDER_INCLUDES, PROVIDER_FIELDS, PROVIDER_FILTERS)
    for n, (include, fields, filters) in enumerate(combos):
        # Every include/fieldset/filter combination, each with one of the windows and sorts.
        params = [*filters, *fields, *PAGES[n % len(PAGES)], *PROVIDER_SORTS[n % 3 == 0]]
        if include:
            params.append(("include", include))
        out.append(("/providers", params))
    return out


def _schedule_urls() -> list[tuple[str, Params]]:
    out: list[tuple[str, Params]] = []
    for n, (include, filters, page) in enumerate(
        itertools.product(SCHEDULE_INCLUDES, SCHEDULE_FILTERS, PAGES)
    ):
        params = [*filters, *page, *([("include", include)] if include else [])]
        if n % 2:
            params.append(("fields[schedules]", "name,provider,insurance-plans"))
        out.append(("/schedules", params))
    return out


URLS = [*_provider_urls(), *_schedule_urls(), *OTHER_LISTS, *SINGLES]


def _body(client: Any, url: str) -> bytes:
    response = client.get(url)
    assert response.status_code == 200, (url, response.text)
    return bytes(response.content)


@pytest.fixture
def fresh(client: Any) -> Any:
    """The client with no response cache (every request renders) and an empty memo."""
    api = client.app.state.api
    api.documents = ResponseCache(0)
    api.memo = Memo()
    return client


def test_replayed_documents_equal_the_sql_path(fresh, search, monkeypatch):
    urls = [path(p, search.read, params) for p, params in URLS]
    cold = [_body(fresh, u) for u in urls]  # the SQL path, recording
    warm = [_body(fresh, u) for u in urls]  # replayed
    with monkeypatch.context() as m:
        m.setattr(handlers, "REPLAY", False)
        sql = [_body(fresh, u) for u in urls]
    for url, a, b, c in zip(urls, cold, warm, sql, strict=True):
        assert a == b == c, url
    assert len(set(sql)) > len(urls) * 0.6  # the combinations really differ


CATALOG_TABLES = ("providers", "schedules", "locations", "insurance_plans", "schedule_")


def test_a_warm_request_reads_no_catalog_table(fresh, search, engine: Engine):
    urls = [
        path(
            "/providers", search.read, [("filter[near]", "[36.1,-86.1]"), ("include", "schedules")]
        ),
        path(f"/schedules/{S01}", search.read, [("include", "insurance-plans")]),
        path("/insurance-plans", search.read),
        path("/locations/center/schedules", search.read, [("include", "provider")]),
    ]
    for url in urls:
        _body(fresh, url)
        with counting(engine) as statements:
            _body(fresh, url)
        catalog = [s for s in statements if any(f" {t}" in s for t in CATALOG_TABLES)]
        assert catalog == [], (url, catalog)


def test_errors_are_not_replayed_away(fresh, search):
    url = path("/providers", search.read, [("filter[near]", "[36.1,-86.1]")])
    _body(fresh, url)
    _body(fresh, url)
    # The recorded page's key, with a problem only parsing finds.
    bad = fresh.get(url + "&sort=-nope")
    assert bad.status_code == 400, bad.text
    assert fresh.get(url + "&filter[insurance]=no-such-plan").status_code == 400
    assert fresh.get(path("/providers/no-such-provider", search.read)).status_code == 404


def test_a_change_committed_here_is_served_at_once(
    fresh, search, session_factory: sessionmaker[Session]
):
    urls = [
        path("/providers", search.read, [("include", "schedules")]),
        path(f"/providers/{ANN}", search.read),
        path(f"/schedules/{S01}", search.read, [("include", "provider")]),
    ]
    for url in urls:
        _body(fresh, url)
        _body(fresh, url)
    with session_factory() as session, session.begin():
        session.execute(update(Provider).where(Provider.slug == ANN).values(name="Ann Zed"))
        mark_changed(session)  # as a Core writer (the importer) marks it
    for url in urls:
        assert b"Ann Zed" in _body(fresh, url), url
