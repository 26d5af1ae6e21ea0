"""OperationOutcome on bad input, tenancy and scopes; SMART $bulk-publish."""

from __future__ import annotations

import orjson
from fhir.resources.R4B.location import Location
from fhir.resources.R4B.schedule import Schedule
from fhir.resources.R4B.slot import Slot
from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from inquicker.tenancy.models import HealthSystem
from tests.booking_http.world import CHEN_PC, OTHER_HOST, OTHER_SCHEDULE, World
from tests.conftest import ApiClient
from tests.fhir.helpers import PATIENT, body_of, book_parts, fhir_path, get, post, resources


def _issue(response: object) -> dict[str, object]:
    issues = body_of(response)["issue"]  # type: ignore[arg-type]
    first: dict[str, object] = issues[0]
    return first


def test_refusals_are_operation_outcomes(api: ApiClient, world: World) -> None:
    missing = get(api, "Schedule", None)
    assert missing.status_code == 401 and _issue(missing)["code"] == "login"
    bad_date = get(api, "Slot", world.read, schedule=CHEN_PC, start="ge2026-13-45")
    assert bad_date.status_code == 400
    assert _issue(bad_date)["expression"] == ["start"]
    unknown = get(api, f"Schedule/{OTHER_SCHEDULE}", world.read)
    assert unknown.status_code == 404 and _issue(unknown)["code"] == "not-found"
    other_tenant = api.get(
        fhir_path(f"Schedule/{CHEN_PC}", OTHER_HOST), params={"api_key": world.other_book}
    )
    assert other_tenant.status_code == 404
    no_site = api.get("/fhir/r4/nowhere.example.com/metadata")
    assert no_site.status_code == 404 and _issue(no_site)["code"] == "not-found"
    read_key = post(api, "Appointment/$book", world.read, book_parts(f"{CHEN_PC}.1796140800"))
    assert read_key.status_code == 403 and _issue(read_key)["code"] == "forbidden"
    wrong_method = api.delete(fhir_path("Schedule"), params={"api_key": world.read})
    assert wrong_method.status_code == 405 and wrong_method.headers["allow"] == "GET, HEAD"
    no_route = get(api, "Observation", world.read)
    assert no_route.status_code == 404


def test_unknown_search_parameters_strict_or_lenient(api: ApiClient, world: World) -> None:
    lenient = get(api, "Location", world.read, colour="blue")
    assert lenient.status_code == 200 and body_of(lenient)["total"] == 5
    strict = api.get(
        fhir_path("Location"),
        params={"api_key": world.read, "colour": "blue"},
        headers={"Prefer": "handling=strict"},
    )
    assert strict.status_code == 400 and _issue(strict)["expression"] == ["colour"]


def test_catalog_resources_validate(api: ApiClient, world: World) -> None:
    locations = resources(body_of(get(api, "Location", world.read)))
    for location in locations:
        Location.model_validate(location)
    assert locations[0]["id"] == "chattanooga-downtown"
    practitioners = body_of(get(api, "Practitioner", world.read))
    services = body_of(get(api, "HealthcareService", world.read))
    assert (practitioners["total"], services["total"]) == (13, 2)
    schedule = body_of(get(api, f"Schedule/{CHEN_PC}", world.read))
    Schedule.model_validate(schedule)
    assert schedule["actor"][0]["reference"] == "Practitioner/dr-david-chen"
    assert schedule["actor"][1]["reference"] == "Location/chattanooga-downtown"
    by_actor = body_of(get(api, "Schedule", world.read, actor="Practitioner/dr-david-chen"))
    assert CHEN_PC in [s["id"] for s in resources(by_actor)]
    paged = body_of(get(api, "Schedule", world.read, _count="5", _offset="5"))
    relations = {link["relation"] for link in paged["link"]}
    assert relations == {"self", "first", "previous", "next", "last"} and len(paged["entry"]) == 5


def test_book_reports_every_rule_as_issues(api: ApiClient, world: World) -> None:
    patient = {**PATIENT, "birthDate": "2090-01-01", "telecom": []}
    response = post(
        api, "Appointment/$book", world.book, book_parts(f"{CHEN_PC}.1796140800", patient)
    )
    assert response.status_code == 422
    expressions = {e for i in body_of(response)["issue"] for e in i["expression"]}
    assert {
        "Patient.birthDate",
        "Patient.telecom.where(system='email')",
        "Patient.telecom.where(system='phone')",
    } <= expressions
    bad_body = api.post(
        fhir_path("Appointment/$book"), content=b"{nope", headers={"Authorization": world.book}
    )
    assert bad_body.status_code == 400
    wrong_type = api.post(
        fhir_path("Appointment/$book"),
        json={"resourceType": "Patient"},
        headers={"Authorization": world.book},
    )
    assert wrong_type.status_code == 400 and _issue(wrong_type)["expression"] == ["resourceType"]


def test_bulk_publish_is_404_until_switched_on(
    api: ApiClient, world: World, session_factory: sessionmaker[Session]
) -> None:
    assert api.get(fhir_path("$bulk-publish")).status_code == 404
    with session_factory() as session, session.begin():
        session.execute(
            update(HealthSystem)
            .where(HealthSystem.slug == "winter-health")
            .values(publish_slots=True)
        )
    manifest = api.get(fhir_path("$bulk-publish"))
    assert manifest.status_code == 200
    document = orjson.loads(manifest.content)
    assert [o["type"] for o in document["output"]] == ["Location", "Schedule", "Slot"]
    tag = manifest.headers["etag"]
    assert api.get(fhir_path("$bulk-publish"), headers={"If-None-Match": tag}).status_code == 304
    slots_url = document["output"][2]["url"].removeprefix("http://testserver")
    slots = api.get(slots_url)
    assert slots.headers["content-type"].startswith("application/fhir+ndjson")
    lines = [orjson.loads(line) for line in slots.content.splitlines()]
    chen = [s for s in lines if s["schedule"]["reference"] == f"Schedule/{CHEN_PC}"]
    first = chen[0]
    Slot.model_validate(first)
    assert first["start"] == "2026-12-01T10:00:00-05:00" and first["status"] == "free"
    links = [e["valueUrl"] for e in first["extension"] if e["url"].endswith("booking-deep-link")]
    assert links == [
        f"https://winter-health.example.org/book?schedule={CHEN_PC}"
        "&start=2026-12-01T10%3A00%3A00-05%3A00"
    ]
    tag = slots.headers["etag"]
    assert api.get(slots_url, headers={"If-None-Match": tag}).status_code == 304
    # A booking changes the Slot file, so its ETag.
    booked = post(api, "Appointment/$book", world.book, book_parts(f"{CHEN_PC}.1796137200"))
    assert booked.status_code == 200
    changed = api.get(slots_url, headers={"If-None-Match": tag})
    assert changed.status_code == 200
    first_now = next(orjson.loads(x) for x in changed.content.splitlines() if CHEN_PC in x.decode())
    assert first_now["status"] == "busy"
    assert api.get(fhir_path("$bulk-publish"), params={"_since": "yesterday"}).status_code == 400
    since = api.get(fhir_path("$bulk-publish"), params={"_since": "2026-11-30T00:00:00Z"})
    assert since.status_code == 200
