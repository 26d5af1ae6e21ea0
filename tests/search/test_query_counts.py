"""SQL statements per request do not grow with the page size (no N+1).

Statements are counted with a ``before_cursor_execute`` listener on the engine the app uses.
Each request is made once first to warm up: the first request of a key may also write its
``last_used_at`` (once a minute) and the first PostgreSQL connection runs dialect probes.
The counted request then runs without the response cache, the tenant/key memo and the
catalog memo (e.g. schedule hours), whose hits take no statements at all.
"""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from inquicker.memo import Memo
from inquicker.tenancy.directory import Directory
from inquicker.web.response_cache import ResponseCache
from tests.search.fixture import path
from tests.support.statements import counting


def statements_for(client, engine: Engine, url: str) -> list[str]:  # type: ignore[no-untyped-def]
    assert client.get(url).status_code == 200  # warm-up
    # Measure the full path: no cached document, tenant or key (see test_response_cache).
    api = client.app.state.api
    api.documents = ResponseCache(0)
    api.directory = Directory()
    api.memo = Memo()
    with counting(engine) as statements:
        response = client.get(url)
    assert response.status_code == 200, response.text
    return statements


def _without_begin(statements: list[str]) -> list[str]:
    # On SQLite the engine issues an explicit BEGIN (inquicker.db.engine); PostgreSQL's
    # driver begins implicitly, so it is not a statement there.
    return [s for s in statements if s.strip().upper() != "BEGIN"]


# name, path, params, size_small, size_large, exact count (without BEGIN), and what each is
CASES = [
    (
        "providers-near",
        "/providers",
        {"filter[near]": "[36.16,-86.78]", "include": "schedules,medical-groups"},
        # 1 site + health systems of the hostname, 2 API key, 3 record count,
        # 4 page of (pk, distance) ordered by the nearest-location subquery,
        # 5 provider attributes of the page, 6 computed appointment-types,
        # 7 computed medical-groups, 8 included schedules, 9 their computed `hours`,
        # 10 included medical-groups
        10,
    ),
    (
        "schedules",
        "/schedules",
        {"include": "location,provider,insurance-plans,appointment-types"},
        # 1 site, 2 key, 3 count, 4 page, 5 schedule attributes, 6 computed `hours`,
        # 7 included locations, 8 included providers, 9 their appointment-types,
        # 10 their medical-groups, 11 the plans the tenant offers (memoised per data
        # version), 12 included insurance-plans, 13 included appointment-types
        13,
    ),
    (
        "locations",
        "/locations",
        {"include": "schedules.provider"},
        # 1 site, 2 key, 3 count, 4 page, 5 location attributes, 6 included schedules,
        # 7 their `hours`, 8 their providers, 9 the providers' appointment-types,
        # 10 the providers' medical-groups
        10,
    ),
]


@pytest.mark.parametrize(("name", "p", "params", "exact"), CASES, ids=[c[0] for c in CASES])
def test_statement_count_does_not_grow_with_page_size(
    client, engine, search, name, p, params, exact
):
    small = statements_for(client, engine, path(p, search.read, {**params, "page[size]": "2"}))
    large = statements_for(client, engine, path(p, search.read, {**params, "page[size]": "8"}))
    assert len(small) == len(large), (small, large)
    assert len(_without_begin(large)) == exact, "\n---\n".join(large)


def test_pages_really_differ_in_size(client, search):
    # Guard for the test above: the two page sizes list different numbers of rows.
    for p, params, large_count in [
        ("/providers", {"filter[near]": "[36.16,-86.78]"}, 8),  # near drops no provider
        ("/schedules", {}, 8),
        ("/locations", {}, 6),
    ]:
        small = client.get(path(p, search.read, {**params, "page[size]": "2"})).json()
        large = client.get(path(p, search.read, {**params, "page[size]": "8"})).json()
        assert len(small["data"]) == 2
        assert len(large["data"]) == large_count
