"""Operators of the demo health system (one per role) and of another health system."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy.orm import Session, sessionmaker

from inquicker.operators import accounts
from tests.booking_http.conftest import api, clock, make_api, world  # noqa: F401
from tests.booking_http.world import World

PASSWORD = "correct horse battery staple"
ROLES = ("admin", "scheduler", "viewer", "auditor")


@dataclass(frozen=True)
class Staff:
    tokens: dict[str, str]  # role -> token of winter-health's operator with that role
    other: str  # admin of elsewhere-health


def email(role: str) -> str:
    return f"{role}@winter-health.example"


@pytest.fixture
def staff(session_factory: sessionmaker[Session], world: World) -> Staff:  # noqa: F811
    with session_factory() as session, session.begin():
        tokens = {}
        for role in ROLES:
            accounts.create(
                session,
                health_system="winter-health",
                email=email(role),
                role=role,
                password=PASSWORD,
            )
            tokens[role] = accounts.issue_token(session, email(role))[1]
        accounts.create(
            session,
            health_system="elsewhere-health",
            email="admin@elsewhere.example",
            role="admin",
            password=PASSWORD,
        )
        other = accounts.issue_token(session, "admin@elsewhere.example")[1]
    return Staff(tokens, other)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "Accept": "application/vnd.api+json"}
