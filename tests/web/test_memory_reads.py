"""Warm catalog reads answered on the event loop, from memory (``Api.answer_from_memory``),
and the ETag of spliced documents (``web.responses.document_tag``).

A catalog read whose tenant and key the directory knows, and whose every answer the table
of recorded pages and kept objects holds (jsonapi/fragments.py), is answered by the
fast path without a thread, a session or a statement. It must be what the threaded path
would have sent: the same bytes and ETag as a fresh process rendering it with SQL, the same
rate-limit accounting, and the same freshness (a change committed here at once, another
process's import once the directory's window has passed).
"""

from __future__ import annotations

import threading
from typing import Any

import orjson
import pytest
from httpx2 import Response
from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session, sessionmaker

import inquicker.jsonapi.handlers as handlers
from inquicker.app import create_app
from inquicker.catalog.models import Location
from inquicker.catalog.schedule_models import Schedule
from inquicker.jsonapi.fragments import Spliced, mark_of
from inquicker.memo import Memo, NeedsDatabase, memory_only
from inquicker.settings import Settings
from inquicker.tenancy.directory import FRESH_SECONDS, REFRESH_SHARE, Directory
from inquicker.tenancy.keys import create_key
from inquicker.tenancy.models import ApiKey, HealthSystem
from inquicker.web.context import NO_DATABASE
from inquicker.web.pipeline import Api
from inquicker.web.responses import document_tag, etag_of
from tests.api.helpers import key_header, url
from tests.conftest import ApiClient
from tests.support.seed import ALPHA_HOST, ALPHA_S1, Keys
from tests.support.statements import counting

DOWNTOWN = "/locations/downtown"
# Lists, a single resource with includes, a related collection, sparse fieldsets.
WARM_PATHS = [
    "/locations?include=schedules",
    f"{DOWNTOWN}?include=schedules.provider",
    f"{DOWNTOWN}/schedules?include=insurance-plans",
    "/schedules?include=provider,location&fields[schedules]=name,provider,location",
    "/providers?page[size]=1&page[number]=2",
]


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(client: ApiClient) -> FakeClock:
    """The directory's window passes only when the test says so."""
    fake = FakeClock()
    api_of(client).directory = Directory(clock=fake)
    return fake


@pytest.fixture
def threaded(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The URLs of the requests that took the threaded path (``Api.run``)."""
    calls: list[str] = []
    run = Api.run

    def counted(self: Api, route: Any, hostname: str, base: str, req: Any) -> Any:
        calls.append(req.url)
        return run(self, route, hostname, base, req)

    monkeypatch.setattr(Api, "run", counted)
    return calls


def api_of(client: ApiClient) -> Api:
    api: Api = client.app.state.api  # type: ignore[attr-defined]
    return api


def get(
    client: ApiClient, path: str, key: str, *params: tuple[str, str], **headers: str
) -> Response:
    sep = "&" if "?" in path else "?"
    query = "&".join(f"{k}={v}" for k, v in params)
    return client.get(
        url(path) + (sep + query if query else ""), headers={**key_header(key), **headers}
    )


def from_memory(
    client: ApiClient,
    engine: Engine,
    threaded: list[str],
    path: str,
    key: str,
    nonce: str,
    **headers: str,
) -> Response:
    """A request for a URL never asked before (``_=nonce``: not in the response cache),
    which must be answered without a thread or a statement."""
    before = len(threaded)
    with counting(engine) as statements:
        response = get(client, path, key, ("_", nonce), **headers)
    assert statements == []
    assert len(threaded) == before, "took the threaded path"
    return response


# --- answered from memory, as the SQL path renders it ---------------------------------------


@pytest.mark.parametrize("path", WARM_PATHS)
def test_a_warm_read_is_answered_without_a_thread_as_a_fresh_process_renders_it(
    client: ApiClient, engine: Engine, keys: Keys, threaded: list[str], path: str
) -> None:
    first = get(client, path, keys.alpha_read, ("_", "a"))  # records the answers
    assert first.status_code == 200, first.text
    assert threaded
    replayed = from_memory(client, engine, threaded, path, keys.alpha_read, "b")
    assert replayed.status_code == 200
    # Another process rendering the same URL with SQL: the same bytes, so the same ETag.
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(handlers, "REPLAY", False)
        settings = Settings(env="test", access_log=False, response_cache_bytes=0)
        with ApiClient(create_app(settings, engine=engine), base_url="http://testserver") as other:
            fresh = get(other, path, keys.alpha_read, ("_", "b"))
    assert fresh.status_code == 200
    assert replayed.content == fresh.content
    assert replayed.headers["etag"] == fresh.headers["etag"]
    for name in ("content-type", "content-length", "cache-control"):
        assert replayed.headers[name] == fresh.headers[name], name


def test_a_memory_answer_honours_if_none_match_and_head(
    client: ApiClient, engine: Engine, keys: Keys, threaded: list[str]
) -> None:
    """A single resource's links do not repeat the query: distinct URLs, one document."""
    first = get(client, DOWNTOWN, keys.alpha_read, ("_", "a"))
    tag = first.headers["etag"]
    same = from_memory(client, engine, threaded, DOWNTOWN, keys.alpha_read, "b")
    assert (same.content, same.headers["etag"]) == (first.content, tag)
    not_modified = from_memory(
        client, engine, threaded, DOWNTOWN, keys.alpha_read, "c", **{"If-None-Match": tag}
    )
    assert (not_modified.status_code, not_modified.content) == (304, b"")
    assert not_modified.headers["etag"] == tag
    assert not_modified.headers["cache-control"] == "private, max-age=60"
    other = from_memory(
        client, engine, threaded, DOWNTOWN, keys.alpha_read, "d", **{"If-None-Match": '"x"'}
    )
    assert (other.status_code, other.content) == (200, first.content)
    with counting(engine) as statements:
        head = client.head(url(DOWNTOWN) + "?_=e", headers=key_header(keys.alpha_read))
    assert statements == []
    assert (head.status_code, head.content, head.headers["etag"]) == (200, b"", tag)


def test_a_read_that_needs_the_database_takes_the_threaded_path(
    client: ApiClient, engine: Engine, keys: Keys, threaded: list[str]
) -> None:
    get(client, "/locations", keys.alpha_read, ("_", "a"))
    threaded.clear()
    # Another order: no recorded page; an unknown id: no recorded lookup.
    assert get(client, "/locations?sort=-name", keys.alpha_read).status_code == 200
    assert get(client, "/locations/nowhere", keys.alpha_read).status_code == 404
    # A refusal is the threaded path's to render, even for a recorded page.
    bad = get(client, "/locations?page[size]=0", keys.alpha_read)
    assert bad.status_code == 400
    assert len(threaded) == 3


# --- the ETag follows the bytes ---------------------------------------------------------------


def test_the_etag_of_a_replayed_page_changes_with_any_included_object(
    client: ApiClient,
    engine: Engine,
    keys: Keys,
    threaded: list[str],
    session_factory: sessionmaker[Session],
) -> None:
    path = "/locations?include=schedules"
    first = get(client, path, keys.alpha_read)
    again = from_memory(client, engine, threaded, path, keys.alpha_read, "1")
    assert again.headers["etag"] != first.headers["etag"]  # its links name "_=1"
    assert (
        from_memory(client, engine, threaded, path, keys.alpha_read, "1").content == again.content
    )
    # One included object changes (committed here: served at once).
    with session_factory() as session, session.begin():
        schedule = session.scalars(select(Schedule).where(Schedule.slug == ALPHA_S1)).one()
        schedule.name = "Smith Primary Care (renamed)"
    changed = get(client, path, keys.alpha_read, ("_", "1"))
    assert b"(renamed)" in changed.content and b"(renamed)" not in again.content
    assert changed.headers["etag"] != again.headers["etag"]
    stale = get(
        client, path, keys.alpha_read, ("_", "1"), **{"If-None-Match": again.headers["etag"]}
    )
    assert stale.status_code == 200
    fresh = from_memory(
        client,
        engine,
        threaded,
        path,
        keys.alpha_read,
        "1",
        **{"If-None-Match": changed.headers["etag"]},
    )
    assert fresh.status_code == 304


def test_document_tag_hashes_marks_in_place_of_spliced_objects() -> None:
    objects = [b'{"id":"a","type":"t"}', b'{"id":"b","type":"t"}']
    doc = {
        "data": Spliced([orjson.Fragment(o) for o in objects], [mark_of(o) for o in objects]),
        "links": {"self": "x"},
    }
    body = orjson.dumps(doc)
    assert body == b'{"data":[' + b",".join(objects) + b'],"links":{"self":"x"}}'
    source = b'{"data":[' + b",".join(mark_of(o) for o in objects) + b'],"links":{"self":"x"}}'
    assert document_tag(doc, body) == etag_of(source)
    # Any byte of any object, or of the rest, changes the tag.
    changed = [objects[0], b'{"id":"c","type":"t"}']
    other = {**doc, "data": Spliced([orjson.Fragment(o) for o in changed], map(mark_of, changed))}
    assert document_tag(other, orjson.dumps(other)) != document_tag(doc, body)
    moved = {**doc, "links": {"self": "y"}}
    assert document_tag(moved, orjson.dumps(moved)) != document_tag(doc, body)
    # Without spliced arrays the body itself is hashed.
    plain = {"data": [orjson.loads(o) for o in objects], "links": {"self": "x"}}
    assert orjson.dumps(plain) == body
    assert document_tag(plain, body) == etag_of(body)
    # A mark cannot be spelt by a document: orjson escapes the control character it starts with.
    assert b"\x01" not in orjson.dumps({"s": mark_of(objects[0]).decode()})


# --- rate limits, keys, freshness -------------------------------------------------------------


def test_memory_answers_count_against_the_rate_limit_once_each(
    engine: Engine, keys: Keys, session_factory: sessionmaker[Session], threaded: list[str]
) -> None:
    with session_factory() as session, session.begin():
        key = create_key(session, ALPHA_HOST, "limited", ("read",), "4/minute").secret
    settings = Settings(env="test", access_log=False)
    with ApiClient(create_app(settings, engine=engine), base_url="http://testserver") as client:
        api_of(client).directory = Directory(clock=FakeClock())
        first = get(client, "/locations", key, ("_", "0"))  # the key's first use: recorded
        assert len(threaded) == 1
        seen = [from_memory(client, engine, threaded, "/locations", key, str(n)) for n in (1, 2, 3)]
        assert [r.status_code for r in (first, *seen)] == [200] * 4
        remaining = [r.headers["ratelimit-remaining"] for r in (first, *seen)]
        assert remaining == ["3", "2", "1", "0"]
        refused = get(client, "/locations", key, ("_", "4"))
        assert refused.status_code == 429
        assert len(threaded) == 1


def test_a_key_whose_use_is_due_to_be_recorded_takes_the_threaded_path(
    client: ApiClient,
    engine: Engine,
    keys: Keys,
    threaded: list[str],
    session_factory: sessionmaker[Session],
) -> None:
    get(client, "/locations", keys.alpha_read, ("_", "a"))
    with session_factory() as session, session.begin():
        key = create_key(session, ALPHA_HOST, "new", ("read",))
    threaded.clear()
    assert get(client, "/locations", key.secret, ("_", "b")).status_code == 200
    assert len(threaded) == 1
    with session_factory() as session:
        used = session.scalar(select(ApiKey.last_used_at).where(ApiKey.key_id == key.key_id))
    assert used is not None
    from_memory(client, engine, threaded, "/locations", key.secret, "c")


def test_another_processs_import_is_replayed_once_the_window_passes(
    client: ApiClient,
    engine: Engine,
    keys: Keys,
    threaded: list[str],
    clock: FakeClock,
    session_factory: sessionmaker[Session],
) -> None:
    path = "/locations?include=schedules"
    first = get(client, path, keys.alpha_read, ("_", "a"))
    assert b"Downtown Clinic" in first.content
    # What another process's import does, without this process noticing: Core statements.
    with session_factory() as session, session.begin():
        session.execute(
            update(Location).where(Location.slug == "downtown").values(name="Downtown East")
        )
        session.execute(
            update(HealthSystem)
            .where(HealthSystem.slug == "alpha-health")
            .values(data_version=HealthSystem.data_version + 1)
        )
    clock.now = FRESH_SECONDS * (1 - REFRESH_SHARE) - 0.01  # within the window: as before
    stale = from_memory(client, engine, threaded, path, keys.alpha_read, "b")
    assert b"Downtown Clinic" in stale.content
    clock.now = FRESH_SECONDS  # past it: the site is read again, the new version rendered
    fresh = get(client, path, keys.alpha_read, ("_", "c"))
    assert threaded[-1].endswith("/locations")
    assert b"Downtown East" in fresh.content and b"Downtown Clinic" not in fresh.content
    replayed = from_memory(client, engine, threaded, path, keys.alpha_read, "d")
    assert b"Downtown East" in replayed.content and b"Downtown Clinic" not in replayed.content


# --- the memory-only run ----------------------------------------------------------------------


def test_the_session_of_a_memory_only_run_refuses_every_use() -> None:
    assert not issubclass(NeedsDatabase, Exception)  # no `except Exception` can swallow it
    with pytest.raises(NeedsDatabase):
        NO_DATABASE.execute  # noqa: B018
    with pytest.raises(NeedsDatabase):
        NO_DATABASE.connection()


def test_memo_once_in_a_memory_only_run_neither_builds_nor_waits() -> None:
    memo = Memo(ttl=60)
    memo.put("known", 1)
    built: list[str] = []
    with memory_only():
        assert memo.once("known", lambda: 2) == 1
        with pytest.raises(NeedsDatabase):
            memo.once("unknown", lambda: built.append("unknown") or 3)
    assert built == []
    # Another thread building the value: a memory-only caller does not wait for it.
    started, release = threading.Event(), threading.Event()

    def slow() -> int:
        started.set()
        release.wait(10)
        return 4

    builder = threading.Thread(target=memo.once, args=("slow", slow))
    builder.start()
    assert started.wait(10)
    try:
        with memory_only(), pytest.raises(NeedsDatabase):
            memo.once("slow", lambda: 5)
    finally:
        release.set()
        builder.join(10)
    assert memo.once("slow", lambda: 6) == 4
    assert memo.once("unknown", lambda: 7) == 7  # outside the run: built as before


def test_a_miss_gives_up_before_applying_filters_on_the_event_loop(
    client: ApiClient, keys: Keys, threaded: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A provider search near a new point ranks every located schedule: that must happen
    once, in the threaded path, not first on the event loop to be thrown away."""
    get(client, "/locations", keys.alpha_read, ("_", "a"))  # the tenant and key are known
    applied: list[bool] = []
    apply = handlers._apply_filters

    def counted(*args: Any) -> Any:
        applied.append(True)
        return apply(*args)

    monkeypatch.setattr(handlers, "_apply_filters", counted)
    threaded.clear()
    near = get(client, "/providers?filter[near]=[36.16,-86.78]&include=schedules", keys.alpha_read)
    assert near.status_code == 200, near.text
    assert (len(applied), len(threaded)) == (1, 1)
