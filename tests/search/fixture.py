"""A small purpose-built tenant for the search tests, inserted through the ORM.

Tenant "search" (search.example.com). Every provider, schedule, location and catalog row
below is chosen so that each provider/schedule filter selects a distinct, known subset:

providers (default order = name; first letters differ so every collation agrees)

  id            g  affiliation  type             languages         groups
  ann-adams     f  employed     Practitioner     English, Spanish  mg-a
  ben-brown     m  affiliated   Practitioner     English           mg-b
  cara-cruz     f  affiliated   Practitioner     Spanish, French   mg-b, mg-a (positions)
  dan-diaz      m  employed     Practitioner     English, German   -
  eve-evans     f  employed     Practitioner     English           mg-b
  fay-fox       f  employed     Practitioner     Spanish           -  (inactive schedule only)
  gus-grant     m  affiliated   Practitioner     English           -  (no schedule)
  mri-suite     -  employed     Health Resource  -                 -
  open-scanner  -  affiliated   Health Resource  -                 -

schedules (S07 and S10 INACTIVE; S01 has sort-order 5, all others 0; "new" = accepting)

  S01 ann   center  primary-care Patient   new  follow-up,checkup,physical aetna,cigna
      Mon-Fri 08-17
  S02 ann   north   cardiology   Patient   -    new-patient                humana
      Mon-Fri 08-12 and 13-17; Sat 09-13
  S03 ben   north   cardiology   Discharge new  follow-up                  aetna
      Mon 11:00-12:00
  S04 cara  east    primary-care Patient   -    follow-up                  cigna
      Tue 17:00-18:00
  S05 cara  far     pediatrics   Patient   -    new-patient                (none)
      Wed 12:00-13:00
  S06 dan   east    cardiology   Internal  new  follow-up                  medicare
      Thu 18-21; Sat 23:00-23:59
  S07 dan   center  primary-care Patient   new  legacy                     retired,humana  INACTIVE
      Mon 06-10
  S08 eve   far     primary-care Patient   new  physical                   aetna
      (no weekly hours)
  S09 mri   center  imaging      Patient   new  mri                        aetna,medicare
      Mon-Wed,Fri 06-22; Sun 10-14
  S10 fay   annex   dermatology  Patient   new  physical                   aetna           INACTIVE
      Mon-Fri 08-17
  S11 scan  virtual imaging      Patient   new  mri                        cigna
      Sat 00:00-04:59; Sun 04:00-05:00

locations: center (36.0,-86.0), north (36.6,-86.0), east (36.0,-84.5), far (40.0,-80.0),
annex (36.1,-86.1: only the inactive S10 is there), virtual (no coordinates).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import time
from typing import Any
from urllib.parse import urlencode

from sqlalchemy.orm import Session

from inquicker.catalog.models import (
    AppointmentType,
    InsurancePlan,
    Location,
    MedicalGroup,
    Provider,
    ProviderLanguage,
    ProviderMedicalGroup,
    Region,
    Service,
)
from inquicker.catalog.schedule_models import (
    Schedule,
    ScheduleAppointmentType,
    ScheduleHours,
    SchedulePlan,
)
from inquicker.tenancy.keys import create_key
from inquicker.tenancy.models import HealthSystem, Site, SiteHealthSystem

HOST = "search.example.com"
ORIGIN = "http://testserver"
BASE = f"{ORIGIN}/api/v3/{HOST}"
JSONAPI = "application/vnd.api+json"
EARTH_RADIUS_MILES = 3958.7613


def sid(n: int) -> str:
    """The UUID of schedule S{n:02d}."""
    return f"5e000000-0000-4000-8000-{n:012d}"


S01, S02, S03, S04, S05, S06, S07, S08, S09, S10, S11 = (sid(n) for n in range(1, 12))
INACTIVE = (S07, S10)
# Default order of schedules: sort-order, then name ("Sched NN ..."); S01 has sort-order 5.
ACTIVE_IN_ORDER = [S02, S03, S04, S05, S06, S08, S09, S11, S01]

ANN, BEN, CARA, DAN, EVE, FAY, GUS, MRI, SCANNER = (
    "ann-adams",
    "ben-brown",
    "cara-cruz",
    "dan-diaz",
    "eve-evans",
    "fay-fox",
    "gus-grant",
    "mri-suite",
    "open-scanner",
)
ALL_PROVIDERS = [ANN, BEN, CARA, DAN, EVE, FAY, GUS, MRI, SCANNER]  # default order: name

COORDS: dict[str, tuple[float, float] | None] = {
    "center": (36.0, -86.0),
    "north": (36.6, -86.0),
    "east": (36.0, -84.5),
    "far": (40.0, -80.0),
    "annex": (36.1, -86.1),
    "virtual": None,
}
# Locations of each provider's ACTIVE schedules (hand-written from the table above).
ACTIVE_LOCATIONS: dict[str, list[str]] = {
    ANN: ["center", "north"],
    BEN: ["north"],
    CARA: ["east", "far"],
    DAN: ["east"],  # S07 at center is inactive
    EVE: ["far"],
    FAY: [],  # S10 at annex is inactive
    GUS: [],
    MRI: ["center"],
    SCANNER: ["virtual"],  # no coordinates
}
NAMES = {
    ANN: "Ann Adams",
    BEN: "Ben Brown",
    CARA: "Cara Cruz",
    DAN: "Dan Diaz",
    EVE: "Eve Evans",
    FAY: "Fay Fox",
    GUS: "Gus Grant",
    MRI: "MRI Suite",
    SCANNER: "Open Scanner",
}


@dataclass(frozen=True)
class SearchKeys:
    read: str


def great_circle_miles(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Haversine distance, written here independently of the implementation."""
    lat1, lon1 = (math.radians(v) for v in a)
    lat2, lon2 = (math.radians(v) for v in b)
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_MILES * math.asin(math.sqrt(h))


def expected_near(
    point: tuple[float, float], providers: list[str]
) -> list[tuple[str, float | None]]:
    """(provider, miles to its nearest located active schedule), nearest first, ties by name;
    then the providers without a located active schedule, by name, with None (near orders,
    it never drops a provider)."""
    out: list[tuple[str, float]] = []
    unlocated: list[tuple[str, float | None]] = []
    for provider in providers:
        located = [COORDS[loc] for loc in ACTIVE_LOCATIONS[provider]]
        miles = [great_circle_miles(point, c) for c in located if c is not None]
        if miles:
            out.append((provider, min(miles)))
        else:
            unlocated.append((provider, None))
    ranked: list[tuple[str, float | None]] = [*sorted(out, key=lambda pm: (pm[1], NAMES[pm[0]]))]
    return [*ranked, *sorted(unlocated, key=lambda pm: NAMES[pm[0]])]


def path(p: str, key: str, params: Any = ()) -> str:
    """A request path under the search tenant, key last."""
    pairs = list(params.items()) if isinstance(params, dict) else list(params)
    pairs.append(("api_key", key))
    return f"/api/v3/{HOST}{p}?{urlencode(pairs)}"


def build(session: Session) -> SearchKeys:
    """Insert the search tenant and return its read key."""
    hs = HealthSystem(slug="search-health", name="Search Health", features=[], visit_settings={})
    site = Site(hostname=HOST, name="Search Health")
    session.add_all([hs, site])
    session.flush()
    session.add(SiteHealthSystem(site_pk=site.pk, health_system_pk=hs.pk))
    h = hs.pk

    region = Region(health_system_pk=h, slug="mid", name="Mid")
    session.add(region)
    session.flush()
    locations: dict[str, Location] = {}
    for slug, name in [
        ("center", "Center Clinic"),
        ("north", "North Clinic"),
        ("east", "East Clinic"),
        ("far", "Far Clinic"),
        ("annex", "Zed Annex"),
        ("virtual", "Virtual Clinic"),
    ]:
        coords = COORDS[slug]
        locations[slug] = Location(
            health_system_pk=h,
            slug=slug,
            name=name,
            region_pk=region.pk,
            city="Testville",
            state="TN",
            latitude=coords[0] if coords else None,
            longitude=coords[1] if coords else None,
        )
    services = {
        slug: Service(health_system_pk=h, slug=slug, name=name)
        for slug, name in [
            ("primary-care", "Primary Care"),
            ("cardiology", "Cardiology"),
            ("imaging", "Imaging"),
            ("pediatrics", "Pediatrics"),
            ("dermatology", "Dermatology"),
        ]
    }
    groups = {
        slug: MedicalGroup(health_system_pk=h, slug=slug, name=name)
        for slug, name in [
            ("mg-a", "Alpha Group"),
            ("mg-b", "Beta Group"),
            ("mg-empty", "Empty Group"),
        ]
    }
    types = {
        slug: AppointmentType(
            health_system_pk=h, slug=slug, name=name, priority=prio, duration_minutes=15
        )
        for slug, name, prio in [
            ("new-patient", "New Patient", 1),
            ("physical", "Annual Physical", 2),
            ("checkup", "Checkup", 2),
            ("legacy", "Legacy Visit", 3),
            ("follow-up", "Follow-up", 4),
            ("mri", "MRI Scan", 5),
        ]
    }
    plans = {
        slug: InsurancePlan(health_system_pk=h, slug=slug, company=company, name=name)
        for slug, company, name in [
            ("aetna", "Aetna", "PPO"),
            ("cigna", "Cigna", "HMO"),
            ("humana", "Humana", "Gold"),
            ("medicare", "Medicare", "Part B"),
            ("retired", "Retired Co", "Old"),
        ]
    }
    provider_rows: dict[str, Provider] = {}
    for slug, gender, affiliation, ptype, languages in [
        (ANN, "f", "employed", "Practitioner", ["English", "Spanish"]),
        (BEN, "m", "affiliated", "Practitioner", ["English"]),
        (CARA, "f", "affiliated", "Practitioner", ["Spanish", "French"]),
        (DAN, "m", "employed", "Practitioner", ["English", "German"]),
        (EVE, "f", "employed", "Practitioner", ["English"]),
        (FAY, "f", "employed", "Practitioner", ["Spanish"]),
        (GUS, "m", "affiliated", "Practitioner", ["English"]),
        (MRI, None, "employed", "Health Resource", []),
        (SCANNER, None, "affiliated", "Health Resource", []),
    ]:
        provider_rows[slug] = Provider(
            health_system_pk=h,
            slug=slug,
            name=NAMES[slug],
            gender=gender,
            affiliation=affiliation,
            provider_type=ptype,
            languages=languages,
        )
    session.add_all(
        [
            *locations.values(),
            *services.values(),
            *groups.values(),
            *types.values(),
            *plans.values(),
            *provider_rows.values(),
        ]
    )
    session.flush()
    for provider in provider_rows.values():
        for language in provider.languages:
            session.add(ProviderLanguage(provider_pk=provider.pk, language=language.lower()))
    for provider, group, position in [
        (ANN, "mg-a", 0),
        (BEN, "mg-b", 0),
        (CARA, "mg-b", 0),  # Cara's groups in bundle order: Beta Group, then Alpha Group
        (CARA, "mg-a", 1),
        (EVE, "mg-b", 0),
    ]:
        session.add(
            ProviderMedicalGroup(
                provider_pk=provider_rows[provider].pk,
                medical_group_pk=groups[group].pk,
                position=position,
            )
        )

    weekdays = range(0, 5)  # Mon..Fri
    spec: list[dict[str, Any]] = [
        dict(n=1, p=ANN, loc="center", svc="primary-care", new=True, sort=5,
             types=["follow-up", "checkup", "physical"], plans=["aetna", "cigna"],
             hours=[(d, time(8), time(17)) for d in weekdays]),
        dict(n=2, p=ANN, loc="north", svc="cardiology", new=False,
             types=["new-patient"], plans=["humana"],
             # inserted out of order on purpose: the summary must sort them
             hours=[(5, time(9), time(13))]
             + [(d, time(13), time(17)) for d in weekdays]
             + [(d, time(8), time(12)) for d in weekdays]),
        dict(n=3, p=BEN, loc="north", svc="cardiology", ctx="Discharge",
             types=["follow-up"], plans=["aetna"], hours=[(0, time(11), time(12))]),
        dict(n=4, p=CARA, loc="east", svc="primary-care", new=False,
             types=["follow-up"], plans=["cigna"], hours=[(1, time(17), time(18))]),
        dict(n=5, p=CARA, loc="far", svc="pediatrics", new=False,
             types=["new-patient"], plans=[], hours=[(2, time(12), time(13))]),
        dict(n=6, p=DAN, loc="east", svc="cardiology", ctx="Internal",
             types=["follow-up"], plans=["medicare"],
             hours=[(3, time(18), time(21)), (5, time(23), time(23, 59))]),
        dict(n=7, p=DAN, loc="center", svc="primary-care", active=False,
             types=["legacy"], plans=["retired", "humana"], hours=[(0, time(6), time(10))]),
        dict(n=8, p=EVE, loc="far", svc="primary-care",
             types=["physical"], plans=["aetna"], hours=[]),
        dict(n=9, p=MRI, loc="center", svc="imaging",
             types=["mri"], plans=["aetna", "medicare"],
             hours=[(d, time(6), time(22)) for d in (0, 1, 2, 4)] + [(6, time(10), time(14))]),
        dict(n=10, p=FAY, loc="annex", svc="dermatology", active=False,
             types=["physical"], plans=["aetna"],
             hours=[(d, time(8), time(17)) for d in weekdays]),
        dict(n=11, p=SCANNER, loc="virtual", svc="imaging",
             types=["mri"], plans=["cigna"],
             hours=[(6, time(4), time(5)), (5, time(0), time(4, 59))]),
    ]  # fmt: skip
    schedules: list[tuple[Schedule, dict[str, Any]]] = []
    for row in spec:
        schedule = Schedule(
            health_system_pk=h,
            slug=sid(row["n"]),
            name=f"Sched {row['n']:02d} {NAMES[row['p']]}",
            provider_pk=provider_rows[row["p"]].pk,
            location_pk=locations[row["loc"]].pk,
            service_pk=services[row["svc"]].pk,
            time_zone_name="America/Chicago",
            context=row.get("ctx", "Patient"),
            active=row.get("active", True),
            accepting_new_patients=row.get("new", True),
            sort_order=row.get("sort", 0),
            visit_settings={},
        )
        session.add(schedule)
        schedules.append((schedule, row))
    session.flush()
    for schedule, row in schedules:
        for type_slug in row["types"]:
            session.add(
                ScheduleAppointmentType(
                    schedule_pk=schedule.pk, appointment_type_pk=types[type_slug].pk
                )
            )
        for plan_slug in row["plans"]:
            session.add(SchedulePlan(schedule_pk=schedule.pk, plan_pk=plans[plan_slug].pk))
        for weekday, opens, closes in row["hours"]:
            session.add(
                ScheduleHours(schedule_pk=schedule.pk, weekday=weekday, opens=opens, closes=closes)
            )
    session.flush()
    return SearchKeys(read=create_key(session, HOST, "search read", ("read",)).secret)
