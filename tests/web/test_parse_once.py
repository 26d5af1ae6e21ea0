"""A request is parsed once: the cached-read fast path hands what it parsed (the request it
could not answer, or the refusal) on to the pipeline, which does not parse it again."""

from __future__ import annotations

from typing import Any

import pytest

from inquicker.web.pipeline import Api
from tests.api.helpers import url
from tests.conftest import ApiClient
from tests.support.seed import Keys


@pytest.mark.parametrize(
    "path", ["/locations", "/locations/downtown/relationships/schedules", "/nope"]
)
def test_each_get_is_parsed_once_hit_or_miss(
    client: ApiClient, keys: Keys, monkeypatch: pytest.MonkeyPatch, path: str
) -> None:
    calls: list[str] = []
    parse = Api.parse

    def counted(self: Api, *args: Any) -> Any:
        calls.append(path)
        return parse(self, *args)

    monkeypatch.setattr(Api, "parse", counted)
    miss = client.get(url(path, keys.alpha_read))
    assert calls == [path]
    calls.clear()
    hit = client.get(url(path, keys.alpha_read))
    assert hit.status_code == miss.status_code == (404 if path == "/nope" else 200)
    assert calls == [path]


def test_a_write_is_parsed_once(
    client: ApiClient, keys: Keys, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = 0
    parse = Api.parse

    def counted(self: Api, *args: Any) -> Any:
        nonlocal calls
        calls += 1
        return parse(self, *args)

    monkeypatch.setattr(Api, "parse", counted)
    response = client.post(url("/visits"), content=b"{}")
    assert response.status_code in (400, 401, 415)
    assert calls == 1
