"""Shared fixtures: every database-touching test runs on SQLite and on PostgreSQL.

Each test session creates its own PostgreSQL database (and drops it afterwards), because the
server outlives a run. Locally, PostgreSQL tests skip with a reason when no server answers;
in CI (CI=true) an unreachable server is a failure, never a skip.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import hypothesis
import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from inquicker.db.engine import make_engine, make_sessionmaker
from inquicker.db.migrate import upgrade
from inquicker.db.models import Base

PG_ADMIN_URL = os.environ.get(
    "INQUICKER_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")

# CI runs on a shared two-core machine: the same examples every run (a failure reproduces),
# and no failure because generating data or one example was slow there. Tests that set their
# own @settings inherit the rest of the profile.
hypothesis.settings.register_profile(
    "ci",
    derandomize=True,
    deadline=None,
    suppress_health_check=[hypothesis.HealthCheck.too_slow],
)
if IN_CI:
    hypothesis.settings.load_profile("ci")


def _pg_admin() -> Engine:
    return create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")


@pytest.fixture(scope="session")
def _sqlite_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    path: Path = tmp_path_factory.mktemp("db") / "test.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def _pg_engine() -> Iterator[Engine]:
    admin = _pg_admin()
    name = f"iq_test_{uuid.uuid4().hex[:12]}"
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except OperationalError as exc:
        admin.dispose()
        if IN_CI:
            raise
        pytest.skip(f"PostgreSQL not reachable at {PG_ADMIN_URL}: {exc.orig}")
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    engine = make_engine(url)
    try:
        upgrade(engine)
        yield engine
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _wipe(engine: Engine) -> None:
    with engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(table.delete())


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest) -> Iterator[Engine]:
    """A migrated, empty database on each backend."""
    fixture = "_sqlite_engine" if request.param == "sqlite" else "_pg_engine"
    eng: Engine = request.getfixturevalue(fixture)
    _wipe(eng)
    yield eng


@pytest.fixture
def session_factory(engine: Engine) -> sessionmaker[Session]:
    return make_sessionmaker(engine)


# --- HTTP fixtures -------------------------------------------------------------------------

from starlette.testclient import TestClient  # noqa: E402

from inquicker.app import create_app  # noqa: E402
from inquicker.settings import Settings  # noqa: E402
from tests.support.jsonapi import assert_valid_document  # noqa: E402
from tests.support.seed import Keys, seed  # noqa: E402

JSONAPI = "application/vnd.api+json"


class ApiClient(TestClient):
    """A TestClient that validates every JSON:API response against the official schema."""

    def request(self, *args, **kwargs):  # type: ignore[no-untyped-def,override]
        response = super().request(*args, **kwargs)
        if response.headers.get("content-type", "").startswith(JSONAPI) and response.content:
            assert_valid_document(response.json())
        return response


@pytest.fixture
def settings() -> Settings:
    return Settings(env="test", access_log=False)


@pytest.fixture
def client(engine: Engine, settings: Settings) -> Iterator[ApiClient]:
    app = create_app(settings, engine=engine)
    with ApiClient(app, base_url="http://testserver") as c:
        yield c


@pytest.fixture
def keys(session_factory: sessionmaker[Session]) -> Keys:
    """The two-tenant data set of tests/support/seed.py."""
    with session_factory() as session, session.begin():
        return seed(session)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked ``postgres`` run only with the PostgreSQL engine: their SQLite variant is
    deselected (not skipped), so CI's summary never shows a skip for them."""
    kept: list[pytest.Item] = []
    dropped: list[pytest.Item] = []
    for item in items:
        callspec = getattr(item, "callspec", None)
        engine = callspec.params.get("engine") if callspec is not None else None
        if item.get_closest_marker("postgres") is not None and engine == "sqlite":
            dropped.append(item)
        else:
            kept.append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept
