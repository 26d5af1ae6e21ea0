"""Collection pages spliced from resource objects serialised once per data version
(jsonapi/fragments.py) are byte-for-byte the documents rendered per request, cold or warm,
with per-request meta, sparse fieldsets and different include paths on one table."""

from __future__ import annotations

from typing import Any

import pytest

import inquicker.jsonapi.handlers as handlers
from inquicker.memo import Memo
from inquicker.web.response_cache import ResponseCache
from tests.search.fixture import path

URLS: list[tuple[str, dict[str, str]]] = [
    ("/providers", {"filter[near]": "[36.1,-86.1]", "include": "schedules"}),
    ("/providers", {"filter[near]": "[40.0,-80.1]", "page[size]": "3", "page[number]": "2"}),
    ("/providers", {"include": "schedules.location,medical-group-resources"}),
    ("/providers", {"fields[providers]": "name,schedules", "include": "schedules"}),
    ("/schedules", {"include": "provider,location,insurance-plans"}),
    ("/schedules", {"fields[schedules]": "name", "filter[service]": "imaging"}),
    ("/locations", {"include": "schedules.provider"}),
]


def _rendered(ctx: Any, objects: Any, fields: Any, render: Any) -> list[Any]:
    return [render(ctx, r, i, fields.get(r.type)) for r, i in objects]


def _body(client: Any, url: str) -> bytes:
    client.app.state.api.documents = ResponseCache(0)
    response = client.get(url)
    assert response.status_code == 200, response.text
    return bytes(response.content)


@pytest.mark.parametrize(("p", "params"), URLS)
def test_spliced_pages_equal_rendered_pages(client, search, monkeypatch, p, params):
    url = path(p, search.read, params)
    client.app.state.api.memo = Memo()
    cold = _body(client, url)
    warm = _body(client, url)  # every object from the table now
    with monkeypatch.context() as m:
        m.setattr(handlers, "spliced", _rendered)
        rendered = _body(client, url)
    assert cold == warm == rendered


def test_one_table_serves_different_include_paths(client, search, monkeypatch):
    # The same provider with and without linkage, then again: keys must keep them apart.
    urls = [
        path("/providers", search.read, {}),
        path("/providers", search.read, {"include": "schedules"}),
        path("/providers", search.read, {"fields[providers]": "name"}),
    ]
    client.app.state.api.memo = Memo()
    first = [_body(client, u) for u in urls]
    again = [_body(client, u) for u in urls]
    with monkeypatch.context() as m:
        m.setattr(handlers, "spliced", _rendered)
        rendered = [_body(client, u) for u in urls]
    assert first == again == rendered
    assert len(set(first)) == 3
