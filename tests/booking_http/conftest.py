"""Fixtures: the demo plus another tenant, and clients whose clock the test controls."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from inquicker.app import create_app
from inquicker.settings import Settings
from tests.booking_http.world import Clock, World, build
from tests.conftest import ApiClient

MakeApi = Callable[..., ApiClient]


@pytest.fixture
def world(session_factory: sessionmaker[Session]) -> World:
    with session_factory() as session, session.begin():
        return build(session)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def make_api(engine: Engine, clock: Clock, world: World) -> Iterator[MakeApi]:
    """A client of an app built with these settings (test defaults otherwise), on ``clock``."""
    with ExitStack() as stack:

        def make(**overrides: object) -> ApiClient:
            values: dict[str, object] = {"env": "test", "access_log": False, **overrides}
            settings = Settings(**values)  # type: ignore[arg-type]
            app = create_app(settings, engine=engine, clock=clock)
            return stack.enter_context(ApiClient(app, base_url="http://testserver"))

        yield make


@pytest.fixture
def api(make_api: MakeApi) -> ApiClient:
    return make_api()
