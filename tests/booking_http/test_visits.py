"""POST /visits (SPEC section 7) against the Winter Health demo, on both databases.

Most bookings are on David Chen's primary-care schedule (CHEN_PC: New York, capacity 1,
offered from 10:00 EST on 2026-12-01). Every refusal is checked to write nothing: no
visit, no seat claim, no used token.
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Iterator
from typing import Any

import jwt
import pytest
from sqlalchemy import text, update
from sqlalchemy.orm import Session, sessionmaker

from inquicker.booking.phi import decode_key, unseal
from inquicker.settings import Settings
from inquicker.tenancy.models import HealthSystem
from tests.booking_http.conftest import MakeApi
from tests.booking_http.helpers import (
    EMAIL,
    FIRST_NAME,
    LAST_NAME,
    PATIENT,
    PHONE,
    attribute,
    book,
    chicago,
    counts,
    issue,
    ny,
    only_error,
    path,
    post_visit,
    problems,
    times,
    visit_body,
)
from tests.booking_http.world import (
    CHEN_PC,
    DISCHARGE,
    GARCIA_PC,
    HOST,
    NOW_EPOCH,
    OTHER_HOST,
    OTHER_SCHEDULE,
    PEDIATRICS,
    Clock,
    World,
)
from tests.conftest import ApiClient

AT = ny(1, "11:00")
PHI_KEY = base64.b64encode(bytes(range(32))).decode()


@pytest.fixture
def unchanged(session_factory: sessionmaker[Session]) -> Iterator[None]:
    """Asserts, after the test, that the database holds what it held before the test's
    last setup step (call ``snapshot`` there)."""
    yield


class Ledger:
    """Counts of visits, seat claims and used tokens, to prove a refusal wrote nothing."""

    def __init__(self, session_factory: sessionmaker[Session]) -> None:
        self.session_factory = session_factory
        self.before = counts(session_factory)

    def snapshot(self) -> None:
        self.before = counts(self.session_factory)

    def assert_unchanged(self) -> None:
        assert counts(self.session_factory) == self.before


@pytest.fixture
def ledger(session_factory: sessionmaker[Session]) -> Ledger:
    return Ledger(session_factory)


def refused(response: Any, status: int, code: str, ledger: Ledger) -> dict[str, Any]:
    """The single error of a refusal with this status and code; nothing was written."""
    error = only_error(response, status)
    assert error["code"] == code
    ledger.assert_unchanged()
    return error


def segments(token: str) -> list[str]:
    return token.split(".")


def b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def unb64(part: str) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    return result


# --- token problems: 401, each saying which, nothing written ---------------------------------


def test_missing_authorization(api: ApiClient, world: World, ledger: Ledger) -> None:
    issue(api, world.book, CHEN_PC, AT)
    ledger.snapshot()
    response = post_visit(api, None, visit_body(CHEN_PC, AT))
    error = refused(response, 401, "missing-token", ledger)
    assert "visit token is required" in error["detail"]
    assert error["source"] == {"header": "Authorization"}
    assert response.headers["www-authenticate"].startswith("Bearer")


def test_api_key_instead_of_bearer_token(api: ApiClient, world: World, ledger: Ledger) -> None:
    issue(api, world.book, CHEN_PC, AT)
    ledger.snapshot()
    response = post_visit(api, None, visit_body(CHEN_PC, AT), headers={"Authorization": world.book})
    refused(response, 401, "missing-token", ledger)


@pytest.mark.parametrize("token", ["not-a-jwt", "a.b.c", "eyJhbGciOiJIUzI1NiJ9.e30"])
def test_malformed_token(api: ApiClient, world: World, ledger: Ledger, token: str) -> None:
    issue(api, world.book, CHEN_PC, AT)
    ledger.snapshot()
    error = refused(post_visit(api, token, visit_body(CHEN_PC, AT)), 401, "malformed-token", ledger)
    assert "malformed" in error["detail"]


def test_bad_signature(api: ApiClient, world: World, ledger: Ledger, settings: Settings) -> None:
    token = issue(api, world.book, CHEN_PC, AT)
    ledger.snapshot()
    claims = jwt.decode(token, options={"verify_signature": False})
    forged = jwt.encode(claims, "another-secret-another-secret-another", algorithm="HS256")
    error = refused(post_visit(api, forged, visit_body(CHEN_PC, AT)), 401, "bad-signature", ledger)
    assert "signature" in error["detail"]
    # The genuine token still works.
    assert post_visit(api, token, visit_body(CHEN_PC, AT)).status_code == 201


def test_tampered_payload(api: ApiClient, world: World, ledger: Ledger) -> None:
    token = issue(api, world.book, CHEN_PC, AT)
    ledger.snapshot()
    header, payload, signature = segments(token)
    claims = unb64(payload)
    claims["data"]["appointment_at"] = ny(1, "11:15")
    tampered = ".".join([header, b64(claims), signature])
    body = visit_body(CHEN_PC, ny(1, "11:15"))
    error = refused(post_visit(api, tampered, body), 401, "bad-signature", ledger)
    assert "signature" in error["detail"]


def test_unsigned_token(api: ApiClient, world: World, ledger: Ledger) -> None:
    token = issue(api, world.book, CHEN_PC, AT)
    ledger.snapshot()
    claims = jwt.decode(token, options={"verify_signature": False})
    header = b64({"alg": "none", "typ": "JWT"})
    unsigned = f"{header}.{b64(claims)}."
    response = post_visit(api, unsigned, visit_body(CHEN_PC, AT))
    assert response.status_code == 401
    ledger.assert_unchanged()


def test_expired_token(api: ApiClient, world: World, ledger: Ledger, clock: Clock) -> None:
    token = issue(api, world.book, CHEN_PC, AT)
    clock.advance(minutes=31)
    ledger.snapshot()
    error = refused(post_visit(api, token, visit_body(CHEN_PC, AT)), 401, "expired-token", ledger)
    assert "expired" in error["detail"]


def test_token_still_valid_just_before_expiry(api: ApiClient, world: World, clock: Clock) -> None:
    token = issue(api, world.book, CHEN_PC, AT)
    clock.advance(minutes=29, seconds=59)
    assert post_visit(api, token, visit_body(CHEN_PC, AT)).status_code == 201


def test_token_of_another_site(api: ApiClient, world: World, ledger: Ledger) -> None:
    elsewhere = issue(api, world.other_book, OTHER_SCHEDULE, AT, host=OTHER_HOST)
    ledger.snapshot()
    response = post_visit(api, elsewhere, visit_body(OTHER_SCHEDULE, AT))
    error = refused(response, 401, "wrong-site", ledger)
    assert "another site" in error["detail"]
    # ... and a demo token is refused on the other site.
    demo = issue(api, world.book, CHEN_PC, AT)
    ledger.snapshot()
    response = post_visit(api, demo, visit_body(CHEN_PC, AT), host=OTHER_HOST)
    refused(response, 401, "wrong-site", ledger)


def test_token_this_site_never_issued(
    api: ApiClient, world: World, ledger: Ledger, settings: Settings
) -> None:
    """Signed with the right secret, but no such token was issued (e.g. a leaked secret)."""
    forged = jwt.encode(
        {
            "data": {"schedule_id": CHEN_PC, "appointment_at": AT},
            "aud": HOST,
            "iat": NOW_EPOCH,
            "exp": NOW_EPOCH + 1800,
            "jti": str(uuid.uuid4()),
        },
        settings.secret_key,
        algorithm="HS256",
    )
    response = post_visit(api, forged, visit_body(CHEN_PC, AT))
    refused(response, 401, "unknown-token", ledger)


def test_used_token_with_a_different_body(api: ApiClient, world: World, ledger: Ledger) -> None:
    token = issue(api, world.book, CHEN_PC, AT)
    assert post_visit(api, token, visit_body(CHEN_PC, AT)).status_code == 201
    ledger.snapshot()
    other = visit_body(CHEN_PC, AT, {"first-name": "Yolanda"})
    error = refused(post_visit(api, token, other), 401, "token-used", ledger)
    assert "already been used" in error["detail"]


# --- the body must match the token ---------------------------------------------------------


def test_body_naming_another_schedule(api: ApiClient, world: World, ledger: Ledger) -> None:
    token = issue(api, world.book, CHEN_PC, AT)
    ledger.snapshot()
    response = post_visit(api, token, visit_body(GARCIA_PC, AT))
    assert problems(response) == {("/data/relationships/schedule/data/id", "token-mismatch")}
    ledger.assert_unchanged()


def test_body_naming_another_instant(api: ApiClient, world: World, ledger: Ledger) -> None:
    token = issue(api, world.book, CHEN_PC, AT)
    ledger.snapshot()
    response = post_visit(api, token, visit_body(CHEN_PC, ny(1, "11:15")))
    assert problems(response) == {(attribute("appointment-at"), "token-mismatch")}
    ledger.assert_unchanged()


@pytest.mark.parametrize("same_instant", ["2026-12-01T16:00:00Z", "2026-12-01T17:30:00+01:30"])
def test_same_instant_in_another_offset_is_accepted(
    api: ApiClient, world: World, same_instant: str
) -> None:
    token = issue(api, world.book, CHEN_PC, AT)
    response = post_visit(api, token, visit_body(CHEN_PC, same_instant))
    assert response.status_code == 201, response.text
    assert response.json()["data"]["attributes"]["appointment-at"] == AT


def test_a_refusal_does_not_use_up_the_token(api: ApiClient, world: World, ledger: Ledger) -> None:
    token = issue(api, world.book, CHEN_PC, AT)
    ledger.snapshot()
    response = post_visit(api, token, visit_body(CHEN_PC, AT, drop=["email"]))
    assert problems(response) == {(attribute("email"), "blank")}
    ledger.assert_unchanged()
    assert AT not in times(api, world.read, CHEN_PC)  # still held for this patient
    corrected = post_visit(api, token, visit_body(CHEN_PC, AT))
    assert corrected.status_code == 201, corrected.text
    assert corrected.json()["data"]["attributes"]["confirmation-number"] == 1


# --- retries -------------------------------------------------------------------------------


def test_identical_retry_gets_the_original_visit(
    api: ApiClient, world: World, ledger: Ledger
) -> None:
    token = issue(api, world.book, CHEN_PC, AT)
    first = post_visit(api, token, visit_body(CHEN_PC, AT))
    assert first.status_code == 201, first.text
    ledger.snapshot()
    again = post_visit(api, token, visit_body(CHEN_PC, AT))
    assert again.status_code == 200, again.text
    assert again.json()["data"] == first.json()["data"]
    assert again.json()["data"]["attributes"]["confirmation-number"] == 1
    ledger.assert_unchanged()


def test_idempotency_key_with_a_new_token_gets_the_original(
    api: ApiClient, world: World, ledger: Ledger
) -> None:
    body = visit_body(CHEN_PC, AT)
    key = {"Idempotency-Key": "order-7731"}
    first = post_visit(api, issue(api, world.book, CHEN_PC, AT), body, headers=key)
    assert first.status_code == 201, first.text
    fresh = issue(api, world.book, CHEN_PC, ny(1, "11:15"))
    ledger.snapshot()
    again = post_visit(api, fresh, body, headers=key)
    assert again.status_code == 200, again.text
    assert again.json()["data"]["id"] == first.json()["data"]["id"]
    assert again.json()["data"]["attributes"] == first.json()["data"]["attributes"]
    ledger.assert_unchanged()


def test_idempotency_key_reused_for_another_body(
    api: ApiClient, world: World, ledger: Ledger
) -> None:
    key = {"Idempotency-Key": "order-7731"}
    first = post_visit(
        api, issue(api, world.book, CHEN_PC, AT), visit_body(CHEN_PC, AT), headers=key
    )
    assert first.status_code == 201, first.text
    later = ny(1, "11:15")
    fresh = issue(api, world.book, CHEN_PC, later)
    ledger.snapshot()
    response = post_visit(api, fresh, visit_body(CHEN_PC, later), headers=key)
    error = refused(response, 422, "idempotency-key-reused", ledger)
    assert error["source"] == {"header": "Idempotency-Key"}
    # Without the key, the same request books.
    assert post_visit(api, fresh, visit_body(CHEN_PC, later)).status_code == 201


def test_different_idempotency_keys_book_separately(api: ApiClient, world: World) -> None:
    for n, clock_time in enumerate(("11:00", "11:15"), start=1):
        at = ny(1, clock_time)
        response = post_visit(
            api,
            issue(api, world.book, CHEN_PC, at),
            visit_body(CHEN_PC, at),
            headers={"Idempotency-Key": f"order-{n}"},
        )
        assert response.status_code == 201, response.text
        assert response.json()["data"]["attributes"]["confirmation-number"] == n


# --- the body: every problem, with its pointer ---------------------------------------------


def test_unknown_attribute_is_named(api: ApiClient, world: World, ledger: Ledger) -> None:
    token = issue(api, world.book, CHEN_PC, AT)
    ledger.snapshot()
    response = post_visit(api, token, visit_body(CHEN_PC, AT, {"favorite-color": "teal"}))
    assert problems(response) == {(attribute("favorite-color"), "unknown-attribute")}
    assert "favorite-color" in only_error(response, 422)["detail"]
    ledger.assert_unchanged()


def test_all_missing_fields_are_reported_together(
    api: ApiClient, world: World, ledger: Ledger
) -> None:
    token = issue(api, world.book, CHEN_PC, AT)
    ledger.snapshot()
    response = post_visit(api, token, visit_body(CHEN_PC, AT, drop=PATIENT))
    required = ["birthdate", "email", "first-name", "last-name", "gender", "new-patient"]
    required += ["phone-number"]
    by_feature = ["address", "city", "state", "zip", "patient-complaint"]
    assert problems(response) == {(attribute(n), "blank") for n in required + by_feature}
    ledger.assert_unchanged()


def test_problems_of_every_kind_are_reported_together(
    api: ApiClient, world: World, ledger: Ledger
) -> None:
    token = issue(api, world.book, CHEN_PC, AT)
    ledger.snapshot()
    body = visit_body(
        GARCIA_PC,
        ny(1, "11:15"),
        {"gender": "other", "email": "not-an-email", "shoe-size": 9, "pregnant": "perhaps"},
        drop=["city"],
    )
    assert problems(post_visit(api, token, body)) == {
        ("/data/relationships/schedule/data/id", "token-mismatch"),
        (attribute("appointment-at"), "token-mismatch"),
        (attribute("shoe-size"), "unknown-attribute"),
        (attribute("pregnant"), "invalid-type"),
        (attribute("gender"), "not-included"),
        (attribute("email"), "invalid-email"),
        (attribute("city"), "blank"),
    }
    ledger.assert_unchanged()


RULES = [
    # (id, schedule, time, changes, drop, expected (attribute, code))
    ("gender-other", CHEN_PC, AT, {"gender": "other"}, [], ("gender", "not-included")),
    ("phone-9-digits", CHEN_PC, AT, {"phone-number": "423-555-018"}, [], ("phone-number", "invalid-phone")),
    ("email-bad", CHEN_PC, AT, {"email": "zelda.example.org"}, [], ("email", "invalid-email")),
    ("birthdate-future", CHEN_PC, AT, {"birthdate": "2027-01-15"}, [], ("birthdate", "invalid-birthdate")),
    ("birthdate-today", CHEN_PC, AT, {"birthdate": "2026-12-01"}, [], ("birthdate", "invalid-birthdate")),
    ("caregiver-for-10-year-old", CHEN_PC, AT, {"birthdate": "2016-06-01"}, [], ("caregiver-name", "blank")),
    ("weeks-pregnant-when-pregnant", CHEN_PC, AT, {"pregnant": "yes"}, [], ("weeks-pregnant", "blank")),
    ("plan-not-accepted", CHEN_PC, AT, {"insurance-plan-permalink": "aetna-ppo"}, [], ("insurance-plan-permalink", "not-accepted")),
    ("type-not-offered", CHEN_PC, AT, {"appointment-type": "mri-scan"}, [], ("appointment-type", "not-included")),
    ("type-missing", CHEN_PC, AT, {}, ["appointment-type"], ("appointment-type", "blank")),
    ("new-patient-missing", CHEN_PC, AT, {"new-patient": None}, [], ("new-patient", "blank")),
    ("age-limit-younger-than-18", PEDIATRICS, chicago(1, "10:00"), {}, [], ("birthdate", "age-limit")),
    ("feature-full-address", CHEN_PC, AT, {}, ["address"], ("address", "blank")),
    ("feature-patient-complaint", CHEN_PC, AT, {"patient-complaint": "  "}, [], ("patient-complaint", "blank")),
    ("settings-zip-format", CHEN_PC, AT, {"zip": "3740"}, [], ("zip", "invalid-format")),
    ("settings-middle-initial-length", CHEN_PC, AT, {"middle-initial": "QX"}, [], ("middle-initial", "too-long")),
    ("schedule-settings-referring-provider", DISCHARGE, chicago(1, "09:00"), {}, [], ("referring-provider-name", "blank")),
]  # fmt: skip


@pytest.mark.parametrize(
    ("schedule", "at", "changes", "drop", "expected"),
    [pytest.param(*case[1:], id=case[0]) for case in RULES],
)
def test_rule_violation(
    api: ApiClient,
    world: World,
    ledger: Ledger,
    schedule: str,
    at: str,
    changes: dict[str, Any],
    drop: list[str],
    expected: tuple[str, str],
) -> None:
    token = issue(api, world.book, schedule, at)
    ledger.snapshot()
    response = post_visit(api, token, visit_body(schedule, at, changes, drop))
    name, code = expected
    assert problems(response) == {(attribute(name), code)}
    for value in (FIRST_NAME, LAST_NAME, EMAIL, PHONE):
        assert value not in response.text
    ledger.assert_unchanged()


SATISFIED = [
    ("caregiver-given", CHEN_PC, AT, {"birthdate": "2016-06-01", "caregiver-name": "Ann Quimby"}),
    ("fourteen-needs-no-caregiver", CHEN_PC, AT, {"birthdate": "2012-11-30"}),
    ("weeks-given", CHEN_PC, AT, {"pregnant": "yes", "weeks-pregnant": 12}),
    ("plan-accepted", CHEN_PC, AT, {"insurance-plan-permalink": "bcbst-network-p"}),
    ("zip-plus-four", CHEN_PC, AT, {"zip": "37403-1234"}),
    ("zip-as-number", CHEN_PC, AT, {"zip": 37403}),
    ("phone-with-country-code", CHEN_PC, AT, {"phone-number": "+1 (423) 555-0187"}),
    ("other-type-offered", CHEN_PC, AT, {"appointment-type": "follow-up"}),
    ("child-at-pediatrics", PEDIATRICS, chicago(1, "10:00"), {"birthdate": "2012-11-30"}),
    ("referring-provider", DISCHARGE, chicago(1, "09:00"), {"referring-provider-name": "Dr. Lee"}),
]  # fmt: skip


@pytest.mark.parametrize(
    ("schedule", "at", "changes"), [pytest.param(*case[1:], id=case[0]) for case in SATISFIED]
)
def test_rule_satisfied(
    api: ApiClient, world: World, schedule: str, at: str, changes: dict[str, Any]
) -> None:
    token = issue(api, world.book, schedule, at)
    response = post_visit(api, token, visit_body(schedule, at, changes))
    assert response.status_code == 201, response.text


# --- protocol ------------------------------------------------------------------------------


def test_plain_json_content_type_is_415(api: ApiClient, world: World, ledger: Ledger) -> None:
    token = issue(api, world.book, CHEN_PC, AT)
    ledger.snapshot()
    response = post_visit(api, token, visit_body(CHEN_PC, AT), content_type="application/json")
    error = refused(response, 415, "unsupported-media-type", ledger)
    assert error["source"] == {"header": "Content-Type"}
    assert post_visit(api, token, visit_body(CHEN_PC, AT)).status_code == 201


def test_malformed_json_is_400(api: ApiClient, world: World, ledger: Ledger) -> None:
    token = issue(api, world.book, CHEN_PC, AT)
    ledger.snapshot()
    response = post_visit(api, token, b'{"data": {"type": "visits",')
    refused(response, 400, "invalid-json", ledger)
    assert post_visit(api, token, visit_body(CHEN_PC, AT)).status_code == 201


def test_visits_cannot_be_listed(api: ApiClient, world: World) -> None:
    response = api.get(path("/visits"), params={"api_key": world.book})
    assert only_error(response, 405)["code"] == "method-not-allowed"
    assert response.headers["allow"] == "POST"


def test_a_visit_cannot_be_read_back(api: ApiClient, world: World) -> None:
    visit = book(api, world.book, CHEN_PC, AT)
    response = api.get(path(f"/visits/{visit['id']}"), params={"api_key": world.read})
    assert only_error(response, 405)["code"] == "method-not-allowed"
    assert "allow" in response.headers
    for value in (FIRST_NAME, LAST_NAME, EMAIL, PHONE):
        assert value not in response.text


# --- capacity ------------------------------------------------------------------------------


def test_capacity_three_takes_exactly_three_visits(
    api: ApiClient, world: World, ledger: Ledger
) -> None:
    at = chicago(1, "09:00")
    changes = {"referring-provider-name": "Dr. Lee"}
    numbers = [
        book(api, world.book, DISCHARGE, at, changes)["attributes"]["confirmation-number"]
        for _ in range(3)
    ]
    assert numbers == [1, 2, 3]
    assert at not in times(api, world.read, DISCHARGE)
    ledger.snapshot()
    error = refused(
        api.get(
            path("/visit-token"),
            params={"schedule_id": DISCHARGE, "appointment_at": at, "api_key": world.book},
        ),
        422,
        "slot-unavailable",
        ledger,
    )
    assert error["source"] == {"parameter": "appointment_at"}


def test_without_holds_the_fourth_booking_is_slot_unavailable(
    api: ApiClient, world: World, ledger: Ledger, session_factory: sessionmaker[Session]
) -> None:
    with session_factory() as session, session.begin():
        session.execute(
            update(HealthSystem).where(HealthSystem.slug == "winter-health").values(hold_minutes=0)
        )
    at = chicago(1, "09:00")
    body = visit_body(DISCHARGE, at, {"referring-provider-name": "Dr. Lee"})
    tokens = [issue(api, world.book, DISCHARGE, at) for _ in range(4)]
    for n, token in enumerate(tokens[:3], start=1):
        response = post_visit(api, token, body)
        assert response.status_code == 201, response.text
        assert response.json()["data"]["attributes"]["confirmation-number"] == n
    ledger.snapshot()
    error = refused(post_visit(api, tokens[3], body), 422, "slot-unavailable", ledger)
    assert error["source"] == {"pointer": attribute("appointment-at")}


# --- patient data at rest ------------------------------------------------------------------


def stored_patient_data(session_factory: sessionmaker[Session]) -> list[str]:
    with session_factory() as session:
        return list(session.execute(text("SELECT patient_data FROM visits")).scalars())


def test_patient_data_is_encrypted_with_a_phi_key(
    make_api: MakeApi, world: World, session_factory: sessionmaker[Session]
) -> None:
    api = make_api(phi_key=PHI_KEY)
    book(api, world.book, CHEN_PC, AT)
    [stored] = stored_patient_data(session_factory)
    assert stored.startswith("v1:")
    for value in (FIRST_NAME, LAST_NAME, EMAIL, PHONE, "1985-04-12", "Elm Street"):
        assert value not in stored
    patient = unseal(stored, decode_key(PHI_KEY))
    assert patient["first-name"] == FIRST_NAME
    assert patient["last-name"] == LAST_NAME
    assert patient["email"] == EMAIL
    assert patient["phone-number"] == PHONE
    assert patient["birthdate"] == "1985-04-12"
    with pytest.raises(ValueError, match="PHI_KEY"):
        unseal(stored, None)


def test_patient_data_is_marked_plain_without_a_key(
    api: ApiClient, world: World, session_factory: sessionmaker[Session]
) -> None:
    book(api, world.book, CHEN_PC, AT)
    [stored] = stored_patient_data(session_factory)
    assert stored.startswith("plain:")
    assert unseal(stored, None)["email"] == EMAIL
