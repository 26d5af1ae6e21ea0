"""Operator secrets: Argon2id passwords, random tokens, TOTP codes (libraries, never
hand-rolled)."""

from __future__ import annotations

import hashlib
import secrets

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

# argon2-cffi's defaults are Argon2id with the RFC 9106 "low memory" profile.
_HASHER = PasswordHasher()
TOKEN_PREFIX = "iqo_"  # noqa: S105 - a public prefix, not a secret
# A hash to verify against when the e-mail is unknown, so both answers take as long.
_DUMMY_HASH = _HASHER.hash("not-a-password-" + secrets.token_hex(8))


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def verify_password(stored: str | None, password: str) -> bool:
    try:
        return _HASHER.verify(stored or _DUMMY_HASH, password) and stored is not None
    except (VerificationError, InvalidHashError):
        return False


def generate_password() -> str:
    """A 128-bit password that is easy to copy (URL-safe characters)."""
    return secrets.token_urlsafe(16)


def generate_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def digest(raw: str) -> str:
    """SHA-256 hex: enough for 256-bit random tokens and session ids."""
    return hashlib.sha256(raw.strip().encode()).hexdigest()


def totp_ok(secret: str, code: str) -> bool:
    # valid_window=1 accepts the previous and next 30 s step: clocks drift.
    return pyotp.TOTP(secret).verify(code.strip(), valid_window=1)
