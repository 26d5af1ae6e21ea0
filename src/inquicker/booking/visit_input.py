"""The ``POST /visits`` request body: structure checks and attribute normalisation.

Pure (no I/O). ``parse_visit_body`` takes the JSON-decoded body and returns the visit's
normalised input plus every structural problem found (never only the first):

- Status 400 for a body that is not a JSON:API resource document at all (not an object,
  no ``data`` object, ``attributes``/``relationships`` not objects); 422 for everything
  else (wrong ``type``, a client-generated ``id``, unknown attributes or relationships,
  values of the wrong type or form).
- A ``null`` or blank (whitespace-only) attribute counts as not given and is dropped, as
  the validation rules treat it. ``terms-tos`` and ``terms-911`` are accepted and dropped.
- Yes/no fields (and ``optin``) become ``bool``; ``weeks-pregnant`` an ``int``; other
  values trimmed strings (integers allowed for number-like fields such as ``zip``).
- ``birthdate`` is kept as its ISO calendar date string (``YYYY-MM-DD``), not a ``date``,
  so the configured validation rules (which look at string forms) still apply to it.
- A refused value is dropped from ``attributes`` and its name listed in ``rejected``, so a
  caller can leave out rule violations (e.g. "can't be blank") that would repeat it.
- Messages never contain a submitted value: it is patient data.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from inquicker.booking.fields import YES_NO_FIELDS
from inquicker.booking.rules import parse_birthdate

RESOURCE_TYPE = "visits"
SCHEDULE_TYPE = "schedules"

# Number-like identifiers an integrator may well send as a JSON number.
INTEGER_AS_TEXT_FIELDS = frozenset(
    [
        "zip",
        "phone-number",
        "insurance-group-number",
        "insurance-member-number",
        "insurance-plan-phone-number",
    ]
)
TEXT_FIELDS = INTEGER_AS_TEXT_FIELDS | frozenset(
    [
        "address",
        "address-2",
        "appointment-type",
        "caregiver-name",
        "city",
        "comments",
        "email",
        "first-name",
        "gender",
        "insurance-plan-name",
        "insurance-plan-permalink",
        "insurance-plan-full-address",
        "last-name",
        "last-test-date",
        "last-test-location",
        "middle-initial",
        "patient-complaint",
        "primary-care-physician",
        "referer",
        "referring-provider-name",
        "remote-uid",
        "state",
        "translator-language",
        "url",
        "user-agent",
    ]
)
ACCEPTED_ATTRIBUTES = (
    TEXT_FIELDS | YES_NO_FIELDS | {"appointment-at", "birthdate", "weeks-pregnant"}
)
IGNORED_ATTRIBUTES = frozenset({"terms-tos", "terms-911"})
RELATIONSHIPS = frozenset({"schedule"})

MAX_TEXT = 1000
MAX_LONG_TEXT = 5000
MAX_URL_TEXT = 4000  # URLs with tracking parameters and user agents run long
MAX_LENGTHS = {
    "comments": MAX_LONG_TEXT,
    "patient-complaint": MAX_LONG_TEXT,
    "referer": MAX_URL_TEXT,
    "url": MAX_URL_TEXT,
    "user-agent": MAX_URL_TEXT,
}
MAX_ID = 255
MAX_WEEKS_PREGNANT = 45
# Names are echoed in messages; a pathological one is cut short there (never in pointers).
_MAX_NAME_SHOWN = 100

_YES = frozenset({"yes", "true", "1"})
_NO = frozenset({"no", "false", "0"})
_INTEGER = re.compile(r"[+-]?[0-9]{1,6}")
# Date first, then a time: a bare date has no instant, and fromisoformat is permissive.
_ISO_DATE_TIME = re.compile(r"[0-9]{4}-?[0-9]{2}-?[0-9]{2}[T ][0-9]{2}.*")
_MIN_YEAR, _MAX_YEAR = 1900, 2999
# Whole numbers sent for text fields: 64 bits is ~20 digits, more than any zip or phone.
_MAX_INTEGER_BITS = 64


@dataclass(frozen=True)
class BodyProblem:
    """A structural problem of the document, with a JSON pointer and a value-free message."""

    pointer: str
    code: str
    message: str
    status: int = 422


@dataclass(frozen=True)
class VisitInput:
    """A visit request, normalised: schedule id, instant and dasherized attributes."""

    schedule_id: str | None
    appointment_at: datetime | None
    attributes: dict[str, Any]
    # Attributes given with a refused value (dropped from ``attributes``).
    rejected: frozenset[str] = field(default_factory=frozenset)


class _RefusedError(Exception):
    """A refused attribute value: the problem's code and message."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(code)
        self.code = code
        self.message = message


def pointer(*parts: str) -> str:
    """A JSON pointer (RFC 6901) to the member at ``parts``."""
    return "".join("/" + p.replace("~", "~0").replace("/", "~1") for p in parts)


def fingerprint(body: Any) -> str:
    """SHA-256 (hex) of the canonical JSON of the body's ``data``: equal for identical retries."""
    data = body.get("data") if isinstance(body, dict) else body
    canonical = json.dumps(
        data, sort_keys=True, separators=(",", ":"), ensure_ascii=True, default=repr
    )
    return hashlib.sha256(canonical.encode("ascii")).hexdigest()


def parse_visit_body(body: Any) -> tuple[VisitInput, list[BodyProblem]]:
    """The visit input of a decoded ``POST /visits`` body and every problem found in it."""
    empty = VisitInput(None, None, {})
    if not isinstance(body, dict):
        return empty, [_invalid_document("", "The request body must be a JSON object.")]
    data = body.get("data")
    if not isinstance(data, dict):
        message = "The request body must have a data member holding a resource object."
        return empty, [_invalid_document("/data", message)]
    raw_attributes = data.get("attributes", {})
    raw_relationships = data.get("relationships", {})
    structural = []
    if not isinstance(raw_attributes, dict):
        structural.append(_invalid_document("/data/attributes", "attributes must be an object."))
    if not isinstance(raw_relationships, dict):
        message = "relationships must be an object."
        structural.append(_invalid_document("/data/relationships", message))
    if structural:
        return empty, structural

    problems = _resource_problems(data)
    schedule_id = _schedule_id(raw_relationships, problems)
    attributes: dict[str, Any] = {}
    rejected: set[str] = set()
    appointment_at: datetime | None = None
    for name, value in raw_attributes.items():
        where = pointer("data", "attributes", name)
        if name in IGNORED_ATTRIBUTES:
            continue
        if name not in ACCEPTED_ATTRIBUTES:
            message = f"'{_shown(name)}' is not a visit attribute."
            problems.append(BodyProblem(where, "unknown-attribute", message))
            continue
        try:
            normal = _normalise(name, value)
            if name == "appointment-at" and normal is not None:
                appointment_at = _parse_instant(normal)
        except _RefusedError as refused:
            problems.append(BodyProblem(where, refused.code, refused.message))
            rejected.add(name)
            continue
        if normal is not None:
            attributes[name] = normal
    return VisitInput(schedule_id, appointment_at, attributes, frozenset(rejected)), problems


# --- document structure --------------------------------------------------------------------


def _invalid_document(where: str, message: str) -> BodyProblem:
    return BodyProblem(where, "invalid-document", message, 400)


def _shown(name: str) -> str:
    return name if len(name) <= _MAX_NAME_SHOWN else name[:_MAX_NAME_SHOWN] + "..."


def _resource_problems(data: dict[str, Any]) -> list[BodyProblem]:
    problems = []
    if data.get("type") != RESOURCE_TYPE:
        message = f'data.type must be "{RESOURCE_TYPE}".'
        problems.append(BodyProblem("/data/type", "invalid-resource-type", message))
    if "id" in data:
        message = "Client-generated ids are not supported; leave out data.id."
        problems.append(BodyProblem("/data/id", "client-generated-id", message))
    return problems


def _schedule_id(relationships: dict[str, Any], problems: list[BodyProblem]) -> str | None:
    for name in relationships:
        if name not in RELATIONSHIPS:
            where = pointer("data", "relationships", name)
            message = f"'{_shown(name)}' is not a visit relationship."
            problems.append(BodyProblem(where, "unknown-relationship", message))
    base = "/data/relationships/schedule"
    if "schedule" not in relationships:
        message = "The schedule relationship is required."
        problems.append(BodyProblem(base, "missing-relationship", message))
        return None
    schedule = relationships["schedule"]
    if not isinstance(schedule, dict) or "data" not in schedule:
        message = "The schedule relationship must be an object with a data member."
        problems.append(BodyProblem(base, "invalid-relationship", message))
        return None
    linkage = schedule["data"]
    if not isinstance(linkage, dict):
        message = 'The schedule relationship\'s data must be {"type": "schedules", "id": ...}.'
        problems.append(BodyProblem(base + "/data", "invalid-relationship", message))
        return None
    if linkage.get("type") != SCHEDULE_TYPE:
        message = f'The schedule relationship\'s type must be "{SCHEDULE_TYPE}".'
        problems.append(BodyProblem(base + "/data/type", "invalid-resource-type", message))
    schedule_id = linkage.get("id")
    if not isinstance(schedule_id, str) or not schedule_id or len(schedule_id) > MAX_ID:
        message = "The schedule relationship's id must be a schedule id (a non-empty string)."
        problems.append(BodyProblem(base + "/data/id", "invalid-id", message))
        return None
    return schedule_id


# --- attribute values ----------------------------------------------------------------------


def _normalise(name: str, value: Any) -> Any:
    """The normalised value (None: not given); raises ``_RefusedError``."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if name in YES_NO_FIELDS:
        return _yes_no(name, value)
    if name == "weeks-pregnant":
        return _weeks(name, value)
    text = _text(name, value)
    if name == "birthdate":
        born = parse_birthdate(text)
        if born is None:
            message = f"{name} must be an ISO 8601 date (YYYY-MM-DD) or date-time."
            raise _RefusedError("invalid-date", message)
        return born.isoformat()
    return text


def _yes_no(name: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float) and value in (0, 1):
        return value == 1
    if isinstance(value, str):
        word = value.strip().casefold()
        if word in _YES or word in _NO:
            return word in _YES
    raise _RefusedError("invalid-type", f"{name} must be yes or no (yes/no, true/false or 1/0).")


def _weeks(name: str, value: Any) -> int:
    number: int | None = None
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    elif isinstance(value, str) and _INTEGER.fullmatch(value.strip()):
        number = int(value.strip())
    if number is None:
        raise _RefusedError("invalid-type", f"{name} must be a whole number.")
    if not 0 <= number <= MAX_WEEKS_PREGNANT:
        raise _RefusedError("out-of-range", f"{name} must be between 0 and {MAX_WEEKS_PREGNANT}.")
    return number


def _text(name: str, value: Any) -> str:
    if isinstance(value, int) and not isinstance(value, bool) and name in INTEGER_AS_TEXT_FIELDS:
        if value < 0:
            raise _RefusedError("invalid-type", f"{name} must be a string (or a whole number).")
        if value.bit_length() > _MAX_INTEGER_BITS:
            raise _RefusedError("too-long", f"{name} has too many digits.")
        value = str(value)
    if not isinstance(value, str):
        kind = "a string (or a whole number)" if name in INTEGER_AS_TEXT_FIELDS else "a string"
        raise _RefusedError("invalid-type", f"{name} must be {kind}.")
    text = value.strip()
    limit = MAX_LENGTHS.get(name, MAX_TEXT)
    if len(text) > limit:
        raise _RefusedError("too-long", f"{name} must be at most {limit} characters long.")
    return text


def _parse_instant(text: str) -> datetime:
    """The aware instant of an ISO 8601 date-time with a UTC offset ("Z" allowed)."""
    instant: datetime | None = None
    if _ISO_DATE_TIME.fullmatch(text):
        try:
            instant = datetime.fromisoformat(text)
        except ValueError:
            instant = None
    if instant is None:
        message = "appointment-at must be an ISO 8601 date-time with a UTC offset."
        raise _RefusedError("invalid-date-time", message)
    if instant.tzinfo is None or instant.utcoffset() is None:
        message = "appointment-at must include a UTC offset (e.g. -05:00 or Z)."
        raise _RefusedError("missing-offset", message)
    if not _MIN_YEAR <= instant.year <= _MAX_YEAR:
        message = f"appointment-at must be between the years {_MIN_YEAR} and {_MAX_YEAR}."
        raise _RefusedError("invalid-date-time", message)
    return instant
