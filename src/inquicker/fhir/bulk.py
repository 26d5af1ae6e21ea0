"""SMART Scheduling Links: GET $bulk-publish (manifest) and its NDJSON files.

Public (no key) only for health systems whose bundle sets ``publish_slots``; otherwise
404, so an unpublished system is indistinguishable from an unknown one. Slots come from
the same engine as every other face: free (with the capacity extension and the booking
deep link) and busy, over the next PUBLISH_DAYS days. ETag/If-None-Match is the request
pipeline's (a file's tag changes exactly when its bytes do).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import quote

import orjson
from starlette.responses import Response

from inquicker.availability.repository import cached_schedules
from inquicker.fhir import repository as repo
from inquicker.fhir import resources as build
from inquicker.fhir.outcome import fhir_error
from inquicker.fhir.search import instant, values
from inquicker.fhir.slots import local_pair, slot_times
from inquicker.web.context import RequestContext
from inquicker.web.request import ApiRequest

NDJSON = "application/fhir+ndjson"
FILES = {"Location": "locations.ndjson", "Schedule": "schedules.ndjson", "Slot": "slots.ndjson"}
PUBLISH_DAYS = 28
BATCH = 500  # schedules per engine call: bounded memory for large systems


def _published(ctx: RequestContext) -> list[int]:
    pks = repo.publishing(ctx.session.connection(), ctx.tenant.health_system_pks)
    if not pks:
        raise fhir_error(404, "This site does not publish its slots.", "not-found")
    return pks


def manifest(ctx: RequestContext, req: ApiRequest) -> dict[str, Any]:
    _published(ctx)
    since = values(req, "_since")
    if since:
        instant("_since", since[-1])  # validated; every file is current (slots are computed)
    suffix = f"?_since={quote(since[-1])}" if since else ""
    # transactionTime is the start of the current minute so that repeated polls within it
    # get the same bytes (and a 304) unless slots changed.
    stamp = ctx.now.replace(second=0, microsecond=0).isoformat().replace("+00:00", "Z")
    return {
        "transactionTime": stamp,
        "request": req.url + suffix,
        "output": [
            {"type": kind, "url": f"{ctx.base_url}/$bulk-publish/{name}{suffix}"}
            for kind, name in FILES.items()
        ],
        "error": [],
    }


def _deep_link(template: str | None, schedule_id: str, slot_id: str, start: str) -> str | None:
    if not template:
        return None
    return (
        template.replace("{schedule}", quote(schedule_id, safe=""))
        .replace("{slot}", quote(slot_id, safe=""))
        .replace("{start}", quote(start, safe=""))
    )


def ndjson_file(ctx: RequestContext, req: ApiRequest) -> Response:
    hs_pks = _published(ctx)
    name = req.path_params["file"]
    kind = next((k for k, n in FILES.items() if n == name), None)
    if kind is None:
        raise fhir_error(404, f"No file '{name[:100]}'.", "not-found")
    conn = ctx.session.connection()
    lines: list[bytes] = []
    if kind == "Location":
        page = repo.locations(conn, hs_pks, (), 0, 1_000_000)
        lines = [orjson.dumps(build.location(r)) for r in page.rows]
    else:
        page = repo.schedules(conn, hs_pks, repo.ScheduleFilter(), 0, 1_000_000)
        if kind == "Schedule":
            lines = [orjson.dumps(build.schedule(r)) for r in page.rows]
        else:
            lines = _slot_lines(ctx, page.rows)
    body = b"\n".join(lines) + (b"\n" if lines else b"")
    return Response(body, media_type=NDJSON)


def _slot_lines(ctx: RequestContext, rows: list[Any]) -> list[bytes]:
    template = repo.booking_url_template(ctx.session.connection(), ctx.tenant.site_pk)
    low, high = ctx.now, ctx.now + timedelta(days=PUBLISH_DAYS)
    lines: list[bytes] = []
    for at in range(0, len(rows), BATCH):
        chunk = {r.slug: r for r in rows[at : at + BATCH]}
        bookable = cached_schedules(ctx.session, ctx.memo, ctx.tenant, list(chunk))
        wanted = [(s, s.default_type()) for s in (bookable[k] for k in chunk if k in bookable)]
        computed = slot_times(ctx.session, wanted, low, high, ctx.now)
        for schedule, offered in wanted:
            validated = set()
            for t in computed[schedule.pk]:
                status = "free" if t.free else "busy"
                times = local_pair(schedule, t.start, t.end)
                ident = build.slot_id(schedule.id, t.start)
                extensions: list[dict[str, Any]] = [
                    {"url": build.SLOT_CAPACITY, "valueInteger": t.seats}
                ]
                link = _deep_link(template, schedule.id, ident, times[0]) if t.free else None
                if link:
                    extensions.append({"url": build.BOOKING_DEEP_LINK, "valueUrl": link})
                # Validating every slot of a large system costs seconds; slots of one schedule
                # and status share their shape, so one of each is validated.
                slot = build.slot(
                    chunk[schedule.id],
                    t.start,
                    times,
                    status,
                    (offered.id, offered.name) if offered else None,
                    extensions,
                    validate=status not in validated,
                )
                validated.add(status)
                lines.append(orjson.dumps(slot))
    return lines
