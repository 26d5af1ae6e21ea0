"""The response cache through HTTP, on SQLite and PostgreSQL.

A cached catalog read takes no SQL statement at all (counted with a ``before_cursor_execute``
listener on the app's engine); what this process commits is served on its very next
request; what another process commits (simulated with Core statements, which bypass the ORM
flush that notes a change) is served once the directory's freshness window has passed.
The directory gets an injected clock wherever a test depends on that window.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import orjson
import pytest
from httpx2 import Response
from sqlalchemy import Engine, event, select, update
from sqlalchemy.orm import Session, sessionmaker

import inquicker.jsonapi.handlers as handlers
from inquicker.app import create_app
from inquicker.bundle.exporter import export_bundle
from inquicker.bundle.importer import import_bundle
from inquicker.catalog.models import Location
from inquicker.db.base import utcnow
from inquicker.settings import Settings
from inquicker.tenancy import changes
from inquicker.tenancy.directory import FRESH_SECONDS, REFRESH_SHARE, Directory
from inquicker.tenancy.keys import create_key, revoke_key
from inquicker.tenancy.models import ApiKey, HealthSystem
from inquicker.web.pipeline import Api
from inquicker.web.response_cache import ResponseCache
from tests.api.helpers import ALPHA_BASE, JSONAPI, ORIGIN, key_header, only_error, url
from tests.conftest import ApiClient
from tests.support.seed import ALPHA_HOST, ALPHA_S1, BETA_HOST, Keys
from tests.support.statements import counting

DOWNTOWN = "/locations/downtown"
CATALOG_CACHE = "private, max-age=60"


class FakeClock:
    """The directory's clock, moved by the test (seconds, like time.monotonic)."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def api_of(client: ApiClient) -> Api:
    api: Api = client.app.state.api  # type: ignore[attr-defined]
    return api


@pytest.fixture(autouse=True)
def _frozen_directory(request: pytest.FixtureRequest) -> None:
    """The tenant/key memo never lapses on its own here: "answered from memory" must not
    depend on how fast this machine runs a test (tests that move time use ``clock``)."""
    if "client" in request.fixturenames:
        client: ApiClient = request.getfixturevalue("client")
        api_of(client).directory = Directory(clock=FakeClock())


@pytest.fixture
def clock(client: ApiClient) -> FakeClock:
    """A directory whose freshness window passes only when the test says so."""
    fake = FakeClock()
    api_of(client).directory = Directory(clock=fake)
    return fake


def get(client: ApiClient, path: str, key: str, **headers: str) -> Response:
    return client.get(url(path), headers={**key_header(key), **headers})


def name_of(response: Response) -> str:
    assert response.status_code == 200, response.text
    name: str = response.json()["data"]["attributes"]["name"]
    return name


def warm(client: ApiClient, path: str, key: str) -> Response:
    """The first answer (a key's first use is recorded, so it takes the full path; the
    document it renders is cached for the next request)."""
    first = get(client, path, key)
    assert first.status_code == 200, first.text
    return first


def cached(client: ApiClient, engine: Engine, path: str, key: str, **headers: str) -> Response:
    """The response to a request that must take no SQL statement."""
    with counting(engine) as statements:
        response = get(client, path, key, **headers)
    assert statements == [], statements
    return response


def uncached(client: ApiClient, engine: Engine, path: str, key: str) -> Response:
    """The response to a request that must read the database."""
    with counting(engine) as statements:
        response = get(client, path, key)
    assert statements, "answered from memory"
    return response


# --- (a) a repeated read is answered from memory, identically --------------------------------


CATALOG_PATHS = [
    "/locations",
    DOWNTOWN,
    f"{DOWNTOWN}/schedules",
    f"{DOWNTOWN}/relationships/schedules",
    "/schedules?include=provider,location&fields[schedules]=name,provider,location",
    f"/visit-settings/{ALPHA_S1}",
]


@pytest.mark.parametrize("path", CATALOG_PATHS)
def test_a_repeated_catalog_read_takes_no_statement_and_is_identical(
    client: ApiClient, keys: Keys, engine: Engine, path: str
) -> None:
    first = warm(client, path, keys.alpha_read)
    again = cached(client, engine, path, keys.alpha_read)
    assert again.status_code == 200
    assert again.content == first.content
    assert again.headers["etag"] == first.headers["etag"]
    assert again.headers["content-type"] == JSONAPI
    assert again.headers["cache-control"] == CATALOG_CACHE
    assert int(again.headers["content-length"]) == len(first.content)


def test_a_cached_answer_honours_if_none_match_and_head(
    client: ApiClient, keys: Keys, engine: Engine
) -> None:
    first = warm(client, DOWNTOWN, keys.alpha_read)
    assert name_of(first) == "Downtown Clinic"
    tag = first.headers["etag"]
    not_modified = cached(client, engine, DOWNTOWN, keys.alpha_read, **{"If-None-Match": tag})
    assert not_modified.status_code == 304
    assert not_modified.content == b""
    assert (not_modified.headers["etag"], not_modified.headers["cache-control"]) == (
        tag,
        CATALOG_CACHE,
    )
    other = cached(client, engine, DOWNTOWN, keys.alpha_read, **{"If-None-Match": '"other"'})
    assert (other.status_code, other.content) == (200, first.content)
    with counting(engine) as statements:
        head = client.head(url(DOWNTOWN), headers=key_header(keys.alpha_read))
    assert statements == []
    assert (head.status_code, head.content, head.headers["etag"]) == (200, b"", tag)
    assert int(head.headers["content-length"]) == len(first.content)


def test_a_head_that_misses_stores_the_full_document_for_gets(
    client: ApiClient, keys: Keys, engine: Engine
) -> None:
    warm(client, "/locations", keys.alpha_read)  # the key's use is recorded
    head = client.head(url("/locations/uptown"), headers=key_header(keys.alpha_read))
    assert (head.status_code, head.content) == (200, b"")
    response = cached(client, engine, "/locations/uptown", keys.alpha_read)
    assert name_of(response) == "Uptown Clinic"
    assert response.headers["etag"] == head.headers["etag"]
    assert int(head.headers["content-length"]) == len(response.content)


def test_a_doubled_slash_does_not_leak_into_the_links_of_the_plain_url(
    client: ApiClient, keys: Keys
) -> None:
    headers = key_header(keys.alpha_read)
    doubled = client.get(f"/api/v3/{ALPHA_HOST}//locations?page[size]=1", headers=headers)
    assert doubled.status_code == 200
    plain = client.get(url("/locations", params=[("page[size]", "1")]), headers=headers)
    assert plain.json()["links"]["next"] == (
        f"{ALPHA_BASE}/locations?page%5Bnumber%5D=2&page%5Bsize%5D=1"
    )


def test_errors_are_never_cached(client: ApiClient, keys: Keys, engine: Engine) -> None:
    warm(client, "/locations", keys.alpha_read)
    for _ in range(2):
        uncached_404 = uncached(client, engine, "/locations/nowhere", keys.alpha_read)
        assert only_error(uncached_404, 404)["code"] == "not-found"
    assert len(api_of(client).documents) == 1  # only /locations


# --- (b) a change committed in this process is served on the very next request ---------------


def _rename_by_import(session: Session, name: str) -> None:
    exported = export_bundle(session, "alpha-health")
    [downtown] = [loc for loc in exported["locations"] if loc["id"] == "downtown"]
    bundle = {
        "format": exported["format"],
        "health_system": exported["health_system"],
        "locations": [{**downtown, "name": name}],
    }
    result = import_bundle(session, bundle)
    assert (result.data_version, result.counts["locations"].updated) == (2, 1)


def _rename_by_orm(session: Session, name: str) -> None:
    location = session.scalars(select(Location).where(Location.slug == "downtown")).one()
    location.name = name


@pytest.mark.parametrize("rename", [_rename_by_import, _rename_by_orm], ids=["import", "orm"])
def test_a_change_committed_here_is_served_at_once(
    client: ApiClient,
    keys: Keys,
    engine: Engine,
    session_factory: sessionmaker[Session],
    clock: FakeClock,
    rename: Callable[[Session, str], None],
) -> None:
    """The directory's clock never moves: only the change itself can refresh the answer."""
    first = warm(client, DOWNTOWN, keys.alpha_read)
    listed = warm(client, "/locations", keys.alpha_read)
    assert name_of(cached(client, engine, DOWNTOWN, keys.alpha_read)) == "Downtown Clinic"
    with session_factory() as session, session.begin():
        rename(session, "Downtown Health Center")
    response = get(client, DOWNTOWN, keys.alpha_read)
    assert name_of(response) == "Downtown Health Center"
    assert response.headers["etag"] != first.headers["etag"]
    relisted = get(client, "/locations", keys.alpha_read).json()["data"]
    assert [r["attributes"]["name"] for r in relisted] == [
        "Downtown Health Center",
        "Uptown Clinic",
    ]
    assert b"Downtown Clinic" in listed.content
    # ... and the new answer is cached in turn.
    again = cached(client, engine, DOWNTOWN, keys.alpha_read)
    assert (again.content, again.headers["etag"]) == (response.content, response.headers["etag"])


def test_a_hold_or_a_booking_does_not_empty_the_catalog_cache(
    client: ApiClient, keys: Keys, engine: Engine
) -> None:
    """Visits, tokens and seat claims are bookkeeping: writing them is not a catalog change."""
    first = warm(client, DOWNTOWN, keys.alpha_book)
    day = next_monday()
    times = offered(client, keys.alpha_book, day)
    assert hold(client, keys.alpha_book, times[0]).status_code == 200
    assert cached(client, engine, DOWNTOWN, keys.alpha_book).content == first.content
    assert book(client, keys.alpha_book, times[1]).status_code == 201
    assert cached(client, engine, DOWNTOWN, keys.alpha_book).content == first.content


# --- (c) another process's change: served once the window has passed -------------------------


def test_another_processs_import_is_served_once_the_window_passes(
    client: ApiClient,
    keys: Keys,
    engine: Engine,
    session_factory: sessionmaker[Session],
    clock: FakeClock,
) -> None:
    first = warm(client, DOWNTOWN, keys.alpha_read)
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
    clock.now = FRESH_SECONDS * (1 - REFRESH_SHARE) - 0.01
    stale = cached(client, engine, DOWNTOWN, keys.alpha_read)
    assert (stale.content, stale.headers["etag"]) == (first.content, first.headers["etag"])
    assert name_of(stale) == "Downtown Clinic"
    clock.now = FRESH_SECONDS
    fresh = uncached(client, engine, DOWNTOWN, keys.alpha_read)
    assert name_of(fresh) == "Downtown East"
    assert fresh.headers["etag"] != first.headers["etag"]
    # Cached under the new data version from now on.
    again = cached(client, engine, DOWNTOWN, keys.alpha_read)
    assert (again.content, again.headers["etag"]) == (fresh.content, fresh.headers["etag"])


# --- (d) keys: revocation, scope and tenant are checked before a cached answer ---------------


def test_a_key_revoked_here_is_refused_at_once(
    client: ApiClient,
    keys: Keys,
    engine: Engine,
    session_factory: sessionmaker[Session],
    clock: FakeClock,
) -> None:
    first = warm(client, DOWNTOWN, keys.alpha_read)
    warm(client, DOWNTOWN, keys.alpha_book)
    cached(client, engine, DOWNTOWN, keys.alpha_read)
    with session_factory() as session, session.begin():
        revoke_key(session, keys.alpha_read_only_id)
    response = get(client, DOWNTOWN, keys.alpha_read)
    assert only_error(response, 401)["code"] == "unauthorized"
    assert response.headers["www-authenticate"] == 'Token realm="api"'
    assert only_error(get(client, DOWNTOWN, keys.alpha_read), 401)["code"] == "unauthorized"
    # The site's other key still reads the same document.
    assert get(client, DOWNTOWN, keys.alpha_book).content == first.content


def test_a_key_revoked_here_during_a_request_is_refused_by_the_next(
    client: ApiClient,
    keys: Keys,
    engine: Engine,
    session_factory: sessionmaker[Session],
    clock: FakeClock,
) -> None:
    """The revocation commits after the request has read its site but before it reads its
    key. That request may still see the key (its transaction began first; on SQLite it
    reads one snapshot), but the directory must not remember the key as current."""
    warm(client, DOWNTOWN, keys.alpha_read)
    changes.note_change()  # forget the tenant and the key: the next request reads both
    revoked: list[str] = []

    def revoke_after_the_site_is_read(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if "FROM sites" in statement and not revoked:
            revoked.append(statement)
            with session_factory() as session, session.begin():
                revoke_key(session, keys.alpha_read_only_id)

    event.listen(engine, "after_cursor_execute", revoke_after_the_site_is_read)
    try:
        during = get(client, DOWNTOWN, keys.alpha_read)
    finally:
        event.remove(engine, "after_cursor_execute", revoke_after_the_site_is_read)
    assert len(revoked) == 1
    assert during.status_code in (200, 401)  # began before the revocation committed
    after = get(client, DOWNTOWN, keys.alpha_read)
    assert only_error(after, 401)["code"] == "unauthorized"


def test_a_key_revoked_elsewhere_is_refused_once_the_window_passes(
    client: ApiClient,
    keys: Keys,
    engine: Engine,
    session_factory: sessionmaker[Session],
    clock: FakeClock,
) -> None:
    first = warm(client, DOWNTOWN, keys.alpha_read)
    with session_factory() as session, session.begin():
        session.execute(
            update(ApiKey)
            .where(ApiKey.key_id == keys.alpha_read_only_id)
            .values(revoked_at=utcnow())
        )
    clock.now = FRESH_SECONDS * (1 - REFRESH_SHARE) - 0.01
    assert cached(client, engine, DOWNTOWN, keys.alpha_read).content == first.content
    clock.now = FRESH_SECONDS
    assert only_error(get(client, DOWNTOWN, keys.alpha_read), 401)["code"] == "unauthorized"
    assert only_error(get(client, DOWNTOWN, keys.alpha_read), 401)["code"] == "unauthorized"


def test_a_key_without_read_scope_is_refused_a_cached_document(
    client: ApiClient, keys: Keys, engine: Engine, session_factory: sessionmaker[Session]
) -> None:
    with session_factory() as session, session.begin():
        book_only = create_key(session, ALPHA_HOST, "book only", ("book",))
        # Used a moment ago: the directory remembers it without a use left to record.
        key = session.scalars(select(ApiKey).where(ApiKey.key_id == book_only.key_id)).one()
        key.last_used_at = utcnow()
    warm(client, DOWNTOWN, keys.alpha_read)
    cached(client, engine, DOWNTOWN, keys.alpha_read)
    for _ in range(2):  # the second time the key is known to the directory
        error = only_error(get(client, DOWNTOWN, book_only.secret), 403)
        assert (error["code"], error["detail"]) == (
            "forbidden",
            "This API key lacks the 'read' scope.",
        )


def test_another_tenants_key_and_no_key_are_refused_a_cached_document(
    client: ApiClient, keys: Keys, engine: Engine
) -> None:
    warm(client, DOWNTOWN, keys.alpha_read)
    beta_clinic = url("/locations/beta-clinic", host=BETA_HOST)
    for _ in range(2):  # beta's own document, cached the second time
        assert name_of(client.get(beta_clinic, headers=key_header(keys.beta_read))) == "Beta Clinic"
    cached(client, engine, DOWNTOWN, keys.alpha_read)
    for _ in range(2):
        assert only_error(get(client, DOWNTOWN, keys.beta_read), 401)["code"] == "unauthorized"
        assert only_error(get(client, DOWNTOWN, "iqk_unknown"), 401)["code"] == "unauthorized"
        assert only_error(client.get(url(DOWNTOWN)), 401)["code"] == "unauthorized"
        # The alpha key on beta's site: its own cached documents are alpha's only.
        response = client.get(url(DOWNTOWN, host=BETA_HOST), headers=key_header(keys.alpha_read))
        assert only_error(response, 401)["code"] == "unauthorized"
        beta_with_beta = client.get(
            url(DOWNTOWN, host=BETA_HOST), headers=key_header(keys.beta_read)
        )
        assert only_error(beta_with_beta, 404)["code"] == "not-found"


# --- (e) a key in the query string: one document per key ------------------------------------


def test_documents_with_the_key_in_the_query_are_cached_per_key(
    client: ApiClient, keys: Keys, engine: Engine
) -> None:
    a, b = keys.alpha_read, keys.alpha_book
    page = [("page[size]", "1")]

    def read(key: str) -> Response:
        return client.get(url("/locations", key, params=page))

    first_a = read(a)
    with counting(engine) as statements:
        again_a = read(a)
    assert statements == []
    assert again_a.content == first_a.content
    first_b = read(b)
    with counting(engine) as statements:
        again_b = read(b)
    assert statements == []
    assert again_b.content == first_b.content
    for response, mine, other in ((again_a, a, b), (again_b, b, a)):
        document = response.json()
        assert [r["id"] for r in document["data"]] == ["downtown"]
        links = document["links"]
        assert set(links) == {"first", "last", "next"}
        assert all(f"api_key={mine}" in link for link in links.values())
        assert other not in response.text
    assert first_a.headers["etag"] != first_b.headers["etag"]
    assert len(api_of(client).documents) == 2


# --- (f) a small cache stays within its bytes and keeps answering right ---------------------


def test_a_small_cache_stays_within_its_bound_under_many_query_strings(
    engine: Engine, keys: Keys, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Without the replay of recorded pages (jsonapi/fragments.py), so that an answer that
    # is not in this cache shows as SQL.
    monkeypatch.setattr(handlers, "REPLAY", False)
    bound = 200_000
    settings = Settings(
        env="test", access_log=False, response_cache_bytes=bound, rate_limit=""
    )  # 2,000 requests of one key: more than the default rate limit allows
    requests = 2_000
    with ApiClient(create_app(settings, engine=engine), base_url=ORIGIN) as client:
        api = api_of(client)
        # Frozen: 2,000 requests outlast the one-second window, whose refresh would add the
        # site and key statements to the "answered from memory" checks below.
        api.directory = Directory(clock=FakeClock())
        headers = key_header(keys.alpha_read)

        def page(n: int) -> Response:
            return client.get(
                url("/locations", params=[("page[size]", "1"), ("page[number]", str(n))]),
                headers=headers,
            )

        expected = {1: ["downtown"], 2: ["uptown"]}
        for n in range(1, requests + 1):
            response = page(n)
            assert response.status_code == 200, response.text
            document = orjson.loads(response.content)
            assert [r["id"] for r in document["data"]] == expected.get(n, [])
            assert document["meta"] == {"record-count": 2}
            assert api.documents.size_bytes <= bound
        assert bound - 5_000 < api.documents.size_bytes <= bound  # full, not over
        kept = len(api.documents)
        assert 50 < kept < 200
        # The most recent pages are answered from memory, the first ones were evicted.
        with counting(engine) as statements:
            recent = page(requests)
        assert statements == []
        assert orjson.loads(recent.content)["data"] == []
        with counting(engine) as statements:
            evicted = page(1)
        assert statements
        assert [r["id"] for r in orjson.loads(evicted.content)["data"]] == ["downtown"]
        assert api.documents.size_bytes <= bound
        # Page 1 is larger than an empty page: it may push out two of them.
        assert kept - 2 <= len(api.documents) <= kept
        with counting(engine) as statements:
            assert page(1).content == evicted.content
        assert statements == []


# --- (g) availability is never served from memory -------------------------------------------


def next_monday() -> date:
    """A day the seed's ALPHA_S1 is open (Mondays 08:00-17:00 Chicago), in the future."""
    today = datetime.now(ZoneInfo("America/Chicago")).date()
    return today + timedelta(days=7 - today.weekday())


def availability(client: ApiClient, key: str, day: date) -> Response:
    return client.get(
        url(
            "/available-appointment-times",
            key,
            params=[
                ("schedule_ids[]", ALPHA_S1),
                ("appointment_type", "sick-visit"),
                ("from", day.isoformat()),
                ("to", day.isoformat()),
            ],
        )
    )


def offered(client: ApiClient, key: str, day: date) -> list[str]:
    response = availability(client, key, day)
    assert response.status_code == 200, response.text
    [entry] = response.json()
    assert entry["schedule-id"] == ALPHA_S1
    times: list[str] = entry["times"]
    return times


def hold(client: ApiClient, key: str, at: str) -> Response:
    return client.get(
        url(
            "/visit-token",
            key,
            params=[
                ("schedule_id", ALPHA_S1),
                ("appointment_at", at),
                ("appointment_type", "sick-visit"),
            ],
        )
    )


def test_availability_is_read_every_time_and_a_hold_is_seen_at_once(
    client: ApiClient, keys: Keys, engine: Engine
) -> None:
    day = next_monday()
    times = offered(client, keys.alpha_book, day)
    assert len(times) == 36  # 08:00-17:00 on a 15-minute grid
    first, second = times[0], times[1]
    for _ in range(2):
        with counting(engine) as statements:
            response = availability(client, keys.alpha_book, day)
        assert response.status_code == 200
        assert response.headers["cache-control"] == "no-cache"
        # Never from the response cache: each answer reads the seat-claims versions of
        # its schedules (the claims themselves only when they changed: kept_times.py).
        assert [s for s in statements if "seat_claim_versions" in s]
    assert len(api_of(client).documents) == 0
    token = hold(client, keys.alpha_book, first)
    assert token.status_code == 200, token.text
    assert token.headers["content-type"] == "application/jwt"
    assert offered(client, keys.alpha_book, day) == times[1:]
    assert offered(client, keys.alpha_read, day) == times[1:]
    # A booking on another time (a token, then POST /visits) is seen at once too.
    assert book(client, keys.alpha_book, second).status_code == 201
    assert offered(client, keys.alpha_book, day) == times[2:]
    assert len(api_of(client).documents) == 0


def test_a_cached_schedule_holds_nothing_a_booking_changes(
    client: ApiClient, keys: Keys, engine: Engine
) -> None:
    """The cached schedule document after a hold and a booking is byte for byte what a fresh
    render gives."""
    path = f"/schedules/{ALPHA_S1}"
    before = warm(client, path, keys.alpha_book)
    times = offered(client, keys.alpha_book, next_monday())
    assert hold(client, keys.alpha_book, times[0]).status_code == 200
    assert book(client, keys.alpha_book, times[1]).status_code == 201
    from_memory = cached(client, engine, path, keys.alpha_book)
    api = api_of(client)
    api.documents = ResponseCache(0)  # the full path, with nothing remembered
    api.directory = Directory()
    rendered = uncached(client, engine, path, keys.alpha_book)
    assert from_memory.content == rendered.content == before.content
    assert from_memory.headers["etag"] == rendered.headers["etag"]


def book(client: ApiClient, key: str, at: str) -> Response:
    """A visit at ``at``: its token, then POST /visits (the response of the POST)."""
    token = hold(client, key, at)
    assert token.status_code == 200, token.text
    return client.post(
        url("/visits"),
        content=orjson.dumps(_visit(at)),
        headers={"Authorization": f"Bearer {token.text}", "Content-Type": JSONAPI},
    )


def _visit(at: str) -> dict[str, Any]:
    return {
        "data": {
            "type": "visits",
            "attributes": {
                "appointment-at": at,
                "appointment-type": "sick-visit",
                "birthdate": "1985-06-15",
                "email": "pat@example.com",
                "first-name": "Pat",
                "last-name": "Cached",
                "gender": "female",
                "new-patient": "yes",
                "phone-number": "(615) 555-0100",
            },
            "relationships": {"schedule": {"data": {"type": "schedules", "id": ALPHA_S1}}},
        }
    }


def test_when_the_directory_lapses_a_cached_document_is_not_rendered_again(
    client: ApiClient, engine: Engine, keys: Keys, clock: FakeClock
) -> None:
    """Every second the tenant/key memo lapses and many requests take the threaded path
    at once: they check the site and key, then serve the cached bytes (the benchmark's
    p99 was 2.9 s for a 440 KB document while each of them rendered it again)."""
    first = warm(client, "/locations", keys.alpha_read)
    assert cached(client, engine, "/locations", keys.alpha_read).content == first.content
    clock.now += FRESH_SECONDS
    with counting(engine) as statements:
        again = get(client, "/locations", keys.alpha_read)
    assert again.status_code == 200
    assert again.content == first.content
    assert again.headers["etag"] == first.headers["etag"]
    tables = [s.split("FROM ", 1)[1].split()[0] for s in statements if "FROM " in s]
    assert tables == ["sites", "api_keys"]  # the site and the key; no location is read
    assert cached(client, engine, "/locations", keys.alpha_read).content == first.content


def test_a_cached_answer_has_the_headers_of_a_rendered_one(
    client: ApiClient, engine: Engine, keys: Keys
) -> None:
    """Cached reads are answered before Starlette's routing (web.fast_path.CachedReads):
    request id, CORS, content type and caching headers must still be those of the full
    path."""
    origin = {"Origin": "https://partner.example"}
    rendered = warm(client, "/locations", keys.alpha_read)
    assert rendered.headers["etag"]
    hit = cached(client, engine, "/locations", keys.alpha_read, **origin)
    assert hit.content == rendered.content
    for name in ("content-type", "content-length", "etag", "cache-control"):
        assert hit.headers[name] == rendered.headers[name], name
    assert hit.headers["access-control-allow-origin"] == "*"
    assert "ETag" in hit.headers["access-control-expose-headers"]
    assert len(hit.headers["x-request-id"]) == 32
    mine = cached(client, engine, "/locations", keys.alpha_read, **{"X-Request-Id": "trace-7"})
    assert mine.headers["x-request-id"] == "trace-7"
    not_modified = cached(
        client, engine, "/locations", keys.alpha_read, **{"If-None-Match": rendered.headers["etag"]}
    )
    assert not_modified.status_code == 304
    assert not_modified.content == b""
    assert not_modified.headers["etag"] == rendered.headers["etag"]
    assert not_modified.headers["cache-control"] == CATALOG_CACHE
    # Refusals are the app's, with their own headers, even for a cached URL.
    refused = get(client, "/locations", keys.alpha_read, Accept="application/vnd.api+json; x=1")
    assert refused.status_code == 406
    assert refused.headers["cache-control"] == "no-store"
