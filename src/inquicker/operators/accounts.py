"""Operator accounts: creation, listing, disabling, API tokens (the CLI's use cases).

Every change writes its audit entry in the same transaction.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from inquicker.db.base import utcnow
from inquicker.operators import audit, credentials, roles
from inquicker.operators.models import Operator, OperatorSession, OperatorToken
from inquicker.tenancy.models import HealthSystem

# Deliberately loose: the address is a login name, mail is never sent to it.
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MIN_PASSWORD = 12


class OperatorError(Exception):
    """An operator command refused, with a one-line reason."""


@dataclass(frozen=True)
class OperatorInfo:
    email: str
    health_system: str | None  # slug; None for superusers
    role: str
    superuser: bool
    disabled: bool
    totp: bool
    created_at: datetime


def normalize_email(email: str) -> str:
    return email.strip().lower()


def _health_system(session: Session, slug: str) -> HealthSystem:
    hs = session.scalars(select(HealthSystem).where(HealthSystem.slug == slug)).one_or_none()
    if hs is None:
        raise OperatorError(f"no health system {slug!r} (import its bundle first)")
    return hs


def find(session: Session, email: str) -> Operator | None:
    return session.scalars(
        select(Operator).where(Operator.email == normalize_email(email))
    ).one_or_none()


def _existing(session: Session, email: str) -> Operator:
    operator = find(session, email)
    if operator is None:
        raise OperatorError(f"no operator {email!r}")
    return operator


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise OperatorError(f"the password must have at least {MIN_PASSWORD} characters")


def create(
    session: Session,
    *,
    health_system: str | None,
    email: str,
    role: str,
    superuser: bool = False,
    password: str | None = None,
    actor: str = "cli",
) -> str:
    """Create the operator; returns the password (generated unless given)."""
    email = normalize_email(email)
    if not _EMAIL.match(email):
        raise OperatorError(f"{email!r} is not an e-mail address")
    if role not in roles.ROLES:
        raise OperatorError(f"role must be one of {', '.join(roles.ROLES)}")
    if find(session, email) is not None:
        raise OperatorError(f"operator {email!r} exists already")
    hs_pk = None
    if health_system:
        hs_pk = _health_system(session, health_system).pk
    elif not superuser:
        raise OperatorError("--health-system is required (or --superuser)")
    password = password if password is not None else credentials.generate_password()
    check_password(password)
    operator = Operator(
        email=email,
        health_system_pk=None if superuser else hs_pk,
        superuser=superuser,
        role=role,
        password_hash=credentials.hash_password(password),
        created_at=utcnow(),
    )
    session.add(operator)
    session.flush()
    _audit(session, actor, "operator.create", operator, {"role": role, "superuser": superuser})
    return password


def reset_password(session: Session, email: str, password: str, actor: str = "cli") -> None:
    check_password(password)
    operator = _existing(session, email)
    operator.password_hash = credentials.hash_password(password)
    operator.failed_logins, operator.first_failed_at, operator.locked_until = 0, None, None
    operator.disabled_at = None
    session.flush()
    _audit(session, actor, "operator.password-reset", operator, {})


def list_all(session: Session) -> list[OperatorInfo]:
    rows = session.execute(
        select(Operator, HealthSystem.slug)
        .outerjoin(HealthSystem, HealthSystem.pk == Operator.health_system_pk)
        .order_by(Operator.email)
    ).all()
    return [
        OperatorInfo(
            o.email,
            slug,
            o.role,
            o.superuser,
            o.disabled_at is not None,
            o.totp_secret is not None,
            o.created_at,
        )
        for o, slug in rows
    ]


def disable(session: Session, email: str, actor: str = "cli") -> None:
    """Disable the operator and, in the same transaction, end every session and revoke
    every token: nothing they hold works after the commit."""
    operator = _existing(session, email)
    now = utcnow()
    if operator.disabled_at is None:
        operator.disabled_at = now
    session.execute(
        update(OperatorSession)
        .where(OperatorSession.operator_pk == operator.pk, OperatorSession.ended_at.is_(None))
        .values(ended_at=now)
    )
    session.execute(
        update(OperatorToken)
        .where(OperatorToken.operator_pk == operator.pk, OperatorToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    session.flush()
    _audit(session, actor, "operator.disable", operator, {})


def issue_token(session: Session, email: str, actor: str = "cli") -> tuple[str, str]:
    """A new API token for the operator: (token id, token shown once)."""
    operator = _existing(session, email)
    if operator.disabled_at is not None:
        raise OperatorError(f"operator {email!r} is disabled")
    raw = credentials.generate_token()
    token_id = "otk_" + secrets.token_hex(6)
    session.add(
        OperatorToken(
            token_id=token_id,
            operator_pk=operator.pk,
            token_hash=credentials.digest(raw),
            created_at=utcnow(),
        )
    )
    session.flush()
    _audit(session, actor, "operator.token-create", operator, {"token": token_id})
    return token_id, raw


def set_totp(session: Session, email: str, secret: str | None, actor: str = "cli") -> None:
    operator = _existing(session, email)
    operator.totp_secret = secret
    session.flush()
    _audit(session, actor, "operator.totp", operator, {"enabled": secret is not None})


def _audit(
    session: Session, actor: str, action: str, operator: Operator, details: dict[str, object]
) -> None:
    audit.write(
        session.connection(),
        utcnow(),
        audit.Record(
            actor=actor,
            action=action,
            health_system_pk=operator.health_system_pk,
            details={"operator": operator.email, **details},
        ),
    )
