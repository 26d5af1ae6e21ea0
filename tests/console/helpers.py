"""Console requests over HTTP (no browser): log in through the form, post with the CSRF
token, and the rows the route tests act on."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from inquicker.bundle.exporter import export_bundle
from inquicker.bundle.io import dumps_document
from inquicker.events.fanout import fan_out
from inquicker.events.models import WebhookDelivery
from inquicker.events.sequencer import assign_positions
from inquicker.events.subscriptions import create_subscription
from inquicker.tenancy.keys import create_key
from tests.booking_http.helpers import book, ny
from tests.booking_http.world import CHEN_PC, HOST, NOW_EPOCH, World
from tests.conftest import ApiClient
from tests.operators.conftest import PASSWORD

CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def login(api: ApiClient, who: str) -> str:
    """Log in through the console's form; the session's CSRF token."""
    page = api.get("/admin/login")
    token = CSRF.search(page.text)
    assert token is not None
    form = {"csrf": token.group(1), "email": who, "password": PASSWORD, "next": "/admin/"}
    response = api.post("/admin/login", data=form, follow_redirects=False)
    assert response.status_code == 303, response.text
    home = api.get("/admin/")  # visits, or the audit log for an auditor
    found = CSRF.search(home.text)
    assert found is not None, home.text
    return found.group(1)


@dataclass(frozen=True)
class Targets:
    """Winter Health rows that every id route of the console is tried on."""

    visit_id: str
    key_id: str
    subscription_id: str
    delivery_pk: int
    bundle: bytes  # winter-health's own bundle, as exported


def make_targets(
    api: ApiClient, world: World, engine: Engine, session_factory: sessionmaker[Session]
) -> Targets:
    with session_factory() as session, session.begin():
        key_id = create_key(session, HOST, "route test", ("read",)).key_id
        sub = create_subscription(session, "winter-health", "https://hooks.example.org/in")
    visit = book(api, world.book, CHEN_PC, ny(1, "10:00"))
    with engine.begin() as conn:
        assign_positions(conn)
    with engine.begin() as conn:
        fan_out(conn, NOW_EPOCH)
    with session_factory() as session:
        delivery = session.query(WebhookDelivery).one()
        document = export_bundle(session, "winter-health")
    return Targets(visit["id"], key_id, sub.subscription_id, delivery.pk, dumps_document(document))
