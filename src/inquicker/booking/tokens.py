"""Visit tokens: HS256 JWTs that authorise one visit for one schedule and instant on one site."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import jwt

from inquicker.jsonapi.errors import ApiError, ErrorObject

TOKEN_MINUTES = 30
ALGORITHM = "HS256"


@dataclass(frozen=True)
class TokenClaims:
    jti: str
    schedule_id: str
    appointment_at: str
    expires_at: int


def mint(
    secret: str,
    *,
    jti: str,
    schedule_id: str,
    appointment_at: str,
    audience: str,
    issued_at: int,
) -> str:
    """A signed token for the schedule and instant, valid TOKEN_MINUTES from issue."""
    payload = {
        "data": {"schedule_id": schedule_id, "appointment_at": appointment_at},
        "aud": audience,
        "iat": issued_at,
        "exp": issued_at + TOKEN_MINUTES * 60,
        "jti": jti,
    }
    return jwt.encode(payload, secret, algorithm=ALGORITHM)


def refuse(detail: str, code: str = "invalid-token") -> ApiError:
    """A 401 for a visit-token problem, saying which."""
    return ApiError(
        [ErrorObject(401, code, "Invalid visit token", detail, header="Authorization")],
        headers={"WWW-Authenticate": 'Bearer realm="visits"'},
    )


def bearer_token(authorization: str | None) -> str:
    """The token of ``Authorization: Bearer <token>``; 401 when absent."""
    scheme, _, token = (authorization or "").strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise refuse(
            "A visit token is required: send it as 'Authorization: Bearer <token>' "
            "(get one from GET /visit-token).",
            code="missing-token",
        )
    return token.strip()


def verify(secret: str, token: str, audience: str, now: int) -> TokenClaims:
    """Check signature, site and expiry (against the injected clock); 401 saying which fails."""
    try:
        payload: dict[str, Any] = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],
            options={
                "verify_exp": False,
                "verify_aud": False,
                "verify_iat": False,
                "require": ["exp", "jti", "aud", "data"],
            },
        )
    except jwt.InvalidSignatureError:
        raise refuse("The visit token's signature is invalid.", "bad-signature") from None
    except jwt.MissingRequiredClaimError as exc:
        raise refuse(f"The visit token lacks the '{exc.claim}' claim.", "malformed-token") from None
    except jwt.PyJWTError:
        raise refuse("The visit token is malformed.", "malformed-token") from None
    data = payload.get("data")
    exp = payload.get("exp")
    if (
        not isinstance(data, dict)
        or not isinstance(data.get("schedule_id"), str)
        or not isinstance(data.get("appointment_at"), str)
        or not isinstance(exp, int)
        or not isinstance(payload.get("jti"), str)
    ):
        raise refuse("The visit token is malformed.", "malformed-token")
    # PostgreSQL text cannot hold NUL: such a claim must be refused here, not by the driver.
    if any("\x00" in v for v in (payload["jti"], data["schedule_id"], data["appointment_at"])):
        raise refuse("The visit token is malformed.", "malformed-token")
    if payload.get("aud") != audience:
        raise refuse("The visit token was issued for another site.", "wrong-site")
    if exp <= now:
        raise refuse("The visit token has expired; request a new one.", "expired-token")
    return TokenClaims(payload["jti"], data["schedule_id"], data["appointment_at"], exp)
