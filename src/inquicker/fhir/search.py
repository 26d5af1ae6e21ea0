"""FHIR search plumbing: parameters (lenient or strict), dates, paging, searchset Bundles."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, time
from typing import Any
from urllib.parse import urlencode

from fhir.resources.R4B.bundle import Bundle

from inquicker.fhir.outcome import fhir_error
from inquicker.web.request import ApiRequest

# Accepted by every interaction; the key travels on in paging links, as on the JSON:API face.
COMMON = frozenset({"_count", "_offset", "api_key", "_format", "_pretty", "_"})
DEFAULT_COUNT = 50
MAX_COUNT = 100  # a larger _count is served as this many (FHIR lets the server choose)
MIN_YEAR, MAX_YEAR = 1900, 2200


def strict(req: ApiRequest) -> bool:
    prefer = req.headers.get("prefer", "").lower().replace(" ", "")
    return "handling=strict" in prefer.split(",")


def check_params(req: ApiRequest, known: Iterable[str]) -> None:
    """Unknown parameters are ignored, unless the client asked for strict handling (400)."""
    allowed = COMMON | frozenset(known)
    unknown = sorted({k for k, _ in req.params if k not in allowed})
    if unknown and strict(req):
        raise fhir_error(
            400,
            f"Unknown search parameter(s): {', '.join(unknown)}.",
            "unknown-parameter",
            unknown[0],
        )


def values(req: ApiRequest, name: str) -> list[str]:
    """Every value of a parameter (repeated or comma-separated), blanks dropped."""
    return [v.strip() for k, raw in req.params if k == name for v in raw.split(",") if v.strip()]


def references(req: ApiRequest, name: str, resource_type: str | None = None) -> list[str]:
    """Ids of reference parameters: ``Type/id``, an absolute URL ending so, or a bare id."""
    out = []
    for value in values(req, name):
        parts = value.rstrip("/").split("/")
        if len(parts) >= 2 and resource_type and parts[-2] != resource_type:
            continue  # a reference to another resource type matches nothing of this one
        out.append(parts[-1])
    return out


def tokens(req: ApiRequest, name: str) -> list[str]:
    """Codes of token parameters (``system|code`` or ``code``)."""
    return [v.rsplit("|", 1)[-1] for v in values(req, name)]


def integer(req: ApiRequest, name: str, default: int, low: int = 0) -> int:
    found = values(req, name)
    if not found:
        return default
    try:
        number = int(found[-1])
    except ValueError:
        number = low - 1
    if number < low:
        raise fhir_error(400, f"{name} must be an integer of at least {low}.", "invalid", name)
    return number


def paging(req: ApiRequest) -> tuple[int, int]:
    count = min(integer(req, "_count", DEFAULT_COUNT), MAX_COUNT)
    return integer(req, "_offset", 0), count


def instant(name: str, raw: str, *, end_of_day: bool = False) -> datetime:
    """A FHIR date or dateTime; a date (or a time without offset) is read as UTC."""
    text = raw.strip().replace(" ", "+")
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            value = datetime.combine(day, time.max if end_of_day else time.min, UTC)
        else:
            value = datetime.fromisoformat(text.replace("Z", "+00:00"))
            value = value if value.tzinfo else value.replace(tzinfo=UTC)
    except ValueError:
        raise fhir_error(
            400,
            f"{name} must be a FHIR date or dateTime, e.g. 2026-12-07 or "
            "2026-12-07T09:00:00-05:00.",
            "invalid-date",
            name,
        ) from None
    if not MIN_YEAR <= value.year <= MAX_YEAR:
        raise fhir_error(
            400, f"{name} must be within the years {MIN_YEAR}-{MAX_YEAR}.", "invalid-date", name
        )
    return value


def date_range(
    req: ApiRequest, name: str, default: tuple[datetime, datetime]
) -> tuple[datetime, datetime]:
    """[low, high) from ``name`` with FHIR prefixes ge/gt/le/lt/eq (bare means eq)."""
    low, high = default
    for value in values(req, name):
        prefix, rest = (value[:2], value[2:]) if value[:2].isalpha() else ("eq", value)
        if prefix in ("ge", "gt", "sa"):
            low = instant(name, rest)
        elif prefix in ("lt", "le", "eb"):
            high = instant(name, rest, end_of_day=prefix == "le")
        elif prefix == "eq":
            low, high = instant(name, rest), instant(name, rest, end_of_day=True)
        else:
            raise fhir_error(400, f"{name}: unsupported prefix '{prefix}'.", "invalid", name)
    if high <= low:
        raise fhir_error(400, f"{name}: the range is empty.", "invalid-date", name)
    return low, high


def _link(req: ApiRequest, offset: int, count: int) -> str:
    kept = [(k, v) for k, v in req.params if k not in ("_offset", "_count")]
    return f"{req.url}?{urlencode([*kept, ('_count', str(count)), ('_offset', str(offset))])}"


def searchset(
    req: ApiRequest,
    base: str,
    resources: Sequence[dict[str, Any]],
    total: int,
    offset: int,
    count: int,
    *,
    validate: bool = True,
) -> dict[str, Any]:
    """A Bundle of type searchset with self/first/previous/next/last links."""
    links = [{"relation": "self", "url": _link(req, offset, count)}]
    links.append({"relation": "first", "url": _link(req, 0, count)})
    if offset > 0 and count:
        links.append({"relation": "previous", "url": _link(req, max(0, offset - count), count)})
    if count and offset + count < total:
        links.append({"relation": "next", "url": _link(req, offset + count, count)})
    if count:
        last = max(0, (total - 1) // count * count)
        links.append({"relation": "last", "url": _link(req, last, count)})
    bundle = {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": total,
        "link": links,
        "entry": [
            {
                "fullUrl": f"{base}/{r['resourceType']}/{r['id']}",
                "resource": r,
                "search": {"mode": "match"},
            }
            for r in resources
        ],
    }
    if validate:
        Bundle.model_validate(bundle)
    return bundle
