"""GET /visit-token (SPEC section 6): the token, when it is refused, and the hold it takes.

David Chen's primary-care schedule (CHEN_PC, capacity 1) at 2026-12-01T14:00Z: offered
from 10:00 EST on Tue/Thu, 15-minute grid, horizon 90 days.
"""

from __future__ import annotations

import uuid
from typing import Any

import jwt
import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from inquicker.settings import Settings
from inquicker.tenancy.models import HealthSystem
from tests.booking_http.conftest import MakeApi
from tests.booking_http.helpers import (
    book,
    chicago,
    claims_of,
    errors,
    issue,
    ny,
    only_error,
    path,
    post_visit,
    request_token,
    times,
    visit_body,
)
from tests.booking_http.world import CHEN_PC, HOST, NOW_EPOCH, PEDIATRICS, Clock, World
from tests.conftest import ApiClient

ELEVEN = ny(1, "11:00")


def decode(token: str, settings: Settings) -> dict[str, Any]:
    return claims_of(token, settings.secret_key)


def set_hold_minutes(session_factory: sessionmaker[Session], minutes: int) -> None:
    with session_factory() as session, session.begin():
        session.execute(
            update(HealthSystem)
            .where(HealthSystem.slug == "winter-health")
            .values(hold_minutes=minutes)
        )


# --- the token -----------------------------------------------------------------------------


def test_token_is_a_signed_jwt_for_the_schedule_and_time(
    api: ApiClient, world: World, settings: Settings
) -> None:
    response = request_token(api, world.book, CHEN_PC, ELEVEN)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/jwt"
    assert jwt.get_unverified_header(response.text)["alg"] == "HS256"
    claims = decode(response.text, settings)
    assert claims["data"] == {"schedule_id": CHEN_PC, "appointment_at": ELEVEN}
    assert claims["aud"] == HOST
    assert claims["iat"] == NOW_EPOCH
    assert claims["exp"] == NOW_EPOCH + 1800
    assert response.headers["cache-control"] == "no-store"
    assert str(uuid.UUID(str(claims["jti"]))) == claims["jti"]


def test_each_token_has_its_own_id(api: ApiClient, world: World, settings: Settings) -> None:
    first = decode(issue(api, world.book, CHEN_PC, ny(1, "11:00")), settings)
    second = decode(issue(api, world.book, CHEN_PC, ny(1, "11:15")), settings)
    assert first["jti"] != second["jti"]


def test_the_time_in_another_offset_is_the_same_instant(
    api: ApiClient, world: World, settings: Settings
) -> None:
    # 16:00Z is 11:00 EST; the token states it in the schedule's zone.
    response = request_token(api, world.book, CHEN_PC, "2026-12-01T16:00:00Z")
    assert response.status_code == 200, response.text
    assert decode(response.text, settings)["data"] == {
        "schedule_id": CHEN_PC,
        "appointment_at": ELEVEN,
    }


def test_underscore_alias_and_v3_prefix(api: ApiClient, world: World) -> None:
    response = api.get(
        path("/visit_token", prefix="/v3"),
        params={"schedule_id": CHEN_PC, "appointment_at": ELEVEN, "api_key": world.book},
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/jwt"


# --- who may ask ---------------------------------------------------------------------------


def test_book_scope_is_required(api: ApiClient, world: World) -> None:
    error = only_error(request_token(api, world.read, CHEN_PC, ELEVEN), 403)
    assert error["code"] == "forbidden"
    assert "book" in error["detail"]


def test_no_key_is_401(api: ApiClient, world: World) -> None:
    response = request_token(api, None, CHEN_PC, ELEVEN)
    assert only_error(response, 401)["code"] == "unauthorized"
    assert ELEVEN in times(api, world.read, CHEN_PC)  # nothing held


def test_a_refused_key_holds_nothing(api: ApiClient, world: World) -> None:
    request_token(api, world.read, CHEN_PC, ELEVEN)
    assert ELEVEN in times(api, world.read, CHEN_PC)


# --- refusals ------------------------------------------------------------------------------


def test_unknown_schedule_is_404(api: ApiClient, world: World) -> None:
    unknown = "00000000-0000-4000-8000-000000000000"
    error = only_error(request_token(api, world.book, unknown, ELEVEN), 404)
    assert unknown in error["detail"]


@pytest.mark.parametrize(
    ("at", "why"),
    [
        pytest.param(ny(1, "11:07"), "slot grid", id="off-grid"),
        pytest.param(ny(1, "17:00"), "outside its hours", id="after-hours"),
        pytest.param(ny(2, "11:00"), "outside its hours", id="closed-weekday"),
        pytest.param(ny(1, "09:45"), "at least 60 minutes ahead", id="inside-lead-time"),
        pytest.param("2027-03-02T11:00:00-05:00", "at most 90 days ahead", id="beyond-horizon"),
    ],
)
def test_time_not_offered_is_422_saying_why(
    api: ApiClient, world: World, at: str, why: str
) -> None:
    error = only_error(request_token(api, world.book, CHEN_PC, at), 422)
    assert error["source"] == {"parameter": "appointment_at"}
    assert error["code"] == "time-not-offered"
    assert why in error["detail"]


def test_already_booked_time_is_422_slot_unavailable(api: ApiClient, world: World) -> None:
    book(api, world.book, CHEN_PC, ELEVEN)
    error = only_error(request_token(api, world.book2, CHEN_PC, ELEVEN), 422)
    assert error["source"] == {"parameter": "appointment_at"}
    assert error["code"] == "slot-unavailable"
    assert "no longer available" in error["detail"]


@pytest.mark.parametrize(
    "params",
    [
        pytest.param({"schedule_id": CHEN_PC}, id="missing"),
        pytest.param({"schedule_id": CHEN_PC, "appointment_at": "  "}, id="blank"),
        pytest.param({"schedule_id": CHEN_PC, "appointment_at": "tomorrow"}, id="unparseable"),
        pytest.param(
            {"schedule_id": CHEN_PC, "appointment_at": "2026-12-01T11:00"}, id="no-offset"
        ),
        pytest.param({"schedule_id": CHEN_PC, "appointment_at": "2026-12-01"}, id="date-only"),
    ],
)
def test_missing_or_unparseable_time_is_400(
    api: ApiClient, world: World, params: dict[str, str]
) -> None:
    response = api.get(path("/visit-token"), params={**params, "api_key": world.book})
    error = only_error(response, 400)
    assert error["source"] == {"parameter": "appointment_at"}


def test_missing_schedule_id_is_400(api: ApiClient, world: World) -> None:
    response = api.get(path("/visit-token"), params={"api_key": world.book})
    assert {e["source"]["parameter"] for e in errors(response, 400)} == {
        "schedule_id",
        "appointment_at",
    }


# --- holds ---------------------------------------------------------------------------------


def test_issuing_holds_the_time_for_everyone(api: ApiClient, world: World) -> None:
    assert ELEVEN in times(api, world.read, CHEN_PC)
    issue(api, world.book, CHEN_PC, ELEVEN)
    for key in (world.read, world.book, world.book2):
        offered = times(api, key, CHEN_PC)
        assert ELEVEN not in offered
        assert ny(1, "10:45") in offered
        assert ny(1, "11:15") in offered


def test_a_held_time_gets_no_second_token(api: ApiClient, world: World) -> None:
    issue(api, world.book, CHEN_PC, ELEVEN)
    for key in (world.book, world.book2):
        error = only_error(request_token(api, key, CHEN_PC, ELEVEN), 422)
        assert error["code"] == "slot-unavailable"
        assert error["source"] == {"parameter": "appointment_at"}


def test_an_expired_hold_frees_the_time(api: ApiClient, world: World, clock: Clock) -> None:
    issue(api, world.book, CHEN_PC, ELEVEN)
    clock.advance(minutes=29)
    assert ELEVEN not in times(api, world.read, CHEN_PC)
    clock.advance(minutes=2)  # 31 minutes after issue
    assert ELEVEN in times(api, world.read, CHEN_PC)
    issue(api, world.book2, CHEN_PC, ELEVEN)
    assert ELEVEN not in times(api, world.read, CHEN_PC)


def test_hold_minutes_zero_turns_holds_off(
    api: ApiClient, world: World, session_factory: sessionmaker[Session]
) -> None:
    set_hold_minutes(session_factory, 0)
    issue(api, world.book, CHEN_PC, ELEVEN)
    assert ELEVEN in times(api, world.read, CHEN_PC)
    issue(api, world.book2, CHEN_PC, ELEVEN)
    assert ELEVEN in times(api, world.read, CHEN_PC)


def test_a_shorter_hold_setting_is_honoured(
    api: ApiClient, world: World, clock: Clock, session_factory: sessionmaker[Session]
) -> None:
    set_hold_minutes(session_factory, 5)
    issue(api, world.book, CHEN_PC, ELEVEN)
    clock.advance(minutes=4)
    assert ELEVEN not in times(api, world.read, CHEN_PC)
    clock.advance(minutes=2)
    assert ELEVEN in times(api, world.read, CHEN_PC)


def test_a_hold_never_outlives_its_token(
    api: ApiClient, world: World, clock: Clock, session_factory: sessionmaker[Session]
) -> None:
    """SPEC 6: the seat is held "until the token is used or expires". A longer hold
    setting would block the time with a token nobody can use any more."""
    set_hold_minutes(session_factory, 60)
    token = issue(api, world.book, CHEN_PC, ELEVEN)
    clock.advance(minutes=31)
    response = post_visit(api, token, visit_body(CHEN_PC, ELEVEN))
    assert only_error(response, 401)["code"] == "expired-token"
    assert ELEVEN in times(api, world.read, CHEN_PC)


def test_holds_are_shared_by_every_server_process(make_api: MakeApi, world: World) -> None:
    one, two = make_api(), make_api()
    issue(one, world.book, CHEN_PC, ELEVEN)
    assert ELEVEN not in times(two, world.read, CHEN_PC)
    assert only_error(request_token(two, world.book2, CHEN_PC, ELEVEN), 422)["code"] == (
        "slot-unavailable"
    )


def test_a_type_can_be_named_for_a_time_only_it_fits(
    api: ApiClient, world: World, settings: Settings
) -> None:
    """Pediatrics' default type lasts 60 minutes, so 11:45 (before the 12:00 lunch break)
    is offered only for 15-minute types; appointment_type says which length to hold."""
    at = chicago(1, "11:45")
    assert at in times(api, world.read, PEDIATRICS, "sick-visit")
    assert at not in times(api, world.read, PEDIATRICS)
    response = request_token(api, world.book, PEDIATRICS, at, appointment_type="sick-visit")
    assert response.status_code == 200, response.text
    assert decode(response.text, settings)["data"] == {
        "schedule_id": PEDIATRICS,
        "appointment_at": at,
    }
    assert at not in times(api, world.read, PEDIATRICS, "sick-visit")
    assert chicago(1, "11:30") in times(api, world.read, PEDIATRICS, "sick-visit")


def test_a_type_the_schedule_does_not_offer_is_400(api: ApiClient, world: World) -> None:
    response = request_token(api, world.book, CHEN_PC, ELEVEN, appointment_type="mri-scan")
    assert only_error(response, 400)["source"] == {"parameter": "appointment_type"}


def test_live_holds_per_key_are_capped(make_api: MakeApi, world: World) -> None:
    api = make_api(max_holds_per_key=2)
    issue(api, world.book, CHEN_PC, ny(1, "11:00"))
    issue(api, world.book, CHEN_PC, ny(1, "11:15"))
    error = only_error(request_token(api, world.book, CHEN_PC, ny(1, "11:30")), 429)
    assert error["code"] == "too-many-holds"
    assert ny(1, "11:30") in times(api, world.read, CHEN_PC)  # the refused one holds nothing
    # Another partner's key is unaffected.
    issue(api, world.book2, CHEN_PC, ny(1, "11:30"))


def test_expired_holds_do_not_count_against_the_cap(
    make_api: MakeApi, world: World, clock: Clock
) -> None:
    api = make_api(max_holds_per_key=2)
    issue(api, world.book, CHEN_PC, ny(1, "11:00"))
    issue(api, world.book, CHEN_PC, ny(1, "11:15"))
    clock.advance(minutes=31)
    issue(api, world.book, CHEN_PC, ny(1, "11:30"))


def test_used_tokens_do_not_count_against_the_cap(make_api: MakeApi, world: World) -> None:
    api = make_api(max_holds_per_key=1)
    book(api, world.book, CHEN_PC, ny(1, "11:00"))
    issue(api, world.book, CHEN_PC, ny(1, "11:15"))
