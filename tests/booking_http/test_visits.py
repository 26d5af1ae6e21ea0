"""POST /visits (SPEC section 7) against the Winter Health demo, on both databases.

Most bookings are on David Chen's primary-care schedule (CHEN_PC: New York, capacity 1,
offered from 10:00 EST on 2026-12-01). Every refusal is checked to write nothing: no
visit, no seat claim, no used token.
"""

from __future__ import annotations

import base64
import json
import logging
import uuid
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


def test_bad_signature(api: ApiClient, world: World, ledger: Ledger) -> None:
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
    header, payload, signature = token.split(".")
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


def test_a_retry_of_the_same_document_differently_spelled_is_identical(
    api: ApiClient, world: World, ledger: Ledger
) -> None:
    token = issue(api, world.book, CHEN_PC, AT)
    body = visit_body(CHEN_PC, AT)
    first = post_visit(api, token, body)
    assert first.status_code == 201, first.text
    ledger.snapshot()
    attributes = body["data"]["attributes"]
    body["data"]["attributes"] = dict(reversed(list(attributes.items())))
    respelled = json.dumps(body, indent=2).encode()
    again = post_visit(api, token, respelled)
    assert again.status_code == 200, again.text
    assert again.json()["data"]["id"] == first.json()["data"]["id"]
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


def case(
    name: str,
    changes: dict[str, Any] | None = None,
    drop: tuple[str, ...] = (),
    *,
    expected: tuple[str, str] | None = None,
    schedule: str = CHEN_PC,
    at: str = AT,
) -> Any:
    """One booking of the standard patient with ``changes``; ``expected`` its only problem."""
    values = (schedule, at, changes or {}, drop)
    return pytest.param(*values, expected, id=name) if expected else pytest.param(*values, id=name)


PEDIATRICS_AT = chicago(1, "10:00")
DISCHARGE_AT = chicago(1, "09:00")
RULES = [
    case("gender-other", {"gender": "other"}, expected=("gender", "not-included")),
    case(
        "phone-9-digits",
        {"phone-number": "423-555-018"},
        expected=("phone-number", "invalid-phone"),
    ),
    case("email-bad", {"email": "zelda.example.org"}, expected=("email", "invalid-email")),
    case(
        "birthdate-future", {"birthdate": "2027-01-15"}, expected=("birthdate", "invalid-birthdate")
    ),
    case(
        "birthdate-today", {"birthdate": "2026-12-01"}, expected=("birthdate", "invalid-birthdate")
    ),
    case(
        "caregiver-for-10-year-old",
        {"birthdate": "2016-06-01"},
        expected=("caregiver-name", "blank"),
    ),
    case("weeks-pregnant-when-pregnant", {"pregnant": "yes"}, expected=("weeks-pregnant", "blank")),
    case(
        "plan-not-accepted",
        {"insurance-plan-permalink": "aetna-ppo"},
        expected=("insurance-plan-permalink", "not-accepted"),
    ),
    case(
        "type-not-offered",
        {"appointment-type": "mri-scan"},
        expected=("appointment-type", "not-included"),
    ),
    case("appointment-at-missing", drop=("appointment-at",), expected=("appointment-at", "blank")),
    case(
        "age-limit-on-18th-birthday",
        {"birthdate": "2008-12-01"},
        schedule=PEDIATRICS,
        at=PEDIATRICS_AT,
        expected=("birthdate", "age-limit"),
    ),
    case(
        "caregiver-for-13-year-old",
        {"birthdate": "2012-12-02"},
        expected=("caregiver-name", "blank"),
    ),
    case("type-missing", drop=("appointment-type",), expected=("appointment-type", "blank")),
    case("new-patient-null", {"new-patient": None}, expected=("new-patient", "blank")),
    case(
        "new-patient-not-yes-no", {"new-patient": "maybe"}, expected=("new-patient", "invalid-type")
    ),
    case(
        "age-limit-younger-than-18",
        schedule=PEDIATRICS,
        at=PEDIATRICS_AT,
        expected=("birthdate", "age-limit"),
    ),
    case("feature-full-address", drop=("address",), expected=("address", "blank")),
    case(
        "feature-patient-complaint",
        {"patient-complaint": "  "},
        expected=("patient-complaint", "blank"),
    ),
    case("settings-zip-format", {"zip": "3740"}, expected=("zip", "invalid-format")),
    case(
        "settings-middle-initial-length",
        {"middle-initial": "QX"},
        expected=("middle-initial", "too-long"),
    ),
    case(
        "schedule-settings-referring-provider",
        schedule=DISCHARGE,
        at=DISCHARGE_AT,
        expected=("referring-provider-name", "blank"),
    ),
]


@pytest.mark.parametrize(("schedule", "at", "changes", "drop", "expected"), RULES)
def test_rule_violation(
    api: ApiClient,
    world: World,
    ledger: Ledger,
    schedule: str,
    at: str,
    changes: dict[str, Any],
    drop: tuple[str, ...],
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
    case("caregiver-given", {"birthdate": "2016-06-01", "caregiver-name": "Ann Quimby"}),
    case("fourteen-needs-no-caregiver", {"birthdate": "2012-12-01"}),
    case("birthdate-as-date-time", {"birthdate": "1985-04-12T00:00:00Z"}),
    case("yes-no-spellings", {"new-patient": False, "pregnant": "No", "requires-translator": "0"}),
    case("optin-as-string", {"optin": "0"}),
    case("weeks-given", {"pregnant": "yes", "weeks-pregnant": 12}),
    case("not-pregnant", {"pregnant": False}),
    case("plan-accepted", {"insurance-plan-permalink": "bcbst-network-p"}),
    case("zip-plus-four", {"zip": "37403-1234"}),
    case("zip-as-number", {"zip": 37403}),
    case("phone-with-country-code", {"phone-number": "+1 (423) 555-0187"}),
    case("other-type-offered", {"appointment-type": "follow-up"}),
    case("gender-any-case", {"gender": "Female"}),
    case(
        "seventeen-at-pediatrics",
        {"birthdate": "2008-12-02"},
        schedule=PEDIATRICS,
        at=PEDIATRICS_AT,
    ),
    case(
        "referring-provider",
        {"referring-provider-name": "Dr. Lee"},
        schedule=DISCHARGE,
        at=DISCHARGE_AT,
    ),
]


@pytest.mark.parametrize(("schedule", "at", "changes", "drop"), SATISFIED)
def test_rule_satisfied(
    api: ApiClient,
    world: World,
    schedule: str,
    at: str,
    changes: dict[str, Any],
    drop: tuple[str, ...],
) -> None:
    token = issue(api, world.book, schedule, at)
    response = post_visit(api, token, visit_body(schedule, at, changes, drop))
    assert response.status_code == 201, response.text


# --- protocol ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "content_type",
    ["application/json", "application/vnd.api+json; charset=utf-8", "text/plain"],
)
def test_other_content_types_are_415(
    api: ApiClient, world: World, ledger: Ledger, content_type: str
) -> None:
    token = issue(api, world.book, CHEN_PC, AT)
    ledger.snapshot()
    response = post_visit(api, token, visit_body(CHEN_PC, AT), content_type=content_type)
    error = refused(response, 415, "unsupported-media-type", ledger)
    assert error["source"] == {"header": "Content-Type"}
    assert post_visit(api, token, visit_body(CHEN_PC, AT)).status_code == 201


def test_malformed_json_is_400(api: ApiClient, world: World, ledger: Ledger) -> None:
    token = issue(api, world.book, CHEN_PC, AT)
    ledger.snapshot()
    response = post_visit(api, token, b'{"data": {"type": "visits",')
    refused(response, 400, "invalid-json", ledger)
    assert post_visit(api, token, visit_body(CHEN_PC, AT)).status_code == 201


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        pytest.param([], {("", "invalid-document")}, id="not-an-object"),
        pytest.param({"data": []}, {("/data", "invalid-document")}, id="data-not-an-object"),
        pytest.param(
            {"data": {"type": "visits", "attributes": []}},
            {("/data/attributes", "invalid-document")},
            id="attributes-not-an-object",
        ),
    ],
)
def test_a_body_that_is_no_resource_document_is_400(
    api: ApiClient, world: World, ledger: Ledger, document: Any, expected: set[tuple[str, str]]
) -> None:
    token = issue(api, world.book, CHEN_PC, AT)
    ledger.snapshot()
    assert problems(post_visit(api, token, document), 400) == expected
    ledger.assert_unchanged()


def test_resource_shape_problems_are_422(api: ApiClient, world: World, ledger: Ledger) -> None:
    token = issue(api, world.book, CHEN_PC, AT)
    ledger.snapshot()
    body = visit_body(CHEN_PC, AT)
    body["data"]["type"] = "visit"
    body["data"]["id"] = "my-own-id"
    body["data"]["relationships"]["provider"] = {"data": {"type": "providers", "id": "x"}}
    assert problems(post_visit(api, token, body)) == {
        ("/data/type", "invalid-resource-type"),
        ("/data/id", "client-generated-id"),
        ("/data/relationships/provider", "unknown-relationship"),
    }
    ledger.assert_unchanged()


def test_visits_cannot_be_listed(api: ApiClient, world: World) -> None:
    response = api.get(path("/visits"), params={"api_key": world.book})
    assert only_error(response, 405)["code"] == "method-not-allowed"
    assert response.headers["allow"] == "POST"


@pytest.mark.parametrize("method", ["GET", "PUT", "PATCH", "DELETE"])
def test_wrong_methods_on_visits_name_post_as_the_only_one_allowed(
    api: ApiClient, world: World, method: str
) -> None:
    """RFC 9110: Allow lists the methods the target resource supports."""
    response = api.request(
        method,
        path("/visits"),
        params={"api_key": world.book},
        headers={"Content-Type": "application/vnd.api+json"},
        content=b"{}" if method != "GET" else None,
    )
    assert only_error(response, 405)["code"] == "method-not-allowed"
    assert response.headers["allow"] == "POST"


def test_a_visit_cannot_be_read_back_with_an_api_key(api: ApiClient, world: World) -> None:
    # Only the visit's management token opens it (SPEC section 10); a key alone is 401.
    visit = book(api, world.book, CHEN_PC, AT)
    response = api.get(path(f"/visits/{visit['id']}"), params={"api_key": world.read})
    assert only_error(response, 401)["code"] == "missing-management-token"
    response = api.get(
        path(f"/visits/{visit['id']}"), headers={"Authorization": f"Bearer {world.read}"}
    )
    assert only_error(response, 401)["code"] == "invalid-management-token"
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


# --- holds and seats ---------------------------------------------------------------------


def hold_for(session_factory: sessionmaker[Session], minutes: int) -> None:
    with session_factory() as session, session.begin():
        session.execute(
            update(HealthSystem)
            .where(HealthSystem.slug == "winter-health")
            .values(hold_minutes=minutes)
        )


def test_booking_after_a_short_hold_lapsed_takes_a_free_seat(
    api: ApiClient, world: World, clock: Clock, session_factory: sessionmaker[Session]
) -> None:
    hold_for(session_factory, 5)
    token = issue(api, world.book, CHEN_PC, AT)
    clock.advance(minutes=10)  # hold gone, token still valid
    assert AT in times(api, world.read, CHEN_PC)
    assert post_visit(api, token, visit_body(CHEN_PC, AT)).status_code == 201
    assert AT not in times(api, world.read, CHEN_PC)


def test_a_lapsed_hold_can_lose_the_seat(
    api: ApiClient,
    world: World,
    clock: Clock,
    ledger: Ledger,
    session_factory: sessionmaker[Session],
) -> None:
    hold_for(session_factory, 5)
    slow = issue(api, world.book, CHEN_PC, AT)
    clock.advance(minutes=10)
    fast = issue(api, world.book2, CHEN_PC, AT)  # the seat is held again, for someone else
    ledger.snapshot()
    error = refused(post_visit(api, slow, visit_body(CHEN_PC, AT)), 422, "slot-unavailable", ledger)
    assert error["source"] == {"pointer": attribute("appointment-at")}
    assert post_visit(api, fast, visit_body(CHEN_PC, AT)).status_code == 201


def test_a_booking_keeps_the_cells_its_type_needs_and_frees_the_rest(
    api: ApiClient, world: World
) -> None:
    """Pediatrics' default type is 60 minutes, so the token holds 10:00-11:00; a
    30-minute well-child visit keeps 10:00-10:30 and gives back 10:30-11:00."""
    at = chicago(1, "10:00")
    token = issue(api, world.book, PEDIATRICS, at)
    held = times(api, world.read, PEDIATRICS, "sick-visit")
    assert not {chicago(1, c) for c in ("10:00", "10:15", "10:30", "10:45")} & set(held)
    body = visit_body(
        PEDIATRICS,
        at,
        {
            "appointment-type": "well-child",
            "birthdate": "2015-02-03",
            "caregiver-name": "Ann Quimby",
        },
    )
    response = post_visit(api, token, body)
    assert response.status_code == 201, response.text
    assert response.json()["data"]["attributes"]["appointment-type-name"] == "Well-Child Visit"
    offered = set(times(api, world.read, PEDIATRICS, "sick-visit"))
    assert not {chicago(1, "10:00"), chicago(1, "10:15")} & offered
    assert {chicago(1, "09:45"), chicago(1, "10:30"), chicago(1, "10:45")} <= offered


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


def test_patient_data_never_reaches_the_logs(
    make_api: MakeApi, world: World, caplog: pytest.LogCaptureFixture
) -> None:
    api = make_api(access_log=True, log_level="DEBUG")
    with caplog.at_level(logging.DEBUG):
        token = issue(api, world.book, CHEN_PC, AT)
        post_visit(api, token, visit_body(CHEN_PC, AT, {"email": "bad"}))  # refused
        assert post_visit(api, token, visit_body(CHEN_PC, AT)).status_code == 201
    assert caplog.records  # the access log did record the requests
    logged = caplog.text + " ".join(str(r.__dict__) for r in caplog.records)
    for value in (FIRST_NAME, LAST_NAME, EMAIL, PHONE, "1985-04-12", "Elm Street"):
        assert value not in logged


def test_patient_data_is_marked_plain_without_a_key(
    api: ApiClient, world: World, session_factory: sessionmaker[Session]
) -> None:
    book(api, world.book, CHEN_PC, AT)
    [stored] = stored_patient_data(session_factory)
    assert stored.startswith("plain:")
    assert unseal(stored, None)["email"] == EMAIL
