"""Who an operator request is: API tokens, console logins (lockout, TOTP) and sessions."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum

from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.orm import Session

from inquicker.operators import audit, credentials
from inquicker.operators.models import Operator, OperatorSession, OperatorToken
from inquicker.tenancy.models import HealthSystem

LOCK_AFTER = 10  # failures ...
FAILURE_WINDOW = timedelta(minutes=15)  # ... within this window ...
LOCK_FOR = timedelta(minutes=15)  # ... lock the account this long
SESSION_LIFETIME = timedelta(hours=12)


@dataclass(frozen=True)
class OperatorPrincipal:
    pk: int
    email: str
    role: str
    superuser: bool
    # The health systems this operator may see (all of them for a superuser).
    health_system_pks: tuple[int, ...]
    csrf_token: str | None = None  # console sessions only
    # Their data versions, read with the principal when known (API tokens): what memoised
    # catalog-derived values (schedule time zones) are keyed by. () when not read.
    data_versions: tuple[int, ...] = ()


_HEALTH_SYSTEMS: Table = HealthSystem.__table__  # type: ignore[assignment]
_EVERY_SCOPE = select(_HEALTH_SYSTEMS.c.pk, _HEALTH_SYSTEMS.c.data_version).order_by(
    _HEALTH_SYSTEMS.c.pk
)


def _scope(session: Session, operator: Operator) -> tuple[int, ...]:
    if operator.superuser:
        return tuple(session.scalars(select(HealthSystem.pk).order_by(HealthSystem.pk)).all())
    return (operator.health_system_pk,) if operator.health_system_pk is not None else ()


def principal(session: Session, operator: Operator, csrf: str | None = None) -> OperatorPrincipal:
    return OperatorPrincipal(
        operator.pk,
        operator.email,
        operator.role,
        operator.superuser,
        _scope(session, operator),
        csrf,
    )


_OPERATORS: Table = Operator.__table__  # type: ignore[assignment]
_TOKENS: Table = OperatorToken.__table__  # type: ignore[assignment]
# One prebuilt Core statement (no ORM entity to build per request): the operator behind a
# live token, with its health system's data version.
_BY_TOKEN = (
    select(
        _OPERATORS.c.pk,
        _OPERATORS.c.email,
        _OPERATORS.c.role,
        _OPERATORS.c.superuser,
        _OPERATORS.c.health_system_pk,
        _HEALTH_SYSTEMS.c.data_version,
    )
    .select_from(
        _TOKENS.join(_OPERATORS, _OPERATORS.c.pk == _TOKENS.c.operator_pk).outerjoin(
            _HEALTH_SYSTEMS, _HEALTH_SYSTEMS.c.pk == _OPERATORS.c.health_system_pk
        )
    )
    .where(
        _TOKENS.c.token_hash == bindparam("token_hash"),
        _TOKENS.c.revoked_at.is_(None),
        _OPERATORS.c.disabled_at.is_(None),
    )
)


def by_token(session: Session, raw: str) -> OperatorPrincipal | None:
    """The live, enabled operator holding this API token; None otherwise (one answer)."""
    conn = session.connection()
    row = conn.execute(_BY_TOKEN, {"token_hash": credentials.digest(raw)}).one_or_none()
    if row is None:
        return None
    if row.superuser:
        every = conn.execute(_EVERY_SCOPE).all()
        scope, versions = tuple(r.pk for r in every), tuple(r.data_version for r in every)
    elif row.health_system_pk is not None:
        scope, versions = (row.health_system_pk,), (row.data_version,)
    else:
        scope, versions = (), ()
    return OperatorPrincipal(
        row.pk, row.email, row.role, row.superuser, scope, data_versions=versions
    )


class LoginOutcome(Enum):
    OK = "ok"
    FAILED = "failed"  # unknown e-mail, wrong password, wrong code: one answer
    NEED_CODE = "need-code"  # right password; TOTP code missing
    LOCKED = "locked"


def login(
    session: Session,
    email: str,
    password: str,
    code: str | None,
    now: datetime,
    client: str | None,
) -> tuple[LoginOutcome, Operator | None]:
    """Check a console login, counting failures toward the lockout; audited either way."""
    operator = session.scalars(
        select(Operator).where(Operator.email == email.strip().lower()).with_for_update()
    ).one_or_none()
    actor = operator.email if operator is not None else email.strip().lower()[:320]
    hs_pk = operator.health_system_pk if operator is not None else None

    def record(action: str, **details: object) -> None:
        audit.write(
            session.connection(),
            now,
            audit.Record(actor, action, hs_pk, client=client, details=dict(details)),
        )

    if operator is not None and operator.locked_until is not None and now < operator.locked_until:
        record("login.failed", reason="locked")
        return LoginOutcome.LOCKED, None
    password_ok = credentials.verify_password(
        operator.password_hash if operator is not None else None, password
    )
    if operator is None or not password_ok or operator.disabled_at is not None:
        if operator is not None and operator.disabled_at is None:
            _count_failure(operator, now)
        record("login.failed", reason="disabled" if operator and password_ok else "credentials")
        return LoginOutcome.FAILED, None
    if operator.totp_secret:
        if not code:
            return LoginOutcome.NEED_CODE, None
        if not credentials.totp_ok(operator.totp_secret, code):
            _count_failure(operator, now)
            record("login.failed", reason="code")
            return LoginOutcome.FAILED, None
    operator.failed_logins, operator.first_failed_at, operator.locked_until = 0, None, None
    record("login")
    return LoginOutcome.OK, operator


def _count_failure(operator: Operator, now: datetime) -> None:
    if operator.first_failed_at is None or now - operator.first_failed_at > FAILURE_WINDOW:
        operator.first_failed_at, operator.failed_logins = now, 0
    operator.failed_logins += 1
    if operator.failed_logins >= LOCK_AFTER:
        operator.locked_until = now + LOCK_FOR
        operator.failed_logins, operator.first_failed_at = 0, None


def start_session(session: Session, operator: Operator, now: datetime) -> str:
    """A new console session; returns the cookie value (only its hash is stored)."""
    raw = secrets.token_urlsafe(32)
    session.add(
        OperatorSession(
            session_hash=credentials.digest(raw),
            operator_pk=operator.pk,
            csrf_token=secrets.token_urlsafe(32),
            created_at=now,
            expires_at=now + SESSION_LIFETIME,
        )
    )
    session.flush()
    return raw


def by_session(session: Session, raw: str, now: datetime) -> OperatorPrincipal | None:
    row = session.execute(
        select(Operator, OperatorSession.csrf_token)
        .join(OperatorSession, OperatorSession.operator_pk == Operator.pk)
        .where(
            OperatorSession.session_hash == credentials.digest(raw),
            OperatorSession.ended_at.is_(None),
            OperatorSession.expires_at > now,
            Operator.disabled_at.is_(None),
        )
    ).one_or_none()
    return principal(session, row[0], row[1]) if row is not None else None


def end_session(session: Session, raw: str, now: datetime) -> None:
    session.execute(
        update(OperatorSession)
        .where(OperatorSession.session_hash == credentials.digest(raw))
        .values(ended_at=now)
    )
