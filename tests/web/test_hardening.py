"""Issue 11 findings, each reproduced with the exact request (both engines where a database
is involved): query parameters, page links, one field namespace, error caps, methods,
WebSockets, size limits, JSON depth, year bounds, token claims, maintenance, booking switch,
database trouble and rate limits."""

from __future__ import annotations

import threading
import time
from typing import Any

import jwt
import pytest
from sqlalchemy import Engine, update
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import WebSocketDenialResponse

from inquicker.app import create_app
from inquicker.catalog.registry import build_registry
from inquicker.db.engine import DbTimeouts, make_engine
from inquicker.jsonapi.routing import Route
from inquicker.settings import DEV_SECRET, Settings
from inquicker.tenancy.keys import create_key
from inquicker.tenancy.models import HealthSystem
from inquicker.web.maintenance import set_state
from tests.api.helpers import ALPHA_BASE, key_header, url
from tests.conftest import IN_CI, ApiClient
from tests.support.jsonapi import assert_valid_document
from tests.support.routes import TABLE, concrete, required_query
from tests.support.seed import ALPHA_HOST, ALPHA_S1, Keys

JSONAPI = "application/vnd.api+json"


def errors_of(response, status: int) -> list[dict]:  # type: ignore[no-untyped-def,type-arg]
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == JSONAPI
    assert_valid_document(response.json())
    return response.json()["errors"]  # type: ignore[no-any-return]


# --- item 4: parameters and page links ------------------------------------------------------


def test_unknown_query_parameter_is_400_naming_it(client: ApiClient, keys: Keys) -> None:
    response = client.get(url("/locations", keys.alpha_read, params={"filtr[city]": "x"}))
    [error] = errors_of(response, 400)
    assert error["code"] == "unknown-parameter"
    assert error["source"] == {"parameter": "filtr[city]"}


def test_bare_underscore_cache_buster_is_ignored(client: ApiClient, keys: Keys) -> None:
    response = client.get(url("/locations", keys.alpha_read, params={"_": "1700000000000"}))
    assert response.status_code == 200


# Every GET route of the route table that takes an API key (visit routes read tokens first).
KEYED_GETS = [r for r in TABLE if r.scope is not None and "GET" in r.methods]


@pytest.mark.parametrize("route", KEYED_GETS, ids=lambda r: r.template)
def test_every_route_names_an_unknown_parameter(
    client: ApiClient, keys: Keys, route: Route[Any]
) -> None:
    params = {**required_query(route), "nonce": "x"}
    response = client.get(url(concrete(route), keys.alpha_book, params=params))
    assert {"parameter": "nonce"} in [e.get("source") for e in errors_of(response, 400)]


def test_appointment_type_alias_on_availability(client: ApiClient, keys: Keys) -> None:
    params = {"schedule_ids[]": ALPHA_S1, "appointment-type": "no-such-type"}
    [error] = errors_of(
        client.get(url("/available-appointment-times", keys.alpha_read, params=params)), 400
    )
    assert error["source"] == {"parameter": "appointment_type"}


def test_page_links_are_percent_encoded(client: ApiClient, keys: Keys) -> None:
    doc = client.get(
        url("/locations", params={"page[size]": "1"}), headers=key_header(keys.alpha_read)
    ).json()
    assert doc["links"]["next"] == f"{ALPHA_BASE}/locations?page%5Bnumber%5D=2&page%5Bsize%5D=1"
    assert "[" not in "".join(doc["links"].values())


def test_page_offset_and_limit(client: ApiClient, keys: Keys) -> None:
    headers = key_header(keys.alpha_read)
    full = client.get(url("/locations"), headers=headers).json()
    doc = client.get(
        url("/locations", params={"page[offset]": "1", "page[limit]": "1"}), headers=headers
    ).json()
    assert [r["id"] for r in doc["data"]] == [r["id"] for r in full["data"]][1:2]
    assert doc["links"]["first"] == f"{ALPHA_BASE}/locations?page%5Boffset%5D=0&page%5Blimit%5D=1"
    assert doc["links"]["prev"] == doc["links"]["first"]


# --- item 3: one field namespace ------------------------------------------------------------


def test_no_attribute_shares_a_name_with_a_relationship() -> None:
    for resource in build_registry():
        attributes = {a.name for a in resource.attributes}
        assert not attributes & {r.name for r in resource.relationships}, resource.type


def test_schedule_service_is_the_name_and_service_resource_the_link(
    client: ApiClient, keys: Keys
) -> None:
    doc = client.get(
        url(f"/schedules/{ALPHA_S1}", keys.alpha_read, params={"include": "service-resource"})
    ).json()
    assert doc["data"]["attributes"]["service"] == "Primary Care"
    assert doc["data"]["relationships"]["service-resource"]["data"] == {
        "type": "services",
        "id": "primary-care",
    }
    assert "service" not in doc["data"]["relationships"]
    # The former relationship URL still answers, as an alias.
    old = client.get(url(f"/schedules/{ALPHA_S1}/service", keys.alpha_read)).json()
    assert old["data"]["id"] == "primary-care"


# --- item 8: error cap, body/header limits, depth, years, token claims ----------------------


def test_at_most_20_errors_and_the_rest_counted(client: ApiClient, keys: Keys) -> None:
    sort = ",".join(f"bad{n}" for n in range(30))
    response = client.get(url("/locations", keys.alpha_read, params={"sort": sort}))
    assert len(errors_of(response, 400)) == 20
    assert response.json()["meta"] == {"omitted-errors": 10}


def test_repeated_sort_term_is_one_error(client: ApiClient, keys: Keys) -> None:
    response = client.get(
        url("/locations", keys.alpha_read, params={"sort": ",".join(["a"] * 2000)})
    )
    assert len(errors_of(response, 400)) == 1
    assert len(response.content) < 1000


def test_declared_oversized_body_is_413_before_reading(client: ApiClient) -> None:
    response = client.post(
        "/api/v3/unknown.example.com/visits",
        content=b"x" * (64 * 1024 + 1),
        headers={"Content-Type": JSONAPI},
    )
    [error] = errors_of(response, 413)
    assert error["code"] == "body-too-large"
    assert response.headers["connection"] == "close"


def test_streamed_oversized_body_is_413(client: ApiClient) -> None:
    def chunks():  # type: ignore[no-untyped-def]
        for _ in range(100):
            yield b"x" * 4096

    response = client.post(
        "/api/v3/unknown.example.com/visits", content=chunks(), headers={"Content-Type": JSONAPI}
    )
    assert errors_of(response, 413)[0]["code"] == "body-too-large"


def test_oversized_headers_are_431(client: ApiClient) -> None:
    response = client.get("/api/v3/unknown.example.com/locations", headers={"X-Big": "y" * 17_000})
    assert errors_of(response, 431)[0]["code"] == "headers-too-large"


def test_deeply_nested_json_is_400(client: ApiClient, keys: Keys) -> None:
    body = b'{"data":' + b"[" * 1000 + b"]" * 1000 + b"}"
    response = client.post(
        f"/api/v3/{ALPHA_HOST}/visits",
        content=body,
        headers={"Content-Type": JSONAPI, "Authorization": "Bearer x"},
    )
    assert errors_of(response, 400)[0]["code"] == "too-deep"


@pytest.mark.parametrize("at", ["9999-12-31T23:59:59Z", "0001-01-01T00:00:00Z"])
def test_visit_token_years_out_of_range_are_400(client: ApiClient, keys: Keys, at: str) -> None:
    params = {"schedule_id": ALPHA_S1, "appointment_at": at}
    [error] = errors_of(client.get(url("/visit-token", keys.alpha_book, params=params)), 400)
    assert error["source"] == {"parameter": "appointment_at"}


def test_nul_in_token_claims_is_401(client: ApiClient, keys: Keys) -> None:
    token = jwt.encode(
        {
            "data": {"schedule_id": ALPHA_S1, "appointment_at": "2030-01-01T09:00:00-05:00"},
            "aud": ALPHA_HOST,
            "iat": int(time.time()),
            "exp": int(time.time()) + 600,
            "jti": "abc\x00def",
        },
        DEV_SECRET,
        algorithm="HS256",
    )
    body = {
        "data": {
            "type": "visits",
            "attributes": {"appointment-at": "2030-01-01T09:00:00-05:00"},
            "relationships": {"schedule": {"data": {"type": "schedules", "id": ALPHA_S1}}},
        }
    }
    response = client.post(
        f"/api/v3/{ALPHA_HOST}/visits",
        json=body,
        headers={"Content-Type": JSONAPI, "Authorization": f"Bearer {token}"},
    )
    assert errors_of(response, 401)[0]["code"] == "malformed-token"


# --- item 9: methods and WebSockets ---------------------------------------------------------


@pytest.mark.parametrize("method", ["PROPFIND", "TRACE", "OPTIONS", "PUT", "BREW"])
def test_every_method_name_is_405_with_allow(client: ApiClient, keys: Keys, method: str) -> None:
    response = client.request(method, url("/locations", keys.alpha_read))
    [error] = errors_of(response, 405)
    assert error["code"] == "method-not-allowed"
    assert response.headers["allow"] == "GET, HEAD"


def test_healthz_wrong_method_keeps_allow(client: ApiClient) -> None:
    response = client.request("PROPFIND", "/healthz")
    assert errors_of(response, 405)[0]["code"] == "method-not-allowed"
    assert response.headers["allow"] == "GET, HEAD"


def test_websocket_upgrade_is_a_jsonapi_error(client: ApiClient) -> None:
    with (
        pytest.raises(WebSocketDenialResponse) as denied,
        client.websocket_connect(f"/api/v3/{ALPHA_HOST}/locations"),
    ):
        pass
    response = denied.value
    assert response.status_code == 400
    assert response.headers["content-type"] == JSONAPI
    assert response.headers["x-request-id"]
    assert response.json()["errors"][0]["code"] == "websocket-not-supported"


# --- item 7: maintenance mode and the booking switch ----------------------------------------


def test_maintenance_mode(
    engine: Engine, settings: Settings, keys: Keys, session_factory: sessionmaker[Session]
) -> None:
    app = create_app(settings, engine=engine)
    with ApiClient(app) as client:
        with session_factory() as session, session.begin():
            set_state(session, True, retry_after=120)
        app.state.maintenance.expire()
        response = client.get(url("/locations", keys.alpha_read))
        assert errors_of(response, 503)[0]["code"] == "maintenance"
        assert response.headers["retry-after"] == "120"
        assert client.get("/healthz").json() == {"status": "ok", "maintenance": True}
        ready = client.get("/readyz")
        assert (ready.status_code, ready.json()["status"]) == (503, "maintenance")
        with session_factory() as session, session.begin():
            set_state(session, False)
        app.state.maintenance.expire()
        assert client.get(url("/locations", keys.alpha_read)).status_code == 200


def test_booking_disabled_is_403(
    engine: Engine, settings: Settings, keys: Keys, session_factory: sessionmaker[Session]
) -> None:
    with session_factory() as session, session.begin():
        session.execute(update(HealthSystem).values(booking_enabled=False))
    with ApiClient(create_app(settings, engine=engine)) as client:
        params = {"schedule_id": ALPHA_S1, "appointment_at": "2030-01-07T09:00:00-05:00"}
        response = client.get(url("/visit-token", keys.alpha_book, params=params))
        assert errors_of(response, 403)[0]["code"] == "booking-disabled"


# --- item 11: a locked database is a bounded 503 --------------------------------------------


def test_locked_database_is_503_within_the_bound(
    engine: Engine, settings: Settings, keys: Keys
) -> None:
    timeouts = DbTimeouts(sqlite_busy_ms=300, lock_ms=300, statement_ms=2000, pool_seconds=2)
    bounded = make_engine(engine.url.render_as_string(hide_password=False), timeouts)
    holder = engine.raw_connection()  # a second client holding the lock, outside the app
    try:
        cursor = holder.cursor()
        if engine.dialect.name == "sqlite":
            cursor.execute("BEGIN EXCLUSIVE")  # even WAL readers wait
        else:
            cursor.execute("LOCK TABLE api_keys IN ACCESS EXCLUSIVE MODE")
        with ApiClient(create_app(settings, engine=bounded)) as client:
            results: list[float] = []

            def slow() -> None:
                started = time.perf_counter()
                # A booking write: SQLite (WAL) blocks writers only; PostgreSQL's lock blocks the
                # key lookup of any route.
                params = {"schedule_id": ALPHA_S1, "appointment_at": "2030-01-07T09:00:00-05:00"}
                response = client.get(url("/visit-token", keys.alpha_book, params=params))
                assert errors_of(response, 503)[0]["code"] == "database-unavailable"
                assert response.headers["retry-after"] == "2"
                results.append(time.perf_counter() - started)

            worker = threading.Thread(target=slow)
            worker.start()
            time.sleep(0.1)
            assert client.get("/healthz").status_code == 200
            # Answered while the booking still waits on the lock (≥ 300 ms): /healthz never
            # waits for the database. (Not a timing of /healthz: a loaded machine is slow.)
            assert worker.is_alive()
            worker.join(10)
            assert results and results[0] < 3
    finally:
        holder.rollback()
        holder.close()
        bounded.dispose()


# --- item 13: rate limits -------------------------------------------------------------------


def _limited_key(session_factory: sessionmaker[Session], rate: str) -> str:
    with session_factory() as session, session.begin():
        return create_key(session, ALPHA_HOST, "limited", ("read",), rate).secret


def test_rate_limit_headers_and_429(
    engine: Engine, settings: Settings, keys: Keys, session_factory: sessionmaker[Session]
) -> None:
    key = _limited_key(session_factory, "3/minute")
    with ApiClient(create_app(settings, engine=engine)) as client:
        seen = [client.get(url("/locations"), headers=key_header(key)) for _ in range(3)]
        assert [r.status_code for r in seen] == [200, 200, 200]
        assert [r.headers["ratelimit-remaining"] for r in seen] == ["2", "1", "0"]
        assert {r.headers["ratelimit-limit"] for r in seen} == {"3"}
        assert 0 < int(seen[0].headers["ratelimit-reset"]) <= 60
        refused = client.get(url("/locations"), headers=key_header(key))
        assert errors_of(refused, 429)[0]["code"] == "rate-limited"
        assert 1 <= int(refused.headers["retry-after"]) <= 60
        # Other keys keep their own budget (the server's default).
        other = client.get(url("/locations"), headers=key_header(keys.alpha_read))
        assert other.headers["ratelimit-limit"] == "600"


def test_rate_limit_shared_through_redis(
    engine: Engine, keys: Keys, session_factory: sessionmaker[Session]
) -> None:
    redis = pytest.importorskip("redis")
    try:
        redis.Redis.from_url("redis://127.0.0.1:6379").ping()
    except redis.RedisError:
        if IN_CI:  # CI machines run Redis: its absence there is a failure
            raise
        pytest.skip("Redis not reachable at 127.0.0.1:6379")
    key = _limited_key(session_factory, "4/minute")
    shared = Settings(env="test", access_log=False, rate_limit_storage="redis://127.0.0.1:6379")
    with (
        ApiClient(create_app(shared, engine=engine)) as one,
        ApiClient(create_app(shared, engine=engine)) as two,
    ):
        statuses = [
            c.get(url("/locations"), headers=key_header(key)).status_code
            for c in (one, two, one, two, one)
        ]
    assert statuses == [200, 200, 200, 200, 429]


# --- item 10: availability is bounded by a cell budget --------------------------------------


def test_availability_over_budget_is_400_saying_how_to_narrow(
    engine: Engine, settings: Settings, keys: Keys, session_factory: sessionmaker[Session]
) -> None:
    from inquicker.availability import endpoint as availability

    with ApiClient(create_app(settings, engine=engine)) as client:
        params = {"schedule_ids[]": ALPHA_S1, "from": "2030-01-01", "to": "2030-03-31"}
        assert (
            client.get(
                url("/available-appointment-times", keys.alpha_read, params=params)
            ).status_code
            == 200
        )
        budget = availability.CELL_BUDGET
        availability.CELL_BUDGET = 100  # one schedule x 90 days is far more cells than this
        try:
            response = client.get(
                url("/available-appointment-times", keys.alpha_read, params=params)
            )
        finally:
            availability.CELL_BUDGET = budget
    [error] = errors_of(response, 400)
    assert error["code"] == "over-budget"
    assert error["source"] == {"parameter": "to"}
    assert "fewer schedules, or a shorter window" in error["detail"]
