"""GET /admin/api/visits pages: the total carried by the page's statement, the count past
the end, a superuser's scope, the audit entries of a page, and statements per request."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, event, select
from sqlalchemy.orm import Session, sessionmaker

from inquicker.operators import accounts
from inquicker.operators.models import AuditEntry
from tests.booking_http.helpers import book, ny
from tests.booking_http.world import CHEN_PC, GARCIA_PC, World
from tests.conftest import ApiClient
from tests.operators.conftest import Staff, bearer, email


def _list(api: ApiClient, token: str, **params: str) -> dict[str, Any]:
    response = api.get("/admin/api/visits", params=params, headers=bearer(token))
    assert response.status_code == 200, response.text
    document: dict[str, Any] = response.json()
    return document


@contextmanager
def _statements(engine: Engine) -> Iterator[list[str]]:
    seen: list[str] = []

    def count(*args: Any) -> None:
        seen.append(args[2])

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)


def test_pages_totals_and_audit(
    api: ApiClient, world: World, staff: Staff, session_factory: sessionmaker[Session]
) -> None:
    booked = [
        book(api, world.book, schedule, ny(day, clock))
        for schedule, day, clock in (
            (CHEN_PC, 1, "10:00"),
            (GARCIA_PC, 1, "11:00"),
            (CHEN_PC, 1, "12:00"),
            (CHEN_PC, 3, "11:00"),
        )
    ]
    token = staff.tokens["scheduler"]
    day = {"filter[from]": "2026-12-01", "filter[to]": "2026-12-01", "page[size]": "2"}
    first = _list(api, token, **day)
    second = _list(api, token, **day, **{"page[number]": "2"})
    past = _list(api, token, **day, **{"page[number]": "3"})
    assert [r["id"] for r in first["data"] + second["data"]] == [v["id"] for v in booked[:3]]
    assert [d["meta"]["record-count"] for d in (first, second, past)] == [3, 3, 3]
    assert past["data"] == [] and "next" not in second["links"]
    assert all("patient" in r["attributes"] for r in first["data"] + second["data"])
    assert first["data"][0]["attributes"]["appointment-at"] == ny(1, "10:00")
    with session_factory() as session:
        entries = session.scalars(select(AuditEntry).order_by(AuditEntry.pk)).all()
    reads = [e for e in entries if e.action == "visit.read"]
    # One entry per visit shown with patient data, none for the empty page.
    assert [e.visit_id for e in reads] == [v["id"] for v in booked[:3]]
    assert all(e.patient_data and e.actor == email("scheduler") for e in reads)
    assert all(e.details == {} and e.health_system_pk is not None for e in reads)

    # Sorted the other way, filtered by status and by provider's schedule.
    desc = _list(api, token, sort="-appointment-at", **{"page[size]": "3"})
    assert [r["id"] for r in desc["data"]] == [v["id"] for v in booked[::-1][:3]]
    assert desc["meta"]["record-count"] == 4
    assert _list(api, token, **{"filter[status]": "booked,cancelled"})["meta"]["record-count"] == 4
    assert _list(api, token, **{"filter[status]": "cancelled"})["meta"]["record-count"] == 0


def test_a_viewer_page_writes_no_audit_entry(
    api: ApiClient, world: World, staff: Staff, session_factory: sessionmaker[Session]
) -> None:
    book(api, world.book, CHEN_PC, ny(1, "10:00"))
    page = _list(api, staff.tokens["viewer"])
    assert len(page["data"]) == 1 and "patient" not in page["data"][0]["attributes"]
    with session_factory() as session:
        reads = session.scalars(select(AuditEntry).where(AuditEntry.action == "visit.read")).all()
    assert reads == []


def test_a_superuser_sees_every_health_system(
    api: ApiClient, world: World, staff: Staff, session_factory: sessionmaker[Session]
) -> None:
    ours = book(api, world.book, CHEN_PC, ny(1, "10:00"))
    with session_factory() as session, session.begin():
        accounts.create(
            session, health_system=None, email="root@example.org", role="admin", superuser=True
        )
        token = accounts.issue_token(session, "root@example.org")[1]
    page = _list(api, token, **{"filter[from]": "2026-12-01", "filter[to]": "2026-12-01"})
    assert [r["id"] for r in page["data"]] == [ours["id"]]
    assert _list(api, staff.other)["data"] == []


def test_statements_do_not_grow_with_the_page(
    api: ApiClient, world: World, staff: Staff, session_factory: sessionmaker[Session]
) -> None:
    for clock in ("10:00", "10:15", "10:30", "10:45"):
        book(api, world.book, CHEN_PC, ny(1, clock))
    engine = session_factory.kw["bind"]
    params = {"filter[from]": "2026-12-01", "filter[to]": "2026-12-01"}
    _list(api, staff.tokens["scheduler"], **params)  # the zones memo filled
    counts = []
    for size in ("1", "4"):
        with _statements(engine) as seen:
            _list(api, staff.tokens["scheduler"], **params, **{"page[size]": size})
        counts.append(len([s for s in seen if "pg_catalog" not in s]))
    # The token, the page with its total, the audit entries (plus BEGIN on SQLite).
    assert counts[0] == counts[1] <= 4
