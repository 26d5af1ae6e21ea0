"""Sending one delivery: the Standard Webhooks message, the POST, and what came back.

Nothing here raises: every failure (refused address, timeout, connection error, redirect,
non-2xx, a patient-data key problem) becomes an ``AttemptResult`` to be recorded. Patient
data goes only into the signed body, never into a result, a log line or an exception.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
import time
from datetime import UTC, datetime
from urllib.parse import urlsplit

import orjson
from standardwebhooks.webhooks import Webhook

from inquicker.booking.phi import unseal
from inquicker.events.delivery import AttemptResult, Claimed
from inquicker.events.http import EXCERPT_BYTES, SendError, WebhookClient, make_client
from inquicker.events.outbox import event_document
from inquicker.events.subscriptions import refused_address

__all__ = ["EXCERPT_BYTES", "AddressGuard", "make_client", "message", "send", "signed_headers"]

USER_AGENT = "inquicker-webhooks/1"
# Resolved addresses are re-checked at most this often per host (not at every send).
RESOLVE_TTL = 60.0


def message(c: Claimed, phi_key: bytes | None) -> bytes:
    """The JSON body: {"type", "timestamp", "data"} (SPEC section 11)."""
    data = event_document(c.event_pk, c.event_type, c.occurred_at, c.payload)
    if c.include_patient_data and c.patient_data is not None:
        data["patient"] = unseal(c.patient_data, phi_key)
    body = {"type": c.event_type, "timestamp": data["occurred-at"], "data": data}
    return orjson.dumps(body)


def signed_headers(c: Claimed, body: bytes, sent_at: datetime) -> dict[str, str]:
    # The event id is the webhook-id: a receiver de-duplicates retries and replays by it.
    msg_id = str(c.event_pk)
    signature = Webhook(c.secret).sign(msg_id, sent_at, body.decode())
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(sent_at.timestamp())),
        "webhook-signature": signature,
        "content-type": "application/json",
        "user-agent": USER_AGENT,
    }


class AddressGuard:
    """Refuses hosts that resolve to link-local or metadata addresses (a name checked at
    subscription time may point anywhere later). Results are cached for RESOLVE_TTL."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._cache: dict[tuple[str, int], tuple[float, str | None]] = {}

    def problem(self, url: str) -> str | None:
        parts = urlsplit(url)
        host = (parts.hostname or "").rstrip(".")
        port = parts.port or (443 if parts.scheme == "https" else 80)
        key = (host, port)
        now = time.monotonic()
        with self._lock:
            hit = self._cache.get(key)
        if hit is not None and hit[0] > now:
            return hit[1]
        reason = self._check(host, port)
        with self._lock:
            self._cache[key] = (now + RESOLVE_TTL, reason)
        return reason

    @staticmethod
    def _check(host: str, port: int) -> str | None:
        try:
            infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
        except OSError:
            return None  # unresolvable: the POST fails as a connection error, retried later
        for info in infos:
            address = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
            if reason := refused_address(address):
                return f"{host} resolves to {reason}"
        return None


def send(
    client: WebhookClient, c: Claimed, phi_key: bytes | None, guard: AddressGuard
) -> AttemptResult:
    """POST one delivery; the attempt as it went (never raises)."""
    started = time.perf_counter()

    def result(outcome: str, code: int | None = None, excerpt: str = "") -> AttemptResult:
        ms = round((time.perf_counter() - started) * 1000)
        return AttemptResult(c.delivery_pk, outcome, code, ms, excerpt[:EXCERPT_BYTES])

    try:
        if reason := guard.problem(c.url):
            return result("refused-address", excerpt=reason)
        try:
            body = message(c, phi_key)
        except Exception:  # the reason may quote patient data: never shown
            return result("patient-data-error", excerpt="patient data could not be read")
        headers = signed_headers(c, body, datetime.now(UTC))
        answer = client.post(c.url, body, headers)
        code = answer.status
        excerpt = answer.excerpt.decode("utf-8", errors="replace")
        if 200 <= code < 300:
            return result("success", code, excerpt)
        if answer.location is not None:
            # Redirects are not followed: a signed body must not be re-sent somewhere the
            # operator did not choose (and could not check).
            return result("redirect", code, f"redirect to {answer.location}\n{excerpt}")
        return result("http-error", code, excerpt)
    except SendError as exc:
        if exc.timeout:
            return result("timeout", excerpt=f"no answer in time: {exc.name}")
        return result("connection-error", excerpt=str(exc))
    except Exception as exc:  # one bad delivery must not stop the others
        return result("error", excerpt=type(exc).__name__)
