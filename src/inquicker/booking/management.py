"""Management tokens: the partner's credential for one visit (SPEC section 10).

The token is HMAC-SHA256(server secret, visit id + a random 128-bit salt): 256 bits no one
can guess without the server's secret. The database keeps only its SHA-256 (for lookup)
and the salt, so a leaked database yields no token, while the server can give an
idempotent retry of ``POST /visits`` the same token the first answer carried.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

PREFIX = "vmt_"


def new_salt() -> str:
    return secrets.token_hex(16)


def derive(secret_key: str, visit_id: str, salt: str) -> str:
    mac = hmac.new(
        secret_key.encode(), f"visit-management:{visit_id}:{salt}".encode(), hashlib.sha256
    ).digest()
    return PREFIX + base64.urlsafe_b64encode(mac).decode().rstrip("=")


def digest(token: str) -> str:
    """What the database stores and looks tokens up by."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def looks_like_token(value: str) -> bool:
    """A management token, as opposed to an API key or a visit token (JWT)."""
    return value.startswith(PREFIX) and 20 < len(value) < 100
