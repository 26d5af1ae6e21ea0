"""Offered times over HTTP, with the exact times a patient would see (SPEC section 5).

The clock is fixed at 2026-12-01T12:00:00Z; see fixture.py for the schedules' rules.
"""

from __future__ import annotations

from urllib.parse import quote

import pytest
from sqlalchemy.orm import Session, sessionmaker

from tests.availability_http.fixture import (
    EXTRA_IDS,
    HOST,
    KOLKATA,
    NOW_EPOCH,
    NY_CLINIC,
    NY_GROUP,
    Avail,
    claim,
)
from tests.availability_http.helpers import (
    KOLKATA_DAY,
    NY_CLINIC_DAY,
    NY_GROUP_DAY,
    PATH,
    get,
    ids,
    kolkata,
    ny,
    ok,
    times_of,
)
from tests.conftest import ApiClient

DEC_7 = [("from", "2026-12-07"), ("to", "2026-12-07")]

NY_CLINIC_DEC_7 = [
    "2026-12-07T09:00:00-05:00",
    "2026-12-07T09:15:00-05:00",
    "2026-12-07T09:30:00-05:00",
    "2026-12-07T09:45:00-05:00",
    "2026-12-07T13:00:00-05:00",
    "2026-12-07T13:15:00-05:00",
    "2026-12-07T13:30:00-05:00",
    "2026-12-07T13:45:00-05:00",
]
KOLKATA_DEC_7 = [
    "2026-12-07T10:00:00+05:30",
    "2026-12-07T10:30:00+05:30",
    "2026-12-07T11:00:00+05:30",
    "2026-12-07T11:30:00+05:30",
    "2026-12-07T14:00:00+05:30",
    "2026-12-07T14:30:00+05:30",
]
NY_GROUP_DEC_7 = [
    "2026-12-07T10:00:00-05:00",
    "2026-12-07T10:30:00-05:00",
    "2026-12-07T11:00:00-05:00",
]


# --- response shape and addressing ---------------------------------------------------------


def test_one_day_for_three_schedules_exact_body(api: ApiClient, avail: Avail) -> None:
    response = get(api, [*ids(NY_CLINIC, KOLKATA, NY_GROUP), *DEC_7], avail.key)
    assert ok(response) == [
        {"schedule-id": NY_CLINIC, "appointment-type": "quick-check", "times": NY_CLINIC_DEC_7},
        {"schedule-id": KOLKATA, "appointment-type": "tele-visit", "times": KOLKATA_DEC_7},
        {"schedule-id": NY_GROUP, "appointment-type": "group-class", "times": NY_GROUP_DEC_7},
    ]


@pytest.mark.parametrize(
    "order",
    [
        (NY_CLINIC, KOLKATA, NY_GROUP),
        (NY_GROUP, NY_CLINIC, KOLKATA),
        (KOLKATA, NY_GROUP, NY_CLINIC),
    ],
)
def test_elements_follow_request_order(
    api: ApiClient, avail: Avail, order: tuple[str, ...]
) -> None:
    body = ok(get(api, [*ids(*order), *DEC_7], avail.key))
    assert [e["schedule-id"] for e in body] == list(order)


def test_repeated_id_is_answered_once(api: ApiClient, avail: Avail) -> None:
    # The implementation de-duplicates, keeping the first position.
    body = ok(get(api, [*ids(NY_CLINIC, KOLKATA, NY_CLINIC), *DEC_7], avail.key))
    assert [e["schedule-id"] for e in body] == [NY_CLINIC, KOLKATA]


@pytest.mark.parametrize(
    "params",
    [
        [("schedule_ids[]", NY_CLINIC), ("schedule_ids[]", KOLKATA)],
        [("schedule_ids", f"{NY_CLINIC},{KOLKATA}")],
        [("schedule_ids", f" {NY_CLINIC} , {KOLKATA} ,")],
        [("schedule_ids", NY_CLINIC), ("schedule_ids[]", KOLKATA)],
    ],
    ids=["repeated-brackets", "comma-list", "comma-list-with-blanks", "mixed"],
)
def test_schedule_ids_spellings(
    api: ApiClient, avail: Avail, params: list[tuple[str, str]]
) -> None:
    assert times_of(get(api, [*params, *DEC_7], avail.key)) == {
        NY_CLINIC: NY_CLINIC_DEC_7,
        KOLKATA: KOLKATA_DEC_7,
    }


@pytest.mark.parametrize(
    ("prefix", "path"),
    [
        ("/api/v3", "/available-appointment-times"),
        ("/api/v3", "/available_appointment_times"),
        ("/api/v3", "/available-appointment-times/"),
        ("/v3", "/available-appointment-times"),
        ("/v3", "/available_appointment_times"),
    ],
)
def test_aliases_and_prefixes(api: ApiClient, avail: Avail, prefix: str, path: str) -> None:
    response = get(api, [*ids(NY_CLINIC), *DEC_7], avail.key, prefix=prefix, path=path)
    assert times_of(response) == {NY_CLINIC: NY_CLINIC_DEC_7}


def test_key_in_header(api: ApiClient, avail: Avail) -> None:
    response = api.get(
        f"/api/v3/{HOST}{PATH}",
        params=[*ids(NY_CLINIC), *DEC_7],
        headers={"Authorization": f"Bearer {avail.key}"},
    )
    assert times_of(response) == {NY_CLINIC: NY_CLINIC_DEC_7}


def test_head_answers_without_body(api: ApiClient, avail: Avail) -> None:
    response = api.head(
        f"/api/v3/{HOST}{PATH}", params=[*ids(NY_CLINIC), *DEC_7, ("api_key", avail.key)]
    )
    assert response.status_code == 200
    assert response.content == b""


# --- appointment types ---------------------------------------------------------------------


def test_default_type_is_highest_priority_of_each_schedule(api: ApiClient, avail: Avail) -> None:
    body = ok(get(api, [*ids(NY_CLINIC, NY_GROUP, KOLKATA), *DEC_7], avail.key))
    # quick-check (priority 1) beats follow-up (2) and long-visit (3) though linked last and
    # named last; tele-visit (2) beats consult (4); the tenant's unlinked priority-1
    # unused-type is nobody's default.
    assert [e["appointment-type"] for e in body] == ["quick-check", "group-class", "tele-visit"]


def test_thirty_minute_type_needs_two_free_cells(api: ApiClient, avail: Avail) -> None:
    response = get(api, [*ids(NY_CLINIC), *DEC_7, ("appointment_type", "long-visit")], avail.key)
    assert ok(response) == [
        {
            "schedule-id": NY_CLINIC,
            "appointment-type": "long-visit",
            # 09:45 and 13:45 would run into lunch / closing.
            "times": [
                "2026-12-07T09:00:00-05:00",
                "2026-12-07T09:15:00-05:00",
                "2026-12-07T09:30:00-05:00",
                "2026-12-07T13:00:00-05:00",
                "2026-12-07T13:15:00-05:00",
                "2026-12-07T13:30:00-05:00",
            ],
        }
    ]


def test_schedule_duration_override(api: ApiClient, avail: Avail) -> None:
    # follow-up is 15 minutes, but 45 (three cells) on ny-clinic.
    response = get(api, [*ids(NY_CLINIC), *DEC_7, ("appointment_type", "follow-up")], avail.key)
    assert times_of(response) == {
        NY_CLINIC: [
            "2026-12-07T09:00:00-05:00",
            "2026-12-07T09:15:00-05:00",
            "2026-12-07T13:00:00-05:00",
            "2026-12-07T13:15:00-05:00",
        ]
    }


def test_sixty_minute_type_on_thirty_minute_grid_in_kolkata(api: ApiClient, avail: Avail) -> None:
    response = get(api, [*ids(KOLKATA), *DEC_7, ("appointment_type", "consult")], avail.key)
    assert ok(response) == [
        {
            "schedule-id": KOLKATA,
            "appointment-type": "consult",
            "times": [
                "2026-12-07T10:00:00+05:30",
                "2026-12-07T10:30:00+05:30",
                "2026-12-07T11:00:00+05:30",
                "2026-12-07T14:00:00+05:30",
            ],
        }
    ]


def test_schedule_not_offering_requested_type_gets_no_times(api: ApiClient, avail: Avail) -> None:
    response = get(
        api,
        [*ids(KOLKATA, NY_CLINIC, NY_GROUP), *DEC_7, ("appointment_type", "long-visit")],
        avail.key,
    )
    assert ok(response) == [
        {"schedule-id": KOLKATA, "appointment-type": "long-visit", "times": []},
        {
            "schedule-id": NY_CLINIC,
            "appointment-type": "long-visit",
            "times": ny("07", "09:00", "09:15", "09:30", "13:00", "13:15", "13:30"),
        },
        {"schedule-id": NY_GROUP, "appointment-type": "long-visit", "times": []},
    ]


def test_tenant_type_offered_by_none_of_the_schedules(api: ApiClient, avail: Avail) -> None:
    response = get(
        api, [*ids(NY_CLINIC, KOLKATA), *DEC_7, ("appointment_type", "unused-type")], avail.key
    )
    assert ok(response) == [
        {"schedule-id": NY_CLINIC, "appointment-type": "unused-type", "times": []},
        {"schedule-id": KOLKATA, "appointment-type": "unused-type", "times": []},
    ]


def test_empty_appointment_type_means_default(api: ApiClient, avail: Avail) -> None:
    response = get(api, [*ids(NY_CLINIC), *DEC_7, ("appointment_type", "")], avail.key)
    assert ok(response)[0]["appointment-type"] == "quick-check"


# --- hours, exceptions, lead time, horizon -------------------------------------------------


def test_closed_exception_date(api: ApiClient, avail: Avail) -> None:
    day = [("from", "2026-12-08"), ("to", "2026-12-08")]
    assert times_of(get(api, [*ids(NY_CLINIC, NY_GROUP), *day], avail.key)) == {
        NY_CLINIC: [],
        NY_GROUP: ny("08", *NY_GROUP_DAY),
    }


def test_replacement_hours_exception_date(api: ApiClient, avail: Avail) -> None:
    day = [("from", "2026-12-09"), ("to", "2026-12-09")]
    assert times_of(get(api, [*ids(NY_CLINIC), *day], avail.key)) == {
        NY_CLINIC: ["2026-12-09T15:00:00-05:00", "2026-12-09T15:15:00-05:00"]
    }
    long_visit = get(api, [*ids(NY_CLINIC), *day, ("appointment_type", "long-visit")], avail.key)
    assert times_of(long_visit) == {NY_CLINIC: ["2026-12-09T15:00:00-05:00"]}
    follow_up = get(api, [*ids(NY_CLINIC), *day, ("appointment_type", "follow-up")], avail.key)
    assert times_of(follow_up) == {NY_CLINIC: []}


def test_kolkata_saturday_open_and_closed_exception(api: ApiClient, avail: Avail) -> None:
    saturday = [("from", "2026-12-05"), ("to", "2026-12-05")]
    assert times_of(get(api, [*ids(KOLKATA, NY_CLINIC), *saturday], avail.key)) == {
        KOLKATA: [
            "2026-12-05T10:00:00+05:30",
            "2026-12-05T10:30:00+05:30",
            "2026-12-05T11:00:00+05:30",
            "2026-12-05T11:30:00+05:30",
            "2026-12-05T14:00:00+05:30",
            "2026-12-05T14:30:00+05:30",
        ],
        NY_CLINIC: [],
    }
    closed = [("from", "2026-12-12"), ("to", "2026-12-12")]
    assert times_of(get(api, [*ids(KOLKATA), *closed], avail.key)) == {KOLKATA: []}


def test_lead_time_today(api: ApiClient, avail: Avail) -> None:
    # Now is 07:00 in New York; ny-clinic's 150-minute lead makes 09:30 the first start.
    # Kolkata is already at 17:30, after its hours; ny-group has no lead time.
    today = [("from", "2026-12-01"), ("to", "2026-12-01")]
    assert times_of(get(api, [*ids(NY_CLINIC, KOLKATA, NY_GROUP), *today], avail.key)) == {
        NY_CLINIC: [
            "2026-12-01T09:30:00-05:00",
            "2026-12-01T09:45:00-05:00",
            "2026-12-01T13:00:00-05:00",
            "2026-12-01T13:15:00-05:00",
            "2026-12-01T13:30:00-05:00",
            "2026-12-01T13:45:00-05:00",
        ],
        KOLKATA: [],
        NY_GROUP: [
            "2026-12-01T10:00:00-05:00",
            "2026-12-01T10:30:00-05:00",
            "2026-12-01T11:00:00-05:00",
        ],
    }


def test_horizon_of_90_days(api: ApiClient, avail: Avail) -> None:
    # now + 90 days = 2027-03-01T12:00Z: 07:00 in New York, 17:30 in Kolkata.
    window = [("from", "2027-02-25"), ("to", "2027-03-05")]
    assert times_of(get(api, [*ids(NY_CLINIC, KOLKATA), *window], avail.key)) == {
        NY_CLINIC: ny("2027-02-25", *NY_CLINIC_DAY) + ny("2027-02-26", *NY_CLINIC_DAY),
        KOLKATA: kolkata("2027-02-25", *KOLKATA_DAY)
        + kolkata("2027-02-26", *KOLKATA_DAY)
        + kolkata("2027-02-27", *KOLKATA_DAY)
        + kolkata("2027-03-01", *KOLKATA_DAY),
    }


# --- the window ----------------------------------------------------------------------------


def test_default_window_is_now_to_14_days(api: ApiClient, avail: Avail) -> None:
    # Now .. 2026-12-15T12:00Z, which is 07:00 on the 15th in New York (nothing left that
    # day) but 17:30 in Kolkata (the whole 15th is in).
    body = times_of(get(api, ids(NY_CLINIC, NY_GROUP, KOLKATA), avail.key))
    assert body[NY_CLINIC] == [
        *ny("01", "09:30", "09:45", "13:00", "13:15", "13:30", "13:45"),
        *ny("02", *NY_CLINIC_DAY),
        *ny("03", *NY_CLINIC_DAY),
        *ny("04", *NY_CLINIC_DAY),
        *ny("07", *NY_CLINIC_DAY),
        *ny("09", "15:00", "15:15"),
        *ny("10", *NY_CLINIC_DAY),
        *ny("11", *NY_CLINIC_DAY),
        *ny("14", *NY_CLINIC_DAY),
    ]
    assert body[NY_GROUP] == [
        time
        for day in ("01", "02", "03", "04", "07", "08", "09", "10", "11", "14")
        for time in ny(day, *NY_GROUP_DAY)
    ]
    assert body[KOLKATA] == [
        time
        for day in ("02", "03", "04", "05", "07", "08", "09", "10", "11", "14", "15")
        for time in kolkata(day, *KOLKATA_DAY)
    ]


def test_only_from_date_spans_14_days(api: ApiClient, avail: Avail) -> None:
    times = times_of(get(api, [*ids(NY_CLINIC), ("from", "2026-12-02")], avail.key))[NY_CLINIC]
    assert times == [
        *ny("02", *NY_CLINIC_DAY),
        *ny("03", *NY_CLINIC_DAY),
        *ny("04", *NY_CLINIC_DAY),
        *ny("07", *NY_CLINIC_DAY),
        *ny("09", "15:00", "15:15"),
        *ny("10", *NY_CLINIC_DAY),
        *ny("11", *NY_CLINIC_DAY),
        *ny("14", *NY_CLINIC_DAY),
        *ny("15", *NY_CLINIC_DAY),
    ]


def test_only_to_date_starts_now(api: ApiClient, avail: Avail) -> None:
    response = get(api, [*ids(NY_CLINIC), ("to", "2026-12-02")], avail.key)
    assert times_of(response) == {
        NY_CLINIC: [
            "2026-12-01T09:30:00-05:00",
            "2026-12-01T09:45:00-05:00",
            "2026-12-01T13:00:00-05:00",
            "2026-12-01T13:15:00-05:00",
            "2026-12-01T13:30:00-05:00",
            "2026-12-01T13:45:00-05:00",
            "2026-12-02T09:00:00-05:00",
            "2026-12-02T09:15:00-05:00",
            "2026-12-02T09:30:00-05:00",
            "2026-12-02T09:45:00-05:00",
            "2026-12-02T13:00:00-05:00",
            "2026-12-02T13:15:00-05:00",
            "2026-12-02T13:30:00-05:00",
            "2026-12-02T13:45:00-05:00",
        ]
    }


def test_date_window_is_each_schedules_local_days(api: ApiClient, avail: Avail) -> None:
    window = [("from", "2026-12-03"), ("to", "2026-12-04")]
    assert times_of(get(api, [*ids(KOLKATA, NY_CLINIC), *window], avail.key)) == {
        KOLKATA: kolkata("03", *KOLKATA_DAY) + kolkata("04", *KOLKATA_DAY),
        NY_CLINIC: ny("03", *NY_CLINIC_DAY) + ny("04", *NY_CLINIC_DAY),
    }


def test_window_in_the_past_is_empty(api: ApiClient, avail: Avail) -> None:
    window = [("from", "2026-11-23"), ("to", "2026-11-27")]
    assert times_of(get(api, [*ids(NY_CLINIC, KOLKATA), *window], avail.key)) == {
        NY_CLINIC: [],
        KOLKATA: [],
    }


def test_date_times_with_offset(api: ApiClient, avail: Avail) -> None:
    window = [("from", "2026-12-07T09:30:00-05:00"), ("to", "2026-12-07T13:15:00-05:00")]
    assert times_of(get(api, [*ids(NY_CLINIC), *window], avail.key)) == {
        # `from` inclusive, `to` exclusive.
        NY_CLINIC: [
            "2026-12-07T09:30:00-05:00",
            "2026-12-07T09:45:00-05:00",
            "2026-12-07T13:00:00-05:00",
        ]
    }
    # A start just before `to` is still offered when the appointment runs past it.
    long_visit = get(api, [*ids(NY_CLINIC), *window, ("appointment_type", "long-visit")], avail.key)
    assert times_of(long_visit) == {
        NY_CLINIC: ["2026-12-07T09:30:00-05:00", "2026-12-07T13:00:00-05:00"]
    }


def test_utc_date_times_cut_each_zone_differently(api: ApiClient, avail: Avail) -> None:
    # 06:00Z-14:45Z is 11:30-20:15 in Kolkata and 01:00-09:45 in New York.
    window = [("from", "2026-12-07T06:00:00Z"), ("to", "2026-12-07T14:45:00Z")]
    assert times_of(get(api, [*ids(KOLKATA, NY_CLINIC), *window], avail.key)) == {
        KOLKATA: [
            "2026-12-07T11:30:00+05:30",
            "2026-12-07T14:00:00+05:30",
            "2026-12-07T14:30:00+05:30",
        ],
        NY_CLINIC: [
            "2026-12-07T09:00:00-05:00",
            "2026-12-07T09:15:00-05:00",
            "2026-12-07T09:30:00-05:00",
        ],
    }


EXPECTED_KOLKATA_11_TO_1430 = [
    "2026-12-07T11:00:00+05:30",
    "2026-12-07T11:30:00+05:30",
    "2026-12-07T14:00:00+05:30",
]


def test_positive_offset_percent_encoded(api: ApiClient, avail: Avail) -> None:
    window = [("from", "2026-12-07T11:00:00+05:30"), ("to", "2026-12-07T14:30:00+05:30")]
    response = get(api, [*ids(KOLKATA), *window], avail.key)  # httpx sends + as %2B
    assert times_of(response) == {KOLKATA: EXPECTED_KOLKATA_11_TO_1430}


def test_positive_offset_with_raw_plus(api: ApiClient, avail: Avail) -> None:
    # A raw + decodes to a space; the server reads it back as the offset's sign.
    query = (
        f"schedule_ids[]={KOLKATA}&from=2026-12-07T11:00:00+05:30"
        f"&to=2026-12-07T14:30:00+05:30&api_key={quote(avail.key)}"
    )
    response = api.get(f"/api/v3/{HOST}{PATH}?{query}")
    assert times_of(response) == {KOLKATA: EXPECTED_KOLKATA_11_TO_1430}


def test_quoted_bounds_are_accepted(api: ApiClient, avail: Avail) -> None:
    window = [("from", '"2026-12-07"'), ("to", '"2026-12-07"')]
    assert times_of(get(api, [*ids(NY_CLINIC), *window], avail.key)) == {NY_CLINIC: NY_CLINIC_DEC_7}


def test_date_times_without_offset_are_each_schedules_wall_clock(
    api: ApiClient, avail: Avail
) -> None:
    # The implementation reads an offset-less date-time in each schedule's own zone.
    window = [("from", "2026-12-07T09:30:00"), ("to", "2026-12-07T14:00:00")]
    assert times_of(get(api, [*ids(NY_CLINIC, KOLKATA), *window], avail.key)) == {
        NY_CLINIC: ny("07", "09:30", "09:45", "13:00", "13:15", "13:30", "13:45"),
        KOLKATA: kolkata("07", "10:00", "10:30", "11:00", "11:30"),
    }


def test_92_day_date_window_is_accepted(api: ApiClient, avail: Avail) -> None:
    # 2026-12-01 .. 2027-03-02 inclusive is 92 local days; the horizon ends it at Mar 1.
    window = [("from", "2026-12-01"), ("to", "2027-03-02")]
    times = times_of(get(api, [*ids(NY_GROUP), *window], avail.key))[NY_GROUP]
    assert times[:3] == ny("01", *NY_GROUP_DAY)
    assert times[-3:] == ny("2027-02-26", *NY_GROUP_DAY)


def test_92_day_date_time_window_is_accepted(api: ApiClient, avail: Avail) -> None:
    window = [("from", "2026-12-01T00:00:00Z"), ("to", "2027-03-03T00:00:00Z")]
    assert ok(get(api, [*ids(NY_GROUP), *window], avail.key))


# --- seats ---------------------------------------------------------------------------------


def _claims(session_factory: sessionmaker[Session], *claims: tuple) -> None:
    with session_factory() as session, session.begin():
        for schedule_pk, cell, kwargs in claims:
            claim(session, schedule_pk, cell, **kwargs)


def test_booked_cell_removes_covering_starts(
    api: ApiClient, avail: Avail, session_factory: sessionmaker[Session]
) -> None:
    _claims(session_factory, (avail.pks[NY_CLINIC], "2026-12-07T09:30:00-05:00", {}))
    quick = get(api, [*ids(NY_CLINIC), *DEC_7], avail.key)
    assert times_of(quick) == {
        NY_CLINIC: [
            "2026-12-07T09:00:00-05:00",
            "2026-12-07T09:15:00-05:00",
            "2026-12-07T09:45:00-05:00",
            "2026-12-07T13:00:00-05:00",
            "2026-12-07T13:15:00-05:00",
            "2026-12-07T13:30:00-05:00",
            "2026-12-07T13:45:00-05:00",
        ]
    }
    # The 30-minute type also loses 09:15, which would run into the booked 09:30 cell.
    long_visit = get(api, [*ids(NY_CLINIC), *DEC_7, ("appointment_type", "long-visit")], avail.key)
    assert times_of(long_visit) == {
        NY_CLINIC: [
            "2026-12-07T09:00:00-05:00",
            "2026-12-07T13:00:00-05:00",
            "2026-12-07T13:15:00-05:00",
            "2026-12-07T13:30:00-05:00",
        ]
    }


def test_booked_cell_in_kolkata(
    api: ApiClient, avail: Avail, session_factory: sessionmaker[Session]
) -> None:
    # 10:30 IST is 05:00Z.
    _claims(session_factory, (avail.pks[KOLKATA], "2026-12-07T05:00:00+00:00", {}))
    response = get(api, [*ids(KOLKATA), *DEC_7], avail.key)
    assert times_of(response) == {
        KOLKATA: [
            "2026-12-07T10:00:00+05:30",
            "2026-12-07T11:00:00+05:30",
            "2026-12-07T11:30:00+05:30",
            "2026-12-07T14:00:00+05:30",
            "2026-12-07T14:30:00+05:30",
        ]
    }
    consult = get(api, [*ids(KOLKATA), *DEC_7, ("appointment_type", "consult")], avail.key)
    assert times_of(consult) == {
        KOLKATA: ["2026-12-07T11:00:00+05:30", "2026-12-07T14:00:00+05:30"]
    }


def test_capacity_three(
    api: ApiClient, avail: Avail, session_factory: sessionmaker[Session]
) -> None:
    group = avail.pks[NY_GROUP]
    _claims(
        session_factory,
        (group, "2026-12-07T10:30:00-05:00", {"seats": 2}),
        (group, "2026-12-07T11:00:00-05:00", {"seats": 3}),
    )
    assert times_of(get(api, [*ids(NY_GROUP), *DEC_7], avail.key)) == {
        NY_GROUP: ["2026-12-07T10:00:00-05:00", "2026-12-07T10:30:00-05:00"]
    }


def test_expired_hold_does_not_block_live_hold_does(
    api: ApiClient, avail: Avail, session_factory: sessionmaker[Session]
) -> None:
    clinic, group = avail.pks[NY_CLINIC], avail.pks[NY_GROUP]
    _claims(
        session_factory,
        # Expired exactly now, and a minute ago: both free again.
        (clinic, "2026-12-07T13:00:00-05:00", {"expires_at": NOW_EPOCH}),
        (clinic, "2026-12-07T13:15:00-05:00", {"expires_at": NOW_EPOCH - 60}),
        # Live for one more second: blocks.
        (clinic, "2026-12-07T13:30:00-05:00", {"expires_at": NOW_EPOCH + 1}),
        # Capacity 3: two visits plus an expired hold leave a seat; plus a live hold, none.
        (group, "2026-12-07T10:00:00-05:00", {"seats": 2}),
        (group, "2026-12-07T10:00:00-05:00", {"expires_at": NOW_EPOCH, "first_seat": 2}),
        (group, "2026-12-07T10:30:00-05:00", {"seats": 2}),
        (group, "2026-12-07T10:30:00-05:00", {"expires_at": NOW_EPOCH + 1800, "first_seat": 2}),
    )
    assert times_of(get(api, [*ids(NY_CLINIC, NY_GROUP), *DEC_7], avail.key)) == {
        NY_CLINIC: [
            "2026-12-07T09:00:00-05:00",
            "2026-12-07T09:15:00-05:00",
            "2026-12-07T09:30:00-05:00",
            "2026-12-07T09:45:00-05:00",
            "2026-12-07T13:00:00-05:00",
            "2026-12-07T13:15:00-05:00",
            "2026-12-07T13:45:00-05:00",
        ],
        NY_GROUP: ["2026-12-07T10:00:00-05:00", "2026-12-07T11:00:00-05:00"],
    }


def test_claims_of_other_schedules_and_days_do_not_block(
    api: ApiClient, avail: Avail, session_factory: sessionmaker[Session]
) -> None:
    _claims(
        session_factory,
        (avail.pks[EXTRA_IDS[0]], "2026-12-07T09:30:00-05:00", {}),
        (avail.pks[NY_CLINIC], "2026-12-08T09:30:00-05:00", {}),
        (avail.pks[NY_CLINIC], "2026-12-07T09:30:00+00:00", {}),  # not a cell: 04:30 local
    )
    assert times_of(get(api, [*ids(NY_CLINIC), *DEC_7], avail.key)) == {NY_CLINIC: NY_CLINIC_DEC_7}
