"""The Winter Health demo behind an app, with a key and one booked visit, for the OpenAPI tests."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker
from starlette.applications import Starlette

from inquicker.app import create_app
from inquicker.settings import Settings
from tests.booking_http.helpers import book, ny
from tests.booking_http.world import CHEN_PC, HOST, Clock, World, build
from tests.conftest import ApiClient


@dataclass(frozen=True)
class Demo:
    app: Starlette
    client: ApiClient
    world: World
    visit_id: str
    # resource type -> a few ids of the demo (first page of its list)
    ids: dict[str, list[str]]


@pytest.fixture
def demo(engine: Engine, session_factory: sessionmaker[Session]) -> Iterator[Demo]:
    with session_factory() as session, session.begin():
        world = build(session)
    app = create_app(Settings(env="test", access_log=False), engine=engine, clock=Clock())
    with ApiClient(app, base_url="http://testserver") as client:
        # Tuesday 1 December, 10:00 New York: Dr Chen's first bookable start (world.py).
        visit = book(client, world.book, CHEN_PC, ny(1, "10:00"))
        ids: dict[str, list[str]] = {}
        for resource in app.state.api.registry:
            listing = client.get(
                f"/api/v3/{HOST}/{resource.type}",
                params={"page[size]": "3", "api_key": world.book},
            )
            assert listing.status_code == 200, listing.text
            ids[resource.type] = [r["id"] for r in listing.json()["data"]]
        yield Demo(app, client, world, visit["id"], ids)


def document(client: Any) -> dict[str, Any]:
    response = client.get("/api/v3/openapi.json")
    assert response.status_code == 200
    doc: dict[str, Any] = response.json()
    return doc
