"""The demo's operator: an admin of Winter Health whose password the demo prints."""

from __future__ import annotations

from sqlalchemy.orm import Session

from inquicker.bundle.demo import DEMO_HEALTH_SYSTEM
from inquicker.operators import accounts, credentials

DEMO_OPERATOR = "admin@winter-health.example"


def demo_operator(session: Session) -> tuple[str, str]:
    """Create the demo admin, or give it a new password on a repeated demo (the old one was
    shown once and is not stored); (e-mail, password)."""
    password = credentials.generate_password()
    if accounts.find(session, DEMO_OPERATOR) is None:
        accounts.create(
            session,
            health_system=DEMO_HEALTH_SYSTEM,
            email=DEMO_OPERATOR,
            role="admin",
            password=password,
        )
    else:
        accounts.reset_password(session, DEMO_OPERATOR, password)
    return DEMO_OPERATOR, password
