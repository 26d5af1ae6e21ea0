"""HTTP protocol behaviour (SPEC §3, §8): methods, unknown routes, negotiation, health, logs."""

from __future__ import annotations

import logging
import re

import pytest

from inquicker.db.migrate import schema_head
from inquicker.settings import Settings
from tests.api.helpers import JSONAPI, ids, key_header, only_error, url
from tests.support.routes import TABLE, concrete, templates
from tests.support.seed import ALPHA_S1

CATALOG_ROUTES = [
    "/locations",
    "/locations/downtown",
    "/locations/downtown/schedules",
    "/locations/downtown/relationships/schedules",
    "/schedules",
    f"/schedules/{ALPHA_S1}",
    f"/schedules/{ALPHA_S1}/provider",
    f"/schedules/{ALPHA_S1}/relationships/insurance-plans",
    "/appointment_types",
    "/providers/dr-smith",
]
# Every method name a client might send, the unknown ones included.
METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "PROPFIND", "BREW"]
TEMPLATES = templates()


# --- methods -------------------------------------------------------------------------------


@pytest.mark.parametrize("template", sorted(TEMPLATES))
def test_every_route_of_the_table_answers_other_methods_405_with_allow(client, keys, template):
    """Read from the route table the app dispatches with: each method it does not list for
    the template is 405, and Allow names exactly those it lists."""
    allowed = TEMPLATES[template]
    route = next(r for r in TABLE if r.template == template)
    path = url(concrete(route), keys.alpha_read)
    for method in METHODS:
        if method in allowed:
            continue
        response = client.request(
            method,
            path,
            content=b'{"data":{"type":"locations"}}',
            headers={"Content-Type": JSONAPI},
        )
        if method == "HEAD":  # the same answer without its body
            assert response.status_code == 405
        else:
            assert only_error(response, 405)["code"] == "method-not-allowed"
        assert response.headers["allow"] == ", ".join(sorted(allowed)), method


def test_the_table_allows_what_the_spec_says():
    """A few templates pinned by hand, so a change to the table itself is noticed."""
    assert TEMPLATES["/locations"] == {"GET", "HEAD"}
    assert TEMPLATES["/visits"] == {"POST"}
    assert TEMPLATES["/visits/{id}"] == {"GET", "HEAD", "PATCH"}
    assert TEMPLATES["/visit-token"] == {"GET"}
    assert TEMPLATES["/available-appointment-times/explain"] == {"GET", "HEAD"}


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE", "BREW"])
@pytest.mark.parametrize("path", CATALOG_ROUTES)
def test_wrong_method_is_405_with_allow(client, keys, method, path):
    response = client.request(
        method,
        url(path, keys.alpha_read),
        content=b'{"data":{"type":"locations"}}',
        headers={"Content-Type": JSONAPI},
    )
    err = only_error(response, 405)
    assert err["code"] == "method-not-allowed"
    assert response.headers["allow"] == "GET, HEAD"


def test_head_is_served(client, keys):
    response = client.head(url("/locations", keys.alpha_read))
    assert response.status_code == 200
    assert response.headers["content-type"] == JSONAPI
    assert response.content == b""


# --- unknown routes ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/api/v3/alpha.example.com/nope",
        "/api/v3/alpha.example.com/locationz",
        "/api/v3/alpha.example.com",
        "/api/v3/alpha.example.com/",
        "/api/v3/alpha.example.com/locations/downtown/schedules/extra",
        "/api/v3/alpha.example.com/locations/downtown/relationships/schedules/extra",
        "/api/v3/alpha.example.com/locations/nowhere",
        "/v3/alpha.example.com/nope",
        "/api/v2/alpha.example.com/locations",
        "/nope",
    ],
)
def test_unknown_route_is_jsonapi_404(client, keys, path):
    response = client.get(path, headers=key_header(keys.alpha_read))
    err = only_error(response, 404)
    assert err["code"] == "not-found"


def test_unknown_route_is_404_before_authentication(client, keys):
    err = only_error(client.get(url("/nope")), 404)
    assert err["code"] == "not-found"


# --- content negotiation -------------------------------------------------------------------


@pytest.mark.parametrize(
    "accept",
    [
        None,
        "*/*",
        "application/json",
        JSONAPI,
        "application/*",
        f"{JSONAPI}; charset=utf-8, application/json",
        f"{JSONAPI}; charset=utf-8, {JSONAPI}",
        f'{JSONAPI}; ext="https://jsonapi.org/ext/atomic"',
        f'{JSONAPI}; profile="https://example.com/profile"',
        f"{JSONAPI};q=0.9",
        "text/html, */*;q=0.1",
    ],
)
def test_accept_served(client, keys, accept):
    headers = key_header(keys.alpha_read)
    if accept is not None:
        headers["Accept"] = accept
    response = client.get(url("/locations"), headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == JSONAPI
    assert ids(response.json()) == ["downtown", "uptown"]


@pytest.mark.parametrize(
    "accept",
    [
        f"{JSONAPI}; charset=utf-8",
        f"{JSONAPI};charset=utf-8",
        f"{JSONAPI}; version=1",
        f"{JSONAPI}; charset=utf-8, {JSONAPI}; foo=bar",
    ],
)
def test_accept_jsonapi_only_with_foreign_parameters_is_406(client, keys, accept):
    headers = {**key_header(keys.alpha_read), "Accept": accept}
    err = only_error(client.get(url("/locations"), headers=headers), 406)
    assert err["code"] == "not-acceptable"
    assert err["source"] == {"header": "Accept"}


@pytest.mark.parametrize("path", ["/locations", f"/schedules/{ALPHA_S1}", "/nope"])
def test_responses_are_jsonapi_media_type(client, keys, path):
    response = client.get(url(path, keys.alpha_read))
    assert response.headers["content-type"] == JSONAPI


def test_error_responses_are_jsonapi_media_type(client, keys):
    response = client.get(url("/locations"))
    assert response.status_code == 401
    assert response.headers["content-type"] == JSONAPI
    assert response.json()["errors"][0]["status"] == "401"


# --- health checks -------------------------------------------------------------------------


def test_healthz(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert response.json() == {"status": "ok", "maintenance": False}


def test_readyz(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert response.json() == {"status": "ok", "database": "ok", "schema": schema_head()}
    assert schema_head() == "0014"


def test_readyz_refuses_a_database_behind_the_code(settings, tmp_path):
    from sqlalchemy import text

    from inquicker.app import create_app
    from inquicker.db.engine import make_engine
    from tests.conftest import ApiClient

    engine = make_engine(f"sqlite:///{tmp_path}/old.db")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE alembic_version (version_num VARCHAR(32))"))
        conn.execute(text("INSERT INTO alembic_version VALUES ('0001')"))
    with ApiClient(create_app(settings, engine=engine)) as client:
        response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["schema"] == "0001"
    assert response.json()["expected"] == "0014"


# --- request ids and the access log --------------------------------------------------------


def test_every_response_has_a_request_id(client, keys):
    for path in (url("/locations", keys.alpha_read), url("/locations"), "/healthz", "/nope"):
        response = client.get(path)
        assert re.fullmatch(r"[0-9a-f]{32}", response.headers["x-request-id"]), path


def test_incoming_request_id_is_echoed(client, keys):
    response = client.get(url("/locations", keys.alpha_read), headers={"X-Request-Id": "abc-123"})
    assert response.headers["x-request-id"] == "abc-123"


class TestAccessLog:
    @pytest.fixture
    def settings(self) -> Settings:
        return Settings(env="test", access_log=True)

    def _access_records(self, caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
        return [r for r in caplog.records if r.name == "inquicker.access"]

    def test_access_log_has_path_without_query_and_the_request_id(self, client, keys, caplog):
        caplog.set_level(logging.INFO)
        response = client.get(url("/locations", keys.alpha_read, params={"sort": "-name"}))
        assert response.status_code == 200
        [record] = self._access_records(caplog)
        assert record.path == "/api/v3/alpha.example.com/locations"
        assert record.method == "GET"
        assert record.status == 200
        assert record.request_id == response.headers["x-request-id"]
        assert isinstance(record.duration_ms, float)

    @pytest.mark.parametrize(
        "spelling",
        ["query", "authorization", "x-api-key"],
    )
    def test_api_key_is_never_logged(self, client, keys, caplog, spelling):
        caplog.set_level(logging.DEBUG)
        key = keys.alpha_read
        headers = {
            "authorization": {"Authorization": f"Bearer {key}"},
            "x-api-key": {"X-Api-Key": key},
        }
        path = url("/locations", key if spelling == "query" else None)
        assert client.get(path, headers=headers.get(spelling, {})).status_code == 200
        # Also a refused request carrying a (wrong-site) key.
        assert client.get(url("/locations", keys.beta_read)).status_code == 401
        assert len(self._access_records(caplog)) == 2
        # Everything the server logged (the test client's own httpx log is not the server's).
        server = [r for r in caplog.records if not r.name.startswith("httpx")]
        for record in server:
            rendered = f"{record.getMessage()} {record.__dict__}"
            assert key not in rendered
            assert keys.beta_read not in rendered

    def test_error_responses_are_logged_with_status(self, client, keys, caplog):
        caplog.set_level(logging.INFO)
        client.get(url("/locations"))
        client.post(url("/locations", keys.alpha_read))
        statuses = [r.status for r in self._access_records(caplog)]
        assert statuses == [401, 405]


def test_access_log_disabled_by_test_settings(client, keys, caplog):
    caplog.set_level(logging.INFO)
    assert client.get(url("/locations", keys.alpha_read)).status_code == 200
    assert not [r for r in caplog.records if r.name == "inquicker.access"]


# --- hostile input is refused, never a 500 (SPEC §9) --------------------------------------

ALPHA = "/api/v3/alpha.example.com"


@pytest.mark.parametrize(
    ("path", "status", "parameter"),
    [
        (f"{ALPHA}/locations/a%00b", 404, None),
        (f"{ALPHA}/schedules/a%00b/location", 404, None),
        (f"{ALPHA}/schedules/a%00b/relationships/location", 404, None),
        ("/api/v3/al%00pha.example.com/locations", 404, None),
        (f"{ALPHA}/locations/%FF%FE", 404, None),
        (f"{ALPHA}/locations/{'x' * 5000}", 404, None),
        (f"/api/v3/{'h' * 5000}.example.com/locations", 404, None),
        (f"{ALPHA}/appointment-types?filter[service]=a%00b", 400, "filter[service]"),
        (f"{ALPHA}/appointment-types?filter[context]=a%00b", 400, "filter[context]"),
        (f"{ALPHA}/appointment-types?filter=%7B%22service%22%3A%22a%5Cu0000b%22%7D", 400, None),
        (f"{ALPHA}/locations?page[size]=%C2%B2", 400, "page[size]"),  # superscript two
        (f"{ALPHA}/locations?page[number]=%C2%B2", 400, "page[number]"),
        (f"{ALPHA}/locations?page[size]=%EF%BC%91", 400, "page[size]"),  # fullwidth one
        (f"{ALPHA}/locations?page[number]=99999999999999999999", 400, "page[number]"),
        (f"{ALPHA}/locations?sort=%00", 400, "sort"),
        (f"{ALPHA}/locations?include=%00", 400, "include"),
    ],
)
def test_hostile_input_is_refused_never_500(client, keys, path, status, parameter):
    response = client.get(path, headers=key_header(keys.alpha_read))
    err = only_error(response, status)
    if parameter is not None:
        assert err["source"] == {"parameter": parameter}


def test_nul_in_api_key_is_401(client, keys):
    response = client.get(f"{ALPHA}/locations?api_key=a%00b")
    assert only_error(response, 401)["code"] == "unauthorized"
