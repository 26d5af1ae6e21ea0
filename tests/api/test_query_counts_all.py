"""SQL statements per request, for every route of the API (issue 6, "Scale").

Each route's count is asserted exactly, and measured twice where the data allows: on a small
and on a large answer (a bigger page, a parent with more children, more included resources,
more schedules or cells). Both must take the same number of statements: related rows are
fetched in bulk, one query per relationship (or computed attribute) per page, never per row.

How statements are counted: a ``before_cursor_execute`` listener on the app's engine, around
one request made by a fresh app, so nothing is answered from memory: no response cache
(``response_cache_bytes=0``), no memoised tenant, key or schedule rules (cold). The counts
below are therefore those of a process's first request; warm requests take fewer. SQLite's
explicit ``BEGIN`` / ``BEGIN IMMEDIATE`` is left out (PostgreSQL's driver begins implicitly),
so both databases agree on every count but one (POST /visits, said there). Each key is used
once before measuring: the first use of a key records its ``last_used_at`` in a transaction
of its own.

Data: the Winter Health demo (tests/booking_http/world.py) with the clock at its NOW.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson
import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from inquicker.app import create_app
from inquicker.settings import Settings
from tests.booking_http.helpers import visit_body
from tests.booking_http.world import CHEN_PC, GARCIA_PC, HOST, Clock, World, build
from tests.conftest import ApiClient
from tests.support.routes import RESOURCE_TYPES, TABLE, head
from tests.support.statements import counting

BASE = f"/api/v3/{HOST}"
JSONAPI = "application/vnd.api+json"

# Demo schedules chosen for how many related rows they have (active schedules only).
FEW_PLANS = "5d67cc0c-8d25-56a3-9fe1-b22bdbd24f42"  # no plan (location says none), 4 types
MRI_KNOX = "654d60e9-0b2b-538c-960f-0036367dbf6f"  # 2 plans, 1 type
MRI_NASH = "e5026ae9-1d22-5e57-96a2-a556cdde29af"  # 5 plans, 1 type
SMITH_NASH = "4a8cf484-65e5-531d-95cf-160e7cfbc746"  # 6 plans, 4 types
# Ten schedules with weekly hours, for availability.
TEN = [
    CHEN_PC,
    GARCIA_PC,
    SMITH_NASH,
    MRI_KNOX,
    MRI_NASH,
    FEW_PLANS,
    "08de6e10-a6d7-5ebb-9785-f3386490f2a1",
    "0f338051-1815-56c0-a2b8-edbdec671442",
    "1b88cc3d-8272-5e14-aae9-3c04aeaad988",
    "34175a9a-9585-5ce9-a69c-79c0a686ccbd",
]


@dataclass(frozen=True)
class Measured:
    statements: list[str]
    body: Any

    def show(self) -> str:
        return "\n".join(
            f"{n:3d}  {' '.join(s.split())[:160]}" for n, s in enumerate(self.statements, 1)
        )


class Meter:
    """Requests made by a fresh app each (cold), with their SQL statements."""

    def __init__(self, engine: Engine, world: World) -> None:
        self.engine = engine
        self.world = world
        self.clock = Clock()
        for key in (world.read, world.book):  # record each key's first use now
            self.request("GET", "/health-systems", key=key)

    def request(
        self,
        method: str,
        path: str,
        params: Sequence[tuple[str, str]] = (),
        *,
        key: str | None = None,
        status: int = 200,
        **kwargs: Any,
    ) -> Measured:
        settings = Settings(env="test", access_log=False, response_cache_bytes=0)
        app = create_app(settings, engine=self.engine, clock=self.clock)
        query = [*params, *([("api_key", key)] if key else [])]
        with (
            ApiClient(app, base_url="http://testserver") as client,
            counting(self.engine) as statements,
        ):
            response = client.request(method, BASE + path, params=query, **kwargs)
        assert response.status_code == status, response.text
        own = [s for s in statements if s.strip().upper() not in ("BEGIN", "BEGIN IMMEDIATE")]
        body = response.json() if "json" in response.headers.get("content-type", "") else None
        return Measured(own, body if body is not None else response.text)

    def get(self, path: str, params: Sequence[tuple[str, str]] = ()) -> Measured:
        return self.request("GET", path, params, key=self.world.read)


@pytest.fixture
def meter(engine: Engine, session_factory: sessionmaker[Session]) -> Meter:
    with session_factory() as session, session.begin():
        world = build(session)
    return Meter(engine, world)


def size(body: Any) -> int:
    """Resources in a document (primary and included), or elements of a plain array."""
    if isinstance(body, list):
        return len(body)
    data = body["data"]
    primary = len(data) if isinstance(data, list) else int(data is not None)
    return primary + len(body.get("included", []))


Params = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Case:
    """A GET route: its exact statement count, on a small answer and (if any) a larger one."""

    name: str
    exact: int
    path: str
    params: Params = ()
    large_path: str | None = None
    large_params: Params | None = None


def page(size_: int, *more: tuple[str, str]) -> Params:
    return (("page[size]", str(size_)), *more)


# Every list also counts its matches and reads one page of pks before the page's rows:
# "site" is the site with its health systems and data versions, "key" the API key.
CASES = [
    # --- health-systems (a site exposes one here: nothing to grow) ---------------------------
    Case("health-systems list", 5, "/health-systems"),  # site, key, count, page, rows
    Case("health-systems show", 3, "/health-systems/winter-health"),  # site, key, row
    # --- locations ---------------------------------------------------------------------------
    # site, key, count, page, rows, included schedules, their hours, their providers, the
    # providers' appointment-types, the providers' medical-groups
    Case(
        "locations list with nested include",
        10,
        "/locations",
        page(1, ("include", "schedules.provider")),
        large_params=page(5, ("include", "schedules.provider")),
    ),
    # site, key, row, included schedules, their hours
    Case(
        "locations show with include",
        5,
        "/locations/cookeville-clinic",
        (("include", "schedules"),),
        large_path="/locations/nashville-main",
    ),
    # site, key, parent pk, count, page, rows, hours, included providers, their
    # appointment-types, their medical-groups
    Case(
        "locations related schedules",
        10,
        "/locations/cookeville-clinic/schedules",
        (("include", "provider"),),
        large_path="/locations/nashville-main/schedules",
    ),
    # site, key, parent pk, linkage
    Case(
        "locations relationship schedules",
        4,
        "/locations/cookeville-clinic/relationships/schedules",
        large_path="/locations/nashville-main/relationships/schedules",
    ),
    # --- services, medical-groups --------------------------------------------------------------
    Case("services list", 5, "/services", page(1), large_params=page(5)),
    Case("services show", 3, "/services/primary-care"),
    Case("medical-groups list", 5, "/medical-groups", page(1), large_params=page(3)),
    Case("medical-groups show", 3, "/medical-groups/cumberland-physicians"),
    # --- appointment-types ---------------------------------------------------------------------
    Case("appointment-types list", 5, "/appointment-types", page(1), large_params=page(6)),
    Case(
        "appointment-types filter context",
        5,
        "/appointment-types",
        page(1, ("filter[context]", "Patient")),
        large_params=page(6, ("filter[context]", "Patient")),
    ),
    # site, key, the service's pk (by id or name), count, page, rows
    Case(
        "appointment-types filter service",
        6,
        "/appointment-types",
        page(1, ("filter[service]", "Primary Care")),
        large_params=page(6, ("filter[service]", "Primary Care")),
    ),
    Case("appointment-types show", 3, "/appointment-types/sick-visit"),
    # --- insurance-plans (offered plans: one more query, memoised per data version) ------------
    # site, key, offered plans, count, page, rows
    Case("insurance-plans list", 6, "/insurance-plans", page(1), large_params=page(8)),
    Case("insurance-plans show", 4, "/insurance-plans/aetna-ppo"),
    # --- providers -----------------------------------------------------------------------------
    # site, key, count, page, rows, their appointment-types, their medical-groups, included
    # schedules, their hours, included medical-groups
    Case(
        "providers list with include",
        10,
        "/providers",
        page(1, ("include", "schedules,medical-groups")),
        large_params=page(15, ("include", "schedules,medical-groups")),
    ),
    # as above, ordered by the nearest location (distances in the page query), one include
    Case(
        "providers near",
        9,
        "/providers",
        page(1, ("filter[near]", "[36.16,-86.78]"), ("include", "schedules")),
        large_params=page(15, ("filter[near]", "[36.16,-86.78]"), ("include", "schedules")),
    ),
    # site, key, one pk lookup per filter naming ids (service, appointment-type, insurance,
    # medical-group), count, page, rows, appointment-types, medical-groups
    Case(
        "providers with every filter",
        11,
        "/providers",
        (
            ("filter[service]", "primary-care"),
            ("filter[accepting-new-patients]", "true"),
            ("filter[affiliation]", "employed"),
            ("filter[appointment-type]", "sick-visit"),
            ("filter[gender]", "female"),
            ("filter[hours-availability]", "morning"),
            ("filter[insurance]", "aetna-ppo"),
            ("filter[language]", "english"),
            ("filter[medical-group]", "winter-health-medical-group"),
            ("filter[provider-type]", "practitioner"),
        ),
    ),
    # site, key, row, appointment-types, medical-groups, included schedules, their hours,
    # their locations
    Case(
        "providers show with nested include",
        8,
        "/providers/dr-robert-williams",
        (("include", "schedules.location"),),
        large_path="/providers/dr-david-chen",
    ),
    # site, key, parent pk, count, page, rows, hours, included locations
    Case(
        "providers related schedules",
        8,
        "/providers/dr-robert-williams/schedules",
        (("include", "location"),),
        large_path="/providers/dr-david-chen/schedules",
    ),
    # site, key, parent pk, count, page, rows
    Case(
        "providers related medical-groups",
        6,
        "/providers/dr-robert-williams/medical-group-resources",
        large_path="/providers/dr-david-chen/medical-group-resources",
    ),
    Case(
        "providers relationship schedules",
        4,
        "/providers/dr-robert-williams/relationships/schedules",
        large_path="/providers/dr-david-chen/relationships/schedules",
    ),
    Case(
        "providers relationship medical-groups",
        4,
        "/providers/dr-robert-williams/relationships/medical-group-resources",
        large_path="/providers/dr-david-chen/relationships/medical-group-resources",
    ),
    # --- schedules -----------------------------------------------------------------------------
    # site, key, count, page, rows, hours, included locations, providers, their
    # appointment-types, their medical-groups, services, offered plans, insurance-plans,
    # appointment-types
    Case(
        "schedules list with every include",
        14,
        "/schedules",
        page(1, ("include", "location,provider,service,insurance-plans,appointment-types")),
        large_params=page(
            25, ("include", "location,provider,service,insurance-plans,appointment-types")
        ),
    ),
    # site, key, one pk lookup per filter naming ids (service, location, provider,
    # appointment-type, insurance), count, page, rows, hours
    Case(
        "schedules with every filter",
        11,
        "/schedules",
        (
            ("filter[provider-type]", "practitioner"),
            ("filter[service]", "primary-care"),
            ("filter[location]", "nashville-main,chattanooga-downtown"),
            ("filter[provider]", "dr-jane-smith,dr-david-chen"),
            ("filter[appointment-type]", "sick-visit"),
            ("filter[insurance]", "aetna-ppo"),
            ("filter[context]", "Patient"),
        ),
    ),
    # site, key, row, hours, offered plans, included insurance-plans, appointment-types
    Case(
        "schedules show with include",
        7,
        f"/schedules/{MRI_KNOX}",
        (("include", "insurance-plans,appointment-types"),),
        large_path=f"/schedules/{SMITH_NASH}",
    ),
    # site, key, parent pk, the location
    Case("schedules related location", 4, f"/schedules/{CHEN_PC}/location"),
    # site, key, parent pk, the provider, its appointment-types, its medical-groups, included
    # schedules, their hours
    Case(
        "schedules related provider with include",
        8,
        f"/schedules/{MRI_KNOX}/provider",
        (("include", "schedules"),),
        large_path=f"/schedules/{CHEN_PC}/provider",
    ),
    Case("schedules related service", 4, f"/schedules/{CHEN_PC}/service-resource"),
    # site, key, parent pk, offered plans, count, page, rows
    Case(
        "schedules related insurance-plans",
        7,
        f"/schedules/{MRI_KNOX}/insurance-plans",
        large_path=f"/schedules/{SMITH_NASH}/insurance-plans",
    ),
    # site, key, parent pk, count, page, rows
    Case(
        "schedules related appointment-types",
        6,
        f"/schedules/{MRI_NASH}/appointment-types",
        large_path=f"/schedules/{SMITH_NASH}/appointment-types",
    ),
    Case("schedules relationship location", 4, f"/schedules/{CHEN_PC}/relationships/location"),
    Case("schedules relationship provider", 4, f"/schedules/{CHEN_PC}/relationships/provider"),
    Case(
        "schedules relationship service", 4, f"/schedules/{CHEN_PC}/relationships/service-resource"
    ),
    # site, key, parent pk, offered plans, linkage
    Case(
        "schedules relationship insurance-plans",
        5,
        f"/schedules/{MRI_KNOX}/relationships/insurance-plans",
        large_path=f"/schedules/{SMITH_NASH}/relationships/insurance-plans",
    ),
    Case(
        "schedules relationship appointment-types",
        4,
        f"/schedules/{MRI_NASH}/relationships/appointment-types",
        large_path=f"/schedules/{SMITH_NASH}/relationships/appointment-types",
    ),
    # --- booking forms and availability ------------------------------------------------------
    # site, key, the schedule's and its health system's settings, the plans it accepts, and
    # (for the types it offers) its rules: schedule, hours, exceptions, blocks, appointment
    # types -- the memoised facts the booking path checks visits against
    Case("visit-settings", 9, f"/visit-settings/{CHEN_PC}"),
    # site, key, schedules, their weekly hours, their exceptions, their blocks, their
    # appointment types, their seat-claims versions, seats taken (a cold server: nothing
    # kept yet; availability/kept_times.py)
    Case(
        "available-appointment-times",
        9,
        "/available-appointment-times",
        (("schedule_ids[]", CHEN_PC),),
        large_params=tuple(("schedule_ids[]", s) for s in TEN),
    ),
    # site, key, schedule, weekly hours, exceptions, blocks, appointment types, seats by kind
    Case(
        "explain",
        8,
        "/available-appointment-times/explain",
        (("schedule_id", CHEN_PC), ("date", "2026-12-03")),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_statements_per_request(meter: Meter, case: Case) -> None:
    small = meter.get(case.path, case.params)
    assert len(small.statements) == case.exact, small.show()
    if case.large_path is None and case.large_params is None:
        return
    large = meter.get(
        case.large_path or case.path,
        case.large_params if case.large_params is not None else case.params,
    )
    # The guard of the test: the larger answer really holds more resources.
    assert size(large.body) > size(small.body), (size(small.body), size(large.body))
    assert len(large.statements) == len(small.statements), large.show()


def test_every_route_of_every_resource_is_measured() -> None:
    """Read from the route table: a new resource or relationship needs its cases above (list,
    show, and for each relationship its related and relationship routes)."""
    measured: set[str] = set()
    for case in CASES:
        for path in (case.path, case.large_path):
            if path:
                found = TABLE.match(tuple(s for s in path.split("?")[0].split("/") if s))
                assert found is not None, path
                measured.add(found.by_method["GET"].template)
    wanted = {r.template for r in TABLE if head(r) in RESOURCE_TYPES and r.operations}
    assert len(wanted) == 32
    assert wanted <= measured, sorted(wanted - measured)


# --- writes: visit tokens and visits ------------------------------------------------------------

SHORT = ("sick-visit", "2026-12-03T10:00:00-05:00")  # 15 minutes: one 15-minute cell
LONG = ("new-patient-visit", "2026-12-03T14:00:00-05:00")  # 60 minutes: four cells


def _token(meter: Meter, appointment_type: str, at: str) -> Measured:
    params = (
        ("schedule_id", GARCIA_PC),
        ("appointment_at", at),
        ("appointment_type", appointment_type),
    )
    return meter.request("GET", "/visit-token", params, key=meter.world.book)


def test_visit_token(meter: Meter) -> None:
    # site, key, schedule, weekly hours, exceptions, blocks, appointment types, seats taken, the
    # health system's hold length, the key's live holds, insert the token, lock the
    # schedule, the cells' claims, insert the claims (one statement for all the cells)
    short, long_ = _token(meter, *SHORT), _token(meter, *LONG)
    assert len(short.statements) == 14, short.show()
    assert len(long_.statements) == len(short.statements), long_.show()


def _visit(meter: Meter, appointment_type: str, at: str) -> Measured:
    token = _token(meter, appointment_type, at).body
    body = visit_body(GARCIA_PC, at, {"appointment-type": appointment_type})
    headers = {"Authorization": f"Bearer {token}", "Content-Type": JSONAPI}
    return meter.request("POST", "/visits", content=orjson.dumps(body), headers=headers, status=201)


def test_post_visits(meter: Meter) -> None:
    # The health system's first visit may set up its confirmation numbering (PostgreSQL).
    _visit(meter, "sick-visit", "2026-12-03T09:00:00-05:00")
    # site, the token's record, booking facts (schedule, health system and the ids its event
    # names), the schedule's plans, schedule, weekly hours, exceptions, blocks, appointment
    # types, lock the schedule and the token (re-reading it with its hold), [SQLite: the
    # health system's confirmation counter; PostgreSQL takes the number from a sequence
    # inside the insert], insert the visit, turn the hold into the visit's seats, mark the
    # token used and insert its event [PostgreSQL: one statement, the token's UPDATE a CTE
    # of the event's INSERT; SQLite has no data-modifying CTEs: two]
    short, long_ = _visit(meter, *SHORT), _visit(meter, *LONG)
    expected = 15 if meter.engine.dialect.name == "sqlite" else 13
    assert len(short.statements) == expected, short.show()
    assert len(long_.statements) == len(short.statements), long_.show()


def test_visit_related_routes(meter: Meter) -> None:
    visit_id = _visit(meter, *SHORT).body["data"]["id"]
    # site, key, the visit, its schedule's location and provider ids, then as
    # GET /schedules/{id}: the row and its hours
    related = meter.get(f"/visits/{visit_id}/schedule")
    assert len(related.statements) == 6, related.show()
    # site, key, the visit, its related ids
    linkage = meter.get(f"/visits/{visit_id}/relationships/provider")
    assert len(linkage.statements) == 4, linkage.show()
