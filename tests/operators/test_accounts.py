"""Logins (lockout, TOTP), disabling, and the audit export command."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import orjson
import pyotp
import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from inquicker.bundle.demo import load_demo
from inquicker.cli import app
from inquicker.operators import accounts
from inquicker.operators.auth import LoginOutcome, by_session, login, start_session
from inquicker.operators.models import AuditEntry
from inquicker.settings import get_settings

NOW = datetime(2026, 12, 1, 14, 0, tzinfo=UTC)
EMAIL = "sam@winter-health.example"
PASSWORD = "correct horse battery staple"


@pytest.fixture
def operator(session_factory: sessionmaker[Session]) -> str:
    with session_factory() as session, session.begin():
        load_demo(session)
        accounts.create(
            session, health_system="winter-health", email=EMAIL, role="scheduler", password=PASSWORD
        )
    return EMAIL


def _login(factory: sessionmaker[Session], password: str, at: datetime, code: str | None = None):  # type: ignore[no-untyped-def]
    with factory() as session, session.begin():
        outcome, found = login(session, EMAIL, password, code, at, "203.0.113.9")
        return outcome, found is not None


def test_ten_failures_in_fifteen_minutes_lock_for_fifteen(
    session_factory: sessionmaker[Session], operator: str
) -> None:
    for i in range(9):
        assert _login(session_factory, "wrong", NOW + timedelta(seconds=i)) == (
            LoginOutcome.FAILED,
            False,
        )
    assert _login(session_factory, PASSWORD, NOW + timedelta(seconds=10))[0] == LoginOutcome.OK
    for i in range(10):
        _login(session_factory, "wrong", NOW + timedelta(minutes=1, seconds=i))
    locked_at = NOW + timedelta(minutes=2)
    assert _login(session_factory, PASSWORD, locked_at)[0] == LoginOutcome.LOCKED
    later = NOW + timedelta(minutes=1, seconds=9) + timedelta(minutes=15, seconds=1)
    assert _login(session_factory, PASSWORD, later)[0] == LoginOutcome.OK
    with session_factory() as session:
        actions = [e.action for e in session.scalars(select(AuditEntry).order_by(AuditEntry.pk))]
    assert actions.count("login.failed") == 20
    assert actions.count("login") == 2


def test_totp_is_required_when_set(session_factory: sessionmaker[Session], operator: str) -> None:
    secret = pyotp.random_base32()
    with session_factory() as session, session.begin():
        accounts.set_totp(session, EMAIL, secret)
    assert _login(session_factory, PASSWORD, NOW)[0] == LoginOutcome.NEED_CODE
    assert _login(session_factory, PASSWORD, NOW, "000000")[0] in (
        LoginOutcome.FAILED,
        LoginOutcome.OK,  # one chance in a million that 000000 is the code
    )
    code = pyotp.TOTP(secret).now()
    assert _login(session_factory, PASSWORD, datetime.now(UTC), code)[0] == LoginOutcome.OK


def test_disable_ends_sessions(session_factory: sessionmaker[Session], operator: str) -> None:
    with session_factory() as session, session.begin():
        found = accounts.find(session, EMAIL)
        assert found is not None
        raw = start_session(session, found, NOW)
    with session_factory() as session:
        assert by_session(session, raw, NOW) is not None
    with session_factory() as session, session.begin():
        accounts.disable(session, EMAIL)
    with session_factory() as session:
        assert by_session(session, raw, NOW) is None
    assert _login(session_factory, PASSWORD, NOW)[0] == LoginOutcome.FAILED


def test_cli_create_token_and_audit_export(
    engine: Engine, session_factory: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    with session_factory() as session, session.begin():
        load_demo(session)
    monkeypatch.setenv("INQUICKER_DATABASE_URL", engine.url.render_as_string(hide_password=False))
    get_settings.cache_clear()
    runner = CliRunner()
    try:
        created = runner.invoke(
            app,
            [
                "operators",
                "create",
                "--health-system",
                "winter-health",
                "--email",
                "Kim@W.example",
                "--role",
                "viewer",
            ],
        )
        assert created.exit_code == 0, created.output
        assert "password, shown once: " in created.output
        token = runner.invoke(app, ["operators", "token", "kim@w.example"])
        assert token.exit_code == 0 and "iqo_" in token.output
        listed = runner.invoke(app, ["operators", "list"])
        assert "kim@w.example" in listed.output and "viewer" in listed.output
        bad = runner.invoke(
            app, ["operators", "create", "--email", "x@y.example", "--role", "boss"]
        )
        assert bad.exit_code == 1
        exported = runner.invoke(app, ["audit", "export", "--since", "2000-01-01"])
        assert exported.exit_code == 0
        lines = [orjson.loads(line) for line in exported.output.splitlines()]
        assert [(e["actor"], e["action"], e["patient-data"]) for e in lines] == [
            ("cli", "operator.create", False),
            ("cli", "operator.token-create", False),
        ]
        assert set(lines[0]) >= {"at", "actor", "action", "visit", "patient-data", "client"}
        future = runner.invoke(app, ["audit", "export", "--since", "2999-01-01T00:00:00Z"])
        assert future.output == ""
    finally:
        get_settings.cache_clear()
