"""Fixtures: the availability data set and a client whose clock is fixed at NOW."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from inquicker.app import create_app
from inquicker.settings import Settings
from tests.availability_http.fixture import NOW, Avail, build
from tests.conftest import ApiClient


@pytest.fixture
def avail(session_factory: sessionmaker[Session]) -> Avail:
    with session_factory() as session, session.begin():
        return build(session)


@pytest.fixture
def api(engine: Engine, settings: Settings, avail: Avail) -> Iterator[ApiClient]:
    app = create_app(settings, engine=engine, clock=lambda: NOW)
    with ApiClient(app, base_url="http://testserver", raise_server_exceptions=False) as c:
        yield c
