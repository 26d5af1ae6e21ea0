"""GET /available-appointment-times/explain (SPEC section 12b) over HTTP, on both engines.

The clock is fixed at 2026-12-01T12:00:00Z (07:00 in New York); see fixture.py for the
schedules' rules. Every day of New York's 15-minute grid has 96 grid times.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from httpx2 import Response
from sqlalchemy.orm import Session, sessionmaker

from tests.availability_http.fixture import (
    HOST,
    KOLKATA,
    NOW_EPOCH,
    NY_CLINIC,
    NY_GROUP,
    NY_RETIRED,
    OTHER_HOST,
    OTHER_SCHEDULE,
    Avail,
    claim,
)
from tests.availability_http.helpers import bad_parameter, get, ids, times_of
from tests.conftest import ApiClient

EXPLAIN = "/available-appointment-times/explain"
Entry = tuple[str, bool, str | None]


def explain(
    api: ApiClient,
    key: str | None,
    schedule: str,
    on: str,
    appointment_type: str | None = None,
    **options: Any,
) -> Response:
    params = [("schedule_id", schedule), ("date", on)]
    if appointment_type is not None:
        params.append(("appointment_type", appointment_type))
    return get(api, params, key, path=options.pop("path", EXPLAIN), **options)


def entries(response: Response) -> list[Entry]:
    """(time, offered, reason) per grid time of a successful explain response."""
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert isinstance(body, list)
    for element in body:
        assert set(element) == {"time", "offered", "reason"}, element
        assert element["offered"] is (element["reason"] is None)
    return [(e["time"], e["offered"], e["reason"]) for e in body]


def not_closed(found: list[Entry]) -> list[Entry]:
    return [e for e in found if e[2] != "closed"]


def offered(found: list[Entry]) -> list[str]:
    return [time for time, yes, _ in found if yes]


def ny(day: int, clock: str, reason: str | None = None) -> Entry:
    return (f"2026-12-{day:02d}T{clock}:00-05:00", reason is None, reason)


# --- what explain says -------------------------------------------------------------------


def test_an_ordinary_monday(api: ApiClient, avail: Avail) -> None:
    found = entries(explain(api, avail.key, NY_CLINIC, "2026-12-07"))
    assert len(found) == 96
    assert found[0] == ny(7, "00:00", "closed")
    assert found[-1] == ny(7, "23:45", "closed")
    assert not_closed(found) == [
        ny(7, "09:00"),
        ny(7, "09:15"),
        ny(7, "09:30"),
        ny(7, "09:45"),
        ny(7, "13:00"),
        ny(7, "13:15"),
        ny(7, "13:30"),
        ny(7, "13:45"),
    ]


def test_today_before_the_lead_time(api: ApiClient, avail: Avail) -> None:
    # 12:00Z + 150 minutes = 14:30Z = 09:30 EST.
    found = entries(explain(api, avail.key, NY_CLINIC, "2026-12-01"))
    assert not_closed(found) == [
        ny(1, "09:00", "before-lead-time"),
        ny(1, "09:15", "before-lead-time"),
        ny(1, "09:30"),
        ny(1, "09:45"),
        ny(1, "13:00"),
        ny(1, "13:15"),
        ny(1, "13:30"),
        ny(1, "13:45"),
    ]
    # The past is never offered either: earlier times of the day are closed or too soon.
    assert found[28] == ny(1, "07:00", "closed")


def test_a_past_date_is_before_the_lead_time(api: ApiClient, avail: Avail) -> None:
    found = entries(explain(api, avail.key, NY_CLINIC, "2026-11-30"))
    assert [reason for _, _, reason in not_closed(found)] == ["before-lead-time"] * 8


def test_after_the_horizon(api: ApiClient, avail: Avail) -> None:
    # 90 days after 2026-12-01T12:00Z is 2027-03-01T12:00Z = 07:00 EST, a Monday.
    found = entries(explain(api, avail.key, NY_CLINIC, "2027-03-01"))
    assert [reason for _, _, reason in not_closed(found)] == ["after-horizon"] * 8
    day_before = entries(explain(api, avail.key, NY_CLINIC, "2027-02-26"))
    assert len(offered(day_before)) == 8


def test_date_exceptions(api: ApiClient, avail: Avail) -> None:
    closed_day = entries(explain(api, avail.key, NY_CLINIC, "2026-12-08"))
    assert not_closed(closed_day) == [
        ny(8, "09:00", "exception"),
        ny(8, "09:15", "exception"),
        ny(8, "09:30", "exception"),
        ny(8, "09:45", "exception"),
        ny(8, "13:00", "exception"),
        ny(8, "13:15", "exception"),
        ny(8, "13:30", "exception"),
        ny(8, "13:45", "exception"),
    ]
    short_day = entries(explain(api, avail.key, NY_CLINIC, "2026-12-09"))
    assert not_closed(short_day) == [
        ny(9, "09:00", "exception"),
        ny(9, "09:15", "exception"),
        ny(9, "09:30", "exception"),
        ny(9, "09:45", "exception"),
        ny(9, "13:00", "exception"),
        ny(9, "13:15", "exception"),
        ny(9, "13:30", "exception"),
        ny(9, "13:45", "exception"),
        ny(9, "15:00"),
        ny(9, "15:15"),
    ]


def test_a_long_type_overruns_closing(api: ApiClient, avail: Avail) -> None:
    # follow-up lasts 45 minutes on this schedule: three 15-minute cells.
    found = entries(explain(api, avail.key, NY_CLINIC, "2026-12-07", "follow-up"))
    assert not_closed(found) == [
        ny(7, "09:00"),
        ny(7, "09:15"),
        ny(7, "09:30", "duration-overruns-hours"),
        ny(7, "09:45", "duration-overruns-hours"),
        ny(7, "13:00"),
        ny(7, "13:15"),
        ny(7, "13:30", "duration-overruns-hours"),
        ny(7, "13:45", "duration-overruns-hours"),
    ]


def test_full_and_held_seats(
    api: ApiClient, avail: Avail, session_factory: sessionmaker[Session]
) -> None:
    pk = avail.pks[NY_CLINIC]
    with session_factory() as session, session.begin():
        claim(session, pk, "2026-12-07T09:15:00-05:00")  # a booked visit
        claim(session, pk, "2026-12-07T13:15:00-05:00", expires_at=NOW_EPOCH + 600)
        claim(session, pk, "2026-12-07T13:45:00-05:00", expires_at=NOW_EPOCH)  # expired
    found = entries(explain(api, avail.key, NY_CLINIC, "2026-12-07", "long-visit"))
    assert not_closed(found) == [
        ny(7, "09:00", "full"),  # its second cell is booked
        ny(7, "09:15", "full"),
        ny(7, "09:30"),
        ny(7, "09:45", "duration-overruns-hours"),
        ny(7, "13:00", "held"),
        ny(7, "13:15", "held"),
        ny(7, "13:30"),  # the hold on 13:45 has expired
        ny(7, "13:45", "duration-overruns-hours"),
    ]


def test_capacity_counts_seats(
    api: ApiClient, avail: Avail, session_factory: sessionmaker[Session]
) -> None:
    # ny-group: 30-minute grid, capacity 3, Mon-Fri 10:00-11:30.
    pk = avail.pks[NY_GROUP]
    with session_factory() as session, session.begin():
        claim(session, pk, "2026-12-07T10:00:00-05:00", seats=3)
        claim(session, pk, "2026-12-07T10:30:00-05:00", seats=2)
        claim(session, pk, "2026-12-07T10:30:00-05:00", expires_at=NOW_EPOCH + 60, first_seat=2)
        claim(session, pk, "2026-12-07T11:00:00-05:00", seats=2)
    found = entries(explain(api, avail.key, NY_GROUP, "2026-12-07"))
    assert len(found) == 48
    assert not_closed(found) == [ny(7, "10:00", "full"), ny(7, "10:30", "held"), ny(7, "11:00")]


def test_kolkata_half_hour_offset(api: ApiClient, avail: Avail) -> None:
    found = entries(explain(api, avail.key, KOLKATA, "2026-12-07", "consult"))
    assert len(found) == 48
    assert found[0] == ("2026-12-07T00:00:00+05:30", False, "closed")
    assert [(t[11:16], reason) for t, _, reason in not_closed(found)] == [
        ("10:00", None),
        ("10:30", None),
        ("11:00", None),
        ("11:30", "duration-overruns-hours"),
        ("14:00", None),
        ("14:30", "duration-overruns-hours"),
    ]


@pytest.mark.parametrize(
    ("schedule", "appointment_type"),
    [
        (NY_CLINIC, None),
        (NY_CLINIC, "follow-up"),
        (NY_CLINIC, "long-visit"),
        (NY_GROUP, None),
        (KOLKATA, "consult"),
    ],
)
def test_offered_exactly_when_section_5_offers(
    api: ApiClient,
    avail: Avail,
    session_factory: sessionmaker[Session],
    schedule: str,
    appointment_type: str | None,
) -> None:
    with session_factory() as session, session.begin():
        claim(session, avail.pks[NY_CLINIC], "2026-12-02T09:30:00-05:00")
        claim(session, avail.pks[NY_CLINIC], "2026-12-03T13:00:00-05:00", expires_at=NOW_EPOCH + 1)
        claim(session, avail.pks[NY_GROUP], "2026-12-02T10:30:00-05:00", seats=3)
        claim(session, avail.pks[KOLKATA], "2026-12-02T10:30:00+05:30")
    for offset in range(10):
        on = (date(2026, 12, 1) + timedelta(days=offset)).isoformat()
        params = [*ids(schedule), ("from", on), ("to", on)]
        if appointment_type:
            params.append(("appointment_type", appointment_type))
        section_5 = times_of(get(api, params, avail.key))[schedule]
        assert offered(entries(explain(api, avail.key, schedule, on, appointment_type))) == (
            section_5
        ), on


# --- addresses -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("prefix", "path"),
    [
        ("/api/v3", EXPLAIN),
        ("/v3", EXPLAIN),
        ("/api/v3", "/available_appointment_times/explain"),
        ("/api/v3", EXPLAIN + "/"),
    ],
)
def test_addresses(api: ApiClient, avail: Avail, prefix: str, path: str) -> None:
    found = entries(explain(api, avail.key, NY_CLINIC, "2026-12-07", prefix=prefix, path=path))
    assert len(offered(found)) == 8


def test_key_in_the_authorization_header(api: ApiClient, avail: Avail) -> None:
    response = api.get(
        f"/api/v3/{HOST}{EXPLAIN}",
        params={"schedule_id": NY_CLINIC, "date": "2026-12-07"},
        headers={"Authorization": f"Bearer {avail.key}"},
    )
    assert len(offered(entries(response))) == 8


@pytest.mark.parametrize("path", ["/available-appointment-times/why", EXPLAIN + "/more"])
def test_other_sub_paths_are_404(api: ApiClient, avail: Avail, path: str) -> None:
    response = explain(api, avail.key, NY_CLINIC, "2026-12-07", path=path)
    assert response.status_code == 404
    assert response.json()["errors"][0]["code"] == "not-found"


def test_post_is_405(api: ApiClient, avail: Avail) -> None:
    response = api.post(f"/api/v3/{HOST}{EXPLAIN}?api_key={avail.key}")
    assert response.status_code == 405
    assert set(response.headers["allow"].replace(" ", "").split(",")) == {"GET", "HEAD"}


# --- refusals ------------------------------------------------------------------------------


def test_missing_key_is_401(api: ApiClient, avail: Avail) -> None:
    response = explain(api, None, NY_CLINIC, "2026-12-07")
    assert response.status_code == 401
    assert response.json()["errors"][0]["status"] == "401"


def test_other_sites_key_is_401(api: ApiClient, avail: Avail) -> None:
    assert explain(api, avail.other_key, NY_CLINIC, "2026-12-07").status_code == 401


@pytest.mark.parametrize("schedule", ["no-such-schedule", OTHER_SCHEDULE, NY_RETIRED])
def test_unknown_schedule_is_404(api: ApiClient, avail: Avail, schedule: str) -> None:
    response = explain(api, avail.key, schedule, "2026-12-07")
    assert bad_parameter(response, 404) == ["schedule_id"]
    assert schedule in response.json()["errors"][0]["detail"]


def test_other_tenant_sees_only_its_own(api: ApiClient, avail: Avail) -> None:
    response = explain(api, avail.other_key, NY_CLINIC, "2026-12-07", host=OTHER_HOST)
    assert bad_parameter(response, 404) == ["schedule_id"]
    assert (
        len(
            offered(
                entries(
                    explain(api, avail.other_key, OTHER_SCHEDULE, "2026-12-07", host=OTHER_HOST)
                )
            )
        )
        == 32
    )


def test_missing_schedule_id_is_400(api: ApiClient, avail: Avail) -> None:
    assert bad_parameter(get(api, [("date", "2026-12-07")], avail.key, path=EXPLAIN)) == [
        "schedule_id"
    ]
    assert bad_parameter(explain(api, avail.key, " ", "2026-12-07")) == ["schedule_id"]


@pytest.mark.parametrize(
    "value",
    [
        "",
        "2026-13-01",
        "2026-02-30",
        "2026-12-7",
        "20261207",
        "tomorrow",
        "2026-12-07T09:00:00-05:00",
        "0001-01-01",
        "9999-12-31",
        "1899-12-31",
        "2201-01-01",
        "2026-12-07\x01",
    ],
)
def test_bad_date_is_400_naming_date(api: ApiClient, avail: Avail, value: str) -> None:
    assert bad_parameter(explain(api, avail.key, NY_CLINIC, value)) == ["date"]


def test_missing_date_is_400(api: ApiClient, avail: Avail) -> None:
    response = get(api, [("schedule_id", NY_CLINIC)], avail.key, path=EXPLAIN)
    assert bad_parameter(response) == ["date"]


def test_the_year_bounds_themselves_are_accepted(api: ApiClient, avail: Avail) -> None:
    assert len(entries(explain(api, avail.key, NY_CLINIC, "1900-01-01"))) == 96
    assert len(entries(explain(api, avail.key, NY_CLINIC, "2200-12-31"))) == 96


def test_every_problem_together(api: ApiClient, avail: Avail) -> None:
    response = explain(api, avail.key, "no-such-schedule", "soon")
    assert response.status_code == 400  # mixed 400 and 404: 400 overall
    errs = response.json()["errors"]
    assert [(e["status"], e["source"]["parameter"]) for e in errs] == [
        ("400", "date"),
        ("404", "schedule_id"),
    ]


@pytest.mark.parametrize("type_id", ["no-such-type", "unused-type", "consult", "other-visit"])
def test_a_type_the_schedule_does_not_offer_is_400(
    api: ApiClient, avail: Avail, type_id: str
) -> None:
    response = explain(api, avail.key, NY_CLINIC, "2026-12-07", type_id)
    assert bad_parameter(response) == ["appointment_type"]
    assert type_id in response.json()["errors"][0]["detail"]
