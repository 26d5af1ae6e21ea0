"""Fixtures of the search tests: the purpose-built search tenant (tests/search/fixture.py)."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session, sessionmaker

from tests.search.fixture import SearchKeys, build


@pytest.fixture
def search(session_factory: sessionmaker[Session]) -> SearchKeys:
    with session_factory() as session, session.begin():
        return build(session)
