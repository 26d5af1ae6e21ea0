"""Patient data at rest: AES-GCM encrypted when INQUICKER_PHI_KEY is set.

Stored form: ``v1:<base64(nonce || ciphertext)>`` when encrypted, ``plain:<json>`` otherwise,
so a reader always knows which it holds (and a key can be introduced later).
"""

from __future__ import annotations

import base64
import binascii
import os
from functools import lru_cache
from typing import Any

import orjson
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

NONCE_BYTES = 12
# Binds ciphertexts to their purpose: a blob cannot be replayed into another field.
ASSOCIATED_DATA = b"inquicker:visit-patient-data:v1"


@lru_cache(maxsize=4)
def decode_key(encoded: str) -> bytes:
    """The 32-byte key from its base64 form; ValueError if it is not one. Memoised: the
    operators' pages decode the one configured key for every row they show."""
    try:
        key = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("INQUICKER_PHI_KEY must be base64 of 32 random bytes") from None
    if len(key) != 32:
        raise ValueError("INQUICKER_PHI_KEY must be base64 of 32 random bytes")
    return key


def seal(data: dict[str, Any], key: bytes | None) -> str:
    """Serialise patient data for storage, encrypting it when a key is given."""
    payload = orjson.dumps(data, default=str)
    if key is None:
        return "plain:" + payload.decode()
    nonce = os.urandom(NONCE_BYTES)
    sealed = AESGCM(key).encrypt(nonce, payload, ASSOCIATED_DATA)
    return "v1:" + base64.b64encode(nonce + sealed).decode()


@lru_cache(maxsize=4)
def _cipher(key: bytes) -> AESGCM:
    """One AESGCM per key (stateless, safe to share between threads): a page of 50 visits
    built 50 of them."""
    return AESGCM(key)


def unseal(stored: str, key: bytes | None) -> dict[str, Any]:
    """Read stored patient data back (used by operators' tools and tests, never the API)."""
    if stored.startswith("plain:"):
        return dict(orjson.loads(stored[len("plain:") :]))
    if not stored.startswith("v1:") or key is None:
        raise ValueError("encrypted patient data needs INQUICKER_PHI_KEY")
    raw = binascii.a2b_base64(stored[len("v1:") :])
    plain = _cipher(key).decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], ASSOCIATED_DATA)
    return dict(orjson.loads(plain))
