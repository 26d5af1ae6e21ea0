"""Bad input, authentication and tenant isolation for GET /available-appointment-times.

Every error is a JSON:API error document with the right status and `source.parameter`,
and nothing a client sends may produce a 500.
"""

from __future__ import annotations

import pytest

from tests.availability_http.fixture import (
    EXTRA_IDS,
    HOST,
    KOLKATA,
    NY_CLINIC,
    NY_GROUP,
    NY_RETIRED,
    OTHER_HOST,
    OTHER_SCHEDULE,
    Avail,
)
from tests.availability_http.helpers import (
    PATH,
    bad_parameter,
    errors,
    get,
    ids,
    ok,
    times_of,
)
from tests.conftest import ApiClient

IDS = "schedule_ids[]"
DEC_7 = [("from", "2026-12-07"), ("to", "2026-12-07")]


# --- schedule ids --------------------------------------------------------------------------


def test_unknown_and_other_tenant_ids_are_404_one_error_each(api: ApiClient, avail: Avail) -> None:
    response = get(
        api, ids("no-such-schedule", NY_CLINIC, OTHER_SCHEDULE, KOLKATA, NY_RETIRED), avail.key
    )
    errs = errors(response, 404)
    assert [e["status"] for e in errs] == ["404", "404", "404"]
    assert [e["source"] for e in errs] == [{"parameter": IDS}] * 3
    # In request order, each naming its id.
    for err, missing in zip(errs, ["no-such-schedule", OTHER_SCHEDULE, NY_RETIRED], strict=True):
        assert missing in err["detail"]


def test_inactive_schedule_is_404(api: ApiClient, avail: Avail) -> None:
    assert bad_parameter(get(api, ids(NY_RETIRED), avail.key), 404) == [IDS]


def test_comma_list_with_unknown_id_is_404(api: ApiClient, avail: Avail) -> None:
    response = get(api, [("schedule_ids", f"{NY_CLINIC},nope")], avail.key)
    assert bad_parameter(response, 404) == [IDS]


@pytest.mark.parametrize(
    "params",
    [[], [(IDS, "")], [("schedule_ids", ",, ,")], [("schedule_id", NY_CLINIC)]],
    ids=["absent", "empty", "only-commas", "misspelled"],
)
def test_no_schedule_ids_is_400(
    api: ApiClient, avail: Avail, params: list[tuple[str, str]]
) -> None:
    # A misspelt parameter is named too (SPEC section 3: never silently ignored).
    expected = ["schedule_id", IDS] if params and params[0][0] == "schedule_id" else [IDS]
    assert bad_parameter(get(api, [*params, *DEC_7], avail.key)) == expected


def test_101_schedule_ids_is_400(api: ApiClient, avail: Avail) -> None:
    many = [NY_CLINIC, NY_GROUP, KOLKATA, *(f"unknown-{n}" for n in range(98))]
    assert len(set(many)) == 101
    assert bad_parameter(get(api, ids(*many), avail.key)) == [IDS]
    # The same 101 as one comma-separated value.
    assert bad_parameter(get(api, [("schedule_ids", ",".join(many))], avail.key)) == [IDS]


def test_100_schedule_ids_are_within_the_limit(api: ApiClient, avail: Avail) -> None:
    # 100 distinct ids pass the count check: the 97 unknown ones are then each a 404, of
    # which the first 20 are listed and the rest counted (SPEC 8b).
    many = [NY_CLINIC, NY_GROUP, KOLKATA, *(f"unknown-{n}" for n in range(97))]
    response = get(api, ids(*many), avail.key)
    assert response.status_code == 404
    assert [e["source"]["parameter"] for e in response.json()["errors"]] == [IDS] * 20
    assert response.json()["meta"] == {"omitted-errors": 77}


def test_100_copies_of_10_ids_count_once(api: ApiClient, avail: Avail) -> None:
    ten = [NY_CLINIC, NY_GROUP, KOLKATA, *EXTRA_IDS]
    body = ok(get(api, [*ids(*(ten * 11)), *DEC_7], avail.key))
    assert [e["schedule-id"] for e in body] == ten


# --- appointment type ----------------------------------------------------------------------


@pytest.mark.parametrize("type_id", ["no-such-type", "other-visit", "x" * 5000])
def test_appointment_type_unknown_to_tenant_is_400(
    api: ApiClient, avail: Avail, type_id: str
) -> None:
    # other-visit exists, but only in the other tenant.
    response = get(api, [*ids(NY_CLINIC, KOLKATA), ("appointment_type", type_id)], avail.key)
    assert bad_parameter(response) == ["appointment_type"]


# --- the window ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "end"),
    [
        ("2026-12-08", "2026-12-07"),
        ("2026-12-07T10:00:00-05:00", "2026-12-07T10:00:00-05:00"),
        ("2026-12-07T10:00:00-05:00", "2026-12-07T09:59:59-05:00"),
        ("2026-12-07T10:00:00Z", "2026-12-07T15:00:00+05:30"),
    ],
)
def test_from_not_before_to_is_400(api: ApiClient, avail: Avail, start: str, end: str) -> None:
    response = get(api, [*ids(NY_CLINIC), ("from", start), ("to", end)], avail.key)
    assert bad_parameter(response) == ["to"]


def test_only_to_before_now_is_400(api: ApiClient, avail: Avail) -> None:
    # The default `from` is now (2026-12-01T12:00Z); the window would end before it.
    response = get(api, [*ids(NY_CLINIC), ("to", "2026-11-30T12:00:00Z")], avail.key)
    assert bad_parameter(response) == ["to"]


@pytest.mark.parametrize(
    "window",
    [
        [("from", "2026-12-01"), ("to", "2027-03-04")],  # 94 local days
        [("from", "2026-12-01"), ("to", "2027-12-01")],
        [("to", "2027-06-01")],  # from defaults to now
        [("from", "2026-12-01T00:00:00Z"), ("to", "2027-03-04T00:00:01Z")],  # 93 days 1 s
    ],
)
def test_window_over_92_days_is_400(
    api: ApiClient, avail: Avail, window: list[tuple[str, str]]
) -> None:
    assert bad_parameter(get(api, [*ids(NY_CLINIC), *window], avail.key)) == ["to"]


@pytest.mark.parametrize(
    "window",
    [
        [("from", "2026-12-01T00:00:00Z"), ("to", "2027-03-03T00:00:01Z")],  # 92 days 1 s
        [("from", "2026-12-01T00:00:00Z"), ("to", "2027-03-03T01:00:00Z")],  # 92 days 1 h
        [("from", "2026-12-01T00:00:00Z"), ("to", "2027-03-04T00:00:00Z")],  # 93 days
        # With the endpoint's own reading of a date `to` (the whole day, inclusive), this is
        # 93 local days: 2026-12-01 00:00 .. 2027-03-04 00:00.
        [("from", "2026-12-01"), ("to", "2027-03-03")],
    ],
    ids=["92d-1s", "92d-1h", "93d", "93-dates"],
)
def test_window_just_over_92_days_is_400(
    api: ApiClient, avail: Avail, window: list[tuple[str, str]]
) -> None:
    # SPEC 5: "at most 92 days". (The 92-day windows themselves are accepted: see
    # test_times.py::test_92_day_*_window_is_accepted.)
    assert bad_parameter(get(api, [*ids(NY_CLINIC), *window], avail.key)) == ["to"]


@pytest.mark.parametrize(
    ("window", "named"),
    [
        ([("from", "nope")], ["from"]),
        ([("to", "2026-13-45")], ["to"]),
        ([("from", "nope"), ("to", "2026-13-45")], ["from", "to"]),
        ([("from", "99999-01-01")], ["from"]),
        ([("from", "2026-02-30")], ["from"]),
        ([("from", "2026-12-07T25:00:00")], ["from"]),
        ([("from", "2026-12-07T10:00:00+25:00")], ["from"]),
        ([("to", "9" * 5000)], ["to"]),
        ([("from", "2026-12-07"), ("to", "tomorrow")], ["to"]),
    ],
)
def test_unparseable_bounds_are_400_naming_the_parameter(
    api: ApiClient, avail: Avail, window: list[tuple[str, str]], named: list[str]
) -> None:
    assert bad_parameter(get(api, [*ids(NY_CLINIC), *window], avail.key)) == named


# --- never a 500 ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "named"),
    [
        ([(IDS, "a\x00b")], [IDS]),
        ([(IDS, NY_CLINIC), ("from", "\x00")], ["from"]),
        ([(IDS, NY_CLINIC), ("to", "2026-12-07\x00")], ["to"]),
        ([(IDS, NY_CLINIC), ("appointment_type", "quick\x00check")], ["appointment_type"]),
    ],
)
def test_nul_bytes_are_400(
    api: ApiClient, avail: Avail, params: list[tuple[str, str]], named: list[str]
) -> None:
    assert bad_parameter(get(api, params, avail.key)) == named


def test_nul_byte_in_key_is_401(api: ApiClient, avail: Avail) -> None:
    errors(get(api, ids(NY_CLINIC), avail.key + "\x00"), 401)


def test_huge_schedule_id_is_404(api: ApiClient, avail: Avail) -> None:
    assert bad_parameter(get(api, ids("x" * 10_000), avail.key), 404) == [IDS]


@pytest.mark.parametrize(
    "window",
    [
        [("from", "9999-12-31"), ("to", "9999-12-31")],
        [("from", "9999-12-31")],
        [("to", "9999-12-31")],
        [("from", "0001-01-01"), ("to", "0001-01-02")],
        [("from", "0001-01-01T00:00:00"), ("to", "0001-01-01T01:00:00")],
        [("from", "0001-01-01T00:00:00+14:00"), ("to", "0001-01-01T01:00:00+14:00")],
        [("from", "9999-12-30"), ("to", "9999-12-31T23:59:59+00:00")],
        [("from", "9999-12-31T23:00:00-12:00"), ("to", "9999-12-31T23:30:00-12:00")],
    ],
    ids=[
        "max-date-both",
        "max-date-from",
        "max-date-to",
        "min-date",
        "min-naive-datetime",
        "min-datetime-plus-14",
        "max-datetime-utc",
        "max-datetime-minus-12",
    ],
)
def test_extreme_dates_are_never_a_500(
    api: ApiClient, avail: Avail, window: list[tuple[str, str]]
) -> None:
    response = get(api, [*ids(NY_CLINIC), *window], avail.key)
    assert response.status_code in (200, 400), response.text
    if response.status_code == 200:
        assert times_of(response) == {NY_CLINIC: []}
    else:
        assert set(bad_parameter(response)) <= {"from", "to"}


# --- authentication and tenancy ------------------------------------------------------------


def test_missing_key_is_401(api: ApiClient, avail: Avail) -> None:
    response = get(api, ids(NY_CLINIC), None)
    assert errors(response, 401)[0]["status"] == "401"
    assert "WWW-Authenticate" in response.headers
    # Authentication comes before parameter checks.
    errors(get(api, [], None), 401)


def test_wrong_and_other_tenant_keys_are_the_same_401(api: ApiClient, avail: Avail) -> None:
    missing = get(api, ids(NY_CLINIC), None)
    wrong = get(api, ids(NY_CLINIC), "iq_not_a_real_key")
    other = get(api, ids(NY_CLINIC), avail.other_key)
    other_schedule = get(api, ids(OTHER_SCHEDULE), avail.other_key)
    for response in (missing, wrong, other, other_schedule):
        errors(response, 401)
    assert missing.json() == wrong.json() == other.json() == other_schedule.json()


def test_other_tenant_schedule_with_this_tenant_key_is_404(api: ApiClient, avail: Avail) -> None:
    assert bad_parameter(get(api, ids(OTHER_SCHEDULE), avail.key), 404) == [IDS]


def test_this_tenant_schedule_through_other_site_is_404(api: ApiClient, avail: Avail) -> None:
    response = get(api, ids(NY_CLINIC, OTHER_SCHEDULE), avail.other_key, host=OTHER_HOST)
    assert bad_parameter(response, 404) == [IDS]
    assert NY_CLINIC in errors(response, 404)[0]["detail"]
    # The other site sees its own schedule.
    own = get(api, [*ids(OTHER_SCHEDULE), *DEC_7], avail.other_key, host=OTHER_HOST)
    assert ok(own)[0]["appointment-type"] == "other-visit"
    assert len(ok(own)[0]["times"]) == 32  # 09:00-17:00 every 15 minutes


def test_unknown_host_is_404(api: ApiClient, avail: Avail) -> None:
    errors(get(api, ids(NY_CLINIC), avail.key, host="nobody.example.com"), 404)


def test_post_is_405(api: ApiClient, avail: Avail) -> None:
    response = api.post(f"/api/v3/{HOST}{PATH}", params=[*ids(NY_CLINIC), ("api_key", avail.key)])
    errors(response, 405)
    assert "GET" in response.headers["allow"]
