"""Sending one SIU message over MLLP and reading its acknowledgement.

MLLP frames a message as 0x0B <message> 0x1C 0x0D, and the answer comes back framed the
same way on the same connection. ``MSA-1`` ``AA`` (or ``CA``) means the EHR took it; ``AE``,
``AR``, an answer that is not an ACK of this message, silence or a broken connection is a
failed attempt, retried like a webhook. Nothing here raises, and neither the message (it
holds the PID segment) nor the patient data appears in a result, a log line or an error.
"""

from __future__ import annotations

import socket
import time
from datetime import UTC, datetime
from urllib.parse import urlsplit

import hl7
from hl7.mllp.streams import CARRIAGE_RETURN as _CR
from hl7.mllp.streams import END_BLOCK as _EB
from hl7.mllp.streams import START_BLOCK as _SB

from inquicker.booking.phi import unseal
from inquicker.events.delivery import AttemptResult, Claimed
from inquicker.events.sender import EXCERPT_BYTES, AddressGuard
from inquicker.hl7.message import siu_message

# The library's MLLP block characters (0x0B, 0x1C, 0x0D), typed.
START_BLOCK: bytes = _SB
END_BLOCK: bytes = _EB
CARRIAGE_RETURN: bytes = _CR
# An ACK is a few hundred bytes; a peer sending more than this is not answering in MLLP.
MAX_ANSWER_BYTES = 64 * 1024
ACCEPTED = frozenset({"AA", "CA"})


def frame(message: str) -> bytes:
    # The library's escaping leaves only ASCII in the message; UTF-8 is a safe superset.
    return START_BLOCK + message.encode("utf-8") + END_BLOCK + CARRIAGE_RETURN


def exchange(host: str, port: int, data: bytes, timeout: float) -> bytes:
    """Send ``data`` and return the framed answer's content (raises OSError/TimeoutError).

    ``timeout`` bounds the whole exchange, not each read: a peer trickling bytes cannot
    hold a worker thread longer than a silent one.
    """
    deadline = time.monotonic() + timeout
    with socket.create_connection((host, port), timeout=timeout) as conn:
        conn.sendall(data)
        answer = b""
        while END_BLOCK + CARRIAGE_RETURN not in answer:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("no complete answer in time")
            conn.settimeout(left)
            chunk = conn.recv(4096)
            if not chunk:
                raise ConnectionError("connection closed before a complete answer")
            answer += chunk
            if len(answer) > MAX_ANSWER_BYTES:
                raise ConnectionError("answer too long for an acknowledgement")
    start = answer.find(START_BLOCK)
    end = answer.find(END_BLOCK + CARRIAGE_RETURN)
    if start < 0 or start > end:
        raise ValueError("answer is not MLLP-framed")
    return answer[start + 1 : end]


def ack_code(answer: bytes, control_id: str) -> tuple[str, str]:
    """(outcome, excerpt) for an answer: success, rejected (AE/AR/CE/CR) or bad-ack."""
    text = answer.decode("utf-8", errors="replace")
    excerpt = text.replace("\r", "\n")[:EXCERPT_BYTES]
    try:
        message = hl7.parse(text)
        msa = message.segment("MSA")
        code, acked = str(msa(1)), str(msa(2))
    except Exception:  # the library raises several kinds on garbage
        return "bad-ack", excerpt
    if acked != control_id:
        return "bad-ack", excerpt  # an ACK of another message proves nothing about ours
    return ("success" if code in ACCEPTED else "rejected"), excerpt


def send_hl7(
    c: Claimed, phi_key: bytes | None, guard: AddressGuard, timeout: float
) -> AttemptResult:
    """Send one HL7 delivery and wait for its ACK; the attempt as it went (never raises)."""
    started = time.perf_counter()

    def result(outcome: str, excerpt: str = "") -> AttemptResult:
        ms = round((time.perf_counter() - started) * 1000)
        return AttemptResult(c.delivery_pk, outcome, None, ms, excerpt[:EXCERPT_BYTES])

    try:
        if reason := guard.problem(c.url):
            return result("refused-address", reason)
        try:
            patient = unseal(c.patient_data, phi_key) if c.patient_data else {}
        except Exception:  # the reason may quote patient data: never shown
            return result("patient-data-error", "patient data could not be read")
        control_id = str(c.event_pk)
        message = siu_message(
            event_id=control_id,
            event_type=c.event_type,
            payload=c.payload,
            patient=patient,
            duration_minutes=c.duration_minutes,
            sent_at=datetime.now(UTC),
        )
        parts = urlsplit(c.url)
        answer = exchange(parts.hostname or "", parts.port or 0, frame(message), timeout)
        outcome, excerpt = ack_code(answer, control_id)
        return result(outcome, excerpt)
    except TimeoutError:
        return result("timeout", "no acknowledgement in time")
    except ValueError:
        return result("bad-ack", "the answer was not MLLP-framed")
    except OSError as exc:
        return result("connection-error", f"{type(exc).__name__}: {exc.strerror or exc}")
    except Exception as exc:  # one bad delivery must not stop the others
        return result("error", type(exc).__name__)
