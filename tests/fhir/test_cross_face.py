"""One engine, every face: JSON:API times = free Slots = $find proposals, and a booking or
hold through either face is seen by the other (SPEC section 13)."""

from __future__ import annotations

from fhir.resources.R4B.appointment import Appointment
from fhir.resources.R4B.slot import Slot

from tests.booking_http.helpers import book, ny, request_token, times
from tests.booking_http.world import CHEN_PC, World
from tests.conftest import ApiClient
from tests.fhir.helpers import body_of, book_parts, get, post, resources

DEC_1_END = "2026-12-02T05:00:00Z"  # midnight in New York


def _free_slots(api: ApiClient, key: str) -> list[str]:
    bundle = body_of(get(api, "Slot", key, schedule=CHEN_PC, status="free", start=f"lt{DEC_1_END}"))
    return [s["start"] for s in resources(bundle)]


def _proposals(api: ApiClient, key: str) -> list[str]:
    response = get(
        api,
        "Appointment/$find",
        key,
        practitioner="Practitioner/dr-david-chen",
        location="Location/chattanooga-downtown",
        end=DEC_1_END,
        _count="100",
    )
    bundle = body_of(response)
    return [a["start"] for a in resources(bundle)]


def _jsonapi_dec_1(api: ApiClient, key: str) -> list[str]:
    return [t for t in times(api, key, CHEN_PC) if t.startswith("2026-12-01")]


def test_every_face_offers_the_same_times(api: ApiClient, world: World) -> None:
    offered = _jsonapi_dec_1(api, world.read)
    # 10:00 (09:00 + 60 minutes' lead) to 16:45 on a 15-minute grid.
    assert offered[0] == ny(1, "10:00") and offered[-1] == ny(1, "16:45")
    assert len(offered) == 28
    assert _free_slots(api, world.read) == offered
    assert _proposals(api, world.read) == offered
    slot = resources(body_of(get(api, "Slot", world.read, schedule=CHEN_PC)))[0]
    Slot.model_validate(slot)
    assert slot["id"] == f"{CHEN_PC}.{1796137200}"  # 2026-12-01T10:00-05:00
    assert slot["end"] == ny(1, "10:15")
    assert slot["extension"] == [
        {
            "url": "http://fhir-registry.smarthealthit.org/StructureDefinition/slot-capacity",
            "valueInteger": 1,
        }
    ]


def test_a_jsonapi_booking_is_busy_in_fhir(api: ApiClient, world: World) -> None:
    book(api, world.book, CHEN_PC, ny(1, "11:00"))
    assert ny(1, "11:00") not in _free_slots(api, world.read)
    assert ny(1, "11:00") not in _proposals(api, world.read)
    busy = body_of(get(api, "Slot", world.read, schedule=CHEN_PC, status="busy"))
    assert [s["start"] for s in resources(busy)] == [ny(1, "11:00")]
    read = body_of(get(api, f"Slot/{CHEN_PC}.1796140800", world.read))
    assert read["status"] == "busy" and read["start"] == ny(1, "11:00")


def test_a_fhir_booking_is_gone_from_jsonapi(api: ApiClient, world: World) -> None:
    proposal = f"{CHEN_PC}.1796140800"  # 11:00
    response = post(api, "Appointment/$book", world.book, book_parts(proposal))
    assert response.status_code == 200, response.text
    [appointment] = resources(body_of(response))
    Appointment.model_validate(appointment)
    assert appointment["status"] == "booked"
    assert appointment["start"] == ny(1, "11:00")
    assert appointment["identifier"][0]["value"] == "1"
    token = response.headers["x-management-token"]
    assert token.startswith("vmt_")
    assert ny(1, "11:00") not in _jsonapi_dec_1(api, world.read)
    refused = request_token(api, world.book, CHEN_PC, ny(1, "11:00"))
    assert refused.status_code == 422
    # Idempotent: the same request answers the same visit and token, books nothing more.
    again = post(api, "Appointment/$book", world.book, book_parts(proposal))
    assert again.status_code == 200
    assert resources(body_of(again))[0]["id"] == appointment["id"]
    assert again.headers["x-management-token"] == token
    # Another patient for the same time: no double booking.
    other = {**book_parts(proposal)[1]["resource"], "name": [{"family": "Other", "given": ["Ann"]}]}
    taken = post(api, "Appointment/$book", world.book, book_parts(proposal, other))
    assert taken.status_code == 422
    assert body_of(taken)["issue"][0]["diagnostics"] == "slot-unavailable"
    # Read back with the management token; never with an API key.
    read = api.get(
        f"/fhir/r4/winter-health.inquicker.com/Appointment/{appointment['id']}",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert body_of(read)["status"] == "booked"
    denied = api.get(
        f"/fhir/r4/winter-health.inquicker.com/Appointment/{appointment['id']}",
        headers={"Authorization": world.read},
    )
    assert denied.status_code == 401
    assert body_of(denied)["issue"][0]["code"] == "login"


def test_fhir_hold_blocks_the_visit_token_and_books(api: ApiClient, world: World) -> None:
    held = post(
        api,
        "Appointment/$hold",
        world.book,
        [
            {
                "name": "appointment-reference",
                "valueReference": {"reference": f"Appointment/{CHEN_PC}.1796140800"},
            },
        ],
    )
    assert held.status_code == 200, held.text
    [pending] = resources(body_of(held))
    assert pending["status"] == "pending" and pending["id"].startswith("hold.")
    assert request_token(api, world.book2, CHEN_PC, ny(1, "11:00")).status_code == 422
    assert ny(1, "11:00") not in _free_slots(api, world.read)
    booked = post(api, "Appointment/$book", world.book, book_parts(pending["id"]))
    assert booked.status_code == 200, booked.text
    assert resources(body_of(booked))[0]["status"] == "booked"


def test_a_jsonapi_hold_hides_the_time_from_find(api: ApiClient, world: World) -> None:
    assert request_token(api, world.book, CHEN_PC, ny(1, "12:00")).status_code == 200
    assert ny(1, "12:00") not in _proposals(api, world.read)
    refused = post(
        api,
        "Appointment/$hold",
        world.book2,
        [
            {
                "name": "appointment-reference",
                "valueReference": {"reference": f"Appointment/{CHEN_PC}.1796144400"},
            },
        ],
    )
    assert refused.status_code == 422
    assert body_of(refused)["issue"][0]["diagnostics"] == "slot-unavailable"
