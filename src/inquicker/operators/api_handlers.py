"""Handlers of the operator JSON API: parse the request, call the use case, render."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import urlencode

from sqlalchemy.orm import Session

from inquicker.booking import lifecycle
from inquicker.booking.visit_management_endpoint import parse_change
from inquicker.jsonapi.body import decode_body
from inquicker.jsonapi.errors import ApiError, ErrorObject, bad_parameter, not_found
from inquicker.jsonapi.negotiation import check_content_type
from inquicker.operators import repository, visits
from inquicker.operators.visits import Caller

PAGE_SIZE = 20
PAGE_MAX = 100
FEED_LIMIT = 100
FEED_MAX = 1000
_FILTERS = ("from", "to", "location", "provider", "schedule", "status")


@dataclass(frozen=True)
class OperatorRequest:
    path: dict[str, str]
    params: Sequence[tuple[str, str]]
    headers: dict[str, str]
    body: bytes
    base: str  # scheme://host/admin/api
    url: str  # this request's URL without its query


def _visit_resource(
    req: OperatorRequest,
    row: Any,
    patient: dict[str, Any] | None,
    appointment_at: str | None = None,
) -> dict[str, Any]:
    return {
        "type": "visits",
        "id": row.visit_id,
        "links": {"self": f"{req.base}/visits/{row.visit_id}"},
        "attributes": visits.attributes(row, patient, appointment_at),
        "relationships": {
            "schedule": {"data": {"type": "schedules", "id": row.schedule}},
            "location": {"data": {"type": "locations", "id": row.location}},
            "provider": {"data": {"type": "providers", "id": row.provider}},
        },
    }


def _date(key: str, value: str, errors: list[ErrorObject]) -> date | None:
    try:
        parsed = date.fromisoformat(value.strip())
    except ValueError:
        parsed = None
    if parsed is None or not 1900 <= parsed.year <= 2200:
        errors.append(bad_parameter(key, f"{key} must be a date (YYYY-MM-DD), 1900 to 2200."))
        return None
    return parsed


def _int(key: str, value: str, low: int, high: int, errors: list[ErrorObject]) -> int:
    if not (value.isascii() and value.isdigit()) or not low <= int(value) <= high:
        errors.append(bad_parameter(key, f"{key} must be an integer from {low} to {high}."))
        return low
    return int(value)


def visits_list(session: Session, caller: Caller, req: OperatorRequest) -> dict[str, Any]:
    errors: list[ErrorObject] = []
    found: dict[str, Any] = {}
    sort: list[tuple[str, bool]] = [("appointment-at", False)]
    number, size = 1, PAGE_SIZE
    for key, value in req.params:
        if key.startswith("filter[") and key.endswith("]") and key[7:-1] in _FILTERS:
            name = key[7:-1]
            if name in ("from", "to"):
                found[name] = _date(key, value, errors)
            elif name == "status":
                statuses = [s.strip() for s in value.split(",") if s.strip()]
                bad = [s for s in statuses if s not in lifecycle.STATUSES]
                if bad:
                    errors.append(
                        bad_parameter(key, f"status must be among {', '.join(lifecycle.STATUSES)}.")
                    )
                found[name] = statuses
            else:
                found[name] = value.strip()
        elif key == "sort":
            sort = []
            for part in (p.strip() for p in value.split(",") if p.strip()):
                name = part.lstrip("-")
                if name not in repository.SORTS:
                    errors.append(
                        bad_parameter(
                            "sort", f"sort by one of {', '.join(repository.SORTS)} (- for desc)."
                        )
                    )
                sort.append((name, part.startswith("-")))
        elif key == "page[number]":
            number = _int(key, value, 1, 10_000_000, errors)
        elif key == "page[size]":
            size = _int(key, value, 1, PAGE_MAX, errors)
        else:
            errors.append(bad_parameter(key, f"Unknown query parameter '{key}'."))
    if errors:
        raise ApiError(errors)
    filters = repository.VisitFilters(
        health_system_pks=caller.principal.health_system_pks,
        date_from=found.get("from"),
        date_to=found.get("to"),
        location=found.get("location"),
        provider=found.get("provider"),
        schedule=found.get("schedule"),
        statuses=found.get("status", ()),
    )
    rows, total = visits.page(session, caller, filters, sort, (number - 1) * size, size)
    last = max(1, -(-total // size))
    # The caller's other parameters encoded once for the five links (urlencode per link
    # was ~5% of a page's CPU); the same text as encoding each link whole.
    kept = urlencode([(k, v) for k, v in req.params if not k.startswith("page[")])
    prefix = f"{req.url}?{kept}&" if kept else f"{req.url}?"

    def link(n: int) -> str:
        return f"{prefix}page%5Bnumber%5D={n}&page%5Bsize%5D={size}"

    links = {"self": link(number), "first": link(1), "last": link(last)}
    if number > 1:
        links["prev"] = link(number - 1)
    if number < last:
        links["next"] = link(number + 1)
    return {
        "data": [
            _visit_resource(req, row, patient, at)
            for (row, patient), at in zip(
                rows, visits.appointment_times([row for row, _ in rows]), strict=True
            )
        ],
        "meta": {"record-count": total},
        "links": links,
    }


def _missing(visit_id: str) -> ApiError:
    # Another health system's visit and an unknown id look alike: no oracle.
    return not_found(f"No visit with id '{visit_id}'.")


def visit_show(session: Session, caller: Caller, req: OperatorRequest) -> dict[str, Any]:
    if req.params:
        raise ApiError([bad_parameter(k, f"Unknown query parameter '{k}'.") for k, _ in req.params])
    row, patient = visits.read(session, caller, req.path["id"])
    if row is None:
        raise _missing(req.path["id"])
    resource = _visit_resource(req, row, patient)
    return {"data": resource, "links": {"self": resource["links"]["self"]}}


def visit_update(session: Session, caller: Caller, req: OperatorRequest) -> dict[str, Any]:
    check_content_type(req.headers.get("content-type"))
    visit_id = req.path["id"]
    attributes, relationships, meta = parse_change(decode_body(req.body), visit_id)
    row = visits.change(session, caller, visit_id, req.base, attributes, relationships, meta)
    if row is None:
        raise _missing(visit_id)
    resource = _visit_resource(req, row, None)
    return {"data": resource, "links": {"self": resource["links"]["self"]}}


def events_feed(session: Session, caller: Caller, req: OperatorRequest) -> dict[str, Any]:
    """Events after the cursor, in feed order; ``links.next`` continues after the last one."""
    errors: list[ErrorObject] = []
    after, limit = 0, FEED_LIMIT
    for key, value in req.params:
        if key == "after":
            after = _int(key, value, 0, 2**62, errors)
        elif key == "limit":
            limit = _int(key, value, 1, FEED_MAX, errors)
        else:
            errors.append(bad_parameter(key, f"Unknown query parameter '{key}'."))
    if errors:
        raise ApiError(errors)
    rows = repository.feed(session.connection(), caller.principal.health_system_pks, after, limit)
    cursor = rows[-1].position if rows else after
    data = [
        {
            "type": "events",
            "id": str(row.pk),
            "attributes": {
                "event-type": row.type,
                "occurred-at": row.occurred_at.isoformat().replace("+00:00", "Z"),
                "cursor": str(row.position),
                **row.payload,
            },
        }
        for row in rows
    ]
    this = f"{req.url}?{urlencode(list(req.params))}" if req.params else req.url
    return {
        "data": data,
        "meta": {"cursor": str(cursor)},
        "links": {
            "self": this,
            "next": f"{req.url}?{urlencode([('after', cursor), ('limit', limit)])}",
        },
    }
