"""The page of a provider search near a point, walked nearest first in memory.

The SQL path (``provider_search._near``) computes the nearest located active schedule of
every provider of the tenant and sorts them all before cutting the page: its cost grows
with the health system (25x from 1,000 to 50,000 providers). Here the tenant's located
active schedules are read once per data version into a per-location list of providers
(hundreds of locations), and each request computes the distance of each location, sorts
those, and takes providers location by location until the page is full.

The order is the SQL path's, exactly: the nearest location's distance ascending; equal
distances by the resource's default order (name, then pk) as the *database* sorts it
(the ranking below is read from the database, so its collation decides, not Python's);
then providers without a located active schedule, in that same default order, with a null
distance. Distances repeat ``geo.haversine_miles``' operations (the function SQLite's SQL
path calls), so they are the same floats there; PostgreSQL's spelling of the same formula
can differ in the last bits, which could only reorder two locations ~1e-12 miles apart.

Other filters are applied by reading, per data version and filter set, the pks of the
matching providers in default order (one statement, memoised): that gives the count and
the tie-break rank at once, so a request with a warm memo runs no statement for its page.
"""

from __future__ import annotations

import math
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from inquicker.catalog.models import Location
from inquicker.catalog.schedule_models import Schedule
from inquicker.catalog.scoping import active_schedules
from inquicker.geo import EARTH_RADIUS_MILES
from inquicker.jsonapi.context import ResourceContext
from inquicker.jsonapi.fetch import ordered_pks
from inquicker.jsonapi.resource import ListQuery, Resource

Page = list[tuple[int, dict[str, Any]]]
_TWICE_RADIUS = 2 * EARTH_RADIUS_MILES


@dataclass(frozen=True, slots=True)
class LocatedSchedules:
    """The tenant's located active schedules, by location (one data version)."""

    # Coordinates of each located location that has an active schedule.
    points: tuple[tuple[float, float], ...]
    # Per location (same index): pks of the providers with an active schedule there.
    providers: tuple[tuple[int, ...], ...]
    # Every provider with at least one located active schedule.
    located: frozenset[int]
    # Per location: (radians(lat), cos(radians(lat)), lng), as haversine_miles computes them.
    terms: tuple[tuple[float, float, float], ...]


@dataclass(frozen=True, slots=True)
class Ranking:
    """Pks of the providers matching one filter set, in the default order."""

    order: tuple[int, ...]
    rank: dict[int, int]


def located_schedules(ctx: ResourceContext) -> LocatedSchedules:
    """Memoised under the tenant's data version: schedules only change on import."""
    key = ("near-located", ctx.tenant.health_system_pks, ctx.tenant.data_versions, ctx.generation)
    return ctx.memo.once(key, lambda: _located_schedules(ctx))


def _located_schedules(ctx: ResourceContext) -> LocatedSchedules:
    # The same rows the SQL path joins: the tenant's located locations, active schedules.
    stmt = (
        select(Location.pk, Location.latitude, Location.longitude, Schedule.provider_pk)
        .join(Schedule, Schedule.location_pk == Location.pk)
        .where(
            Location.health_system_pk.in_(ctx.tenant.health_system_pks),
            Location.latitude.is_not(None),
            Location.longitude.is_not(None),
            active_schedules(ctx),
        )
        .distinct()
    )
    by_location: dict[int, tuple[tuple[float, float], set[int]]] = {}
    for location_pk, lat, lng, provider_pk in ctx.session.connection().execute(stmt).all():
        entry = by_location.get(location_pk)
        if entry is None:
            # Not None: the statement selects located locations only.
            entry = by_location[location_pk] = ((float(lat or 0), float(lng or 0)), set())
        entry[1].add(provider_pk)
    located = LocatedSchedules(
        points=tuple(point for point, _ in by_location.values()),
        providers=tuple(tuple(pks) for _, pks in by_location.values()),
        located=frozenset(pk for _, pks in by_location.values() for pk in pks),
        terms=tuple(
            (math.radians(plat), math.cos(math.radians(plat)), plng)
            for (plat, plng), _ in by_location.values()
        ),
    )
    return located


def ranking(
    ctx: ResourceContext, resource: Resource, lq: ListQuery, filter_key: Hashable
) -> Ranking:
    """Memoised per data version and filter set (``filter_key`` names the filters)."""
    key = (
        "near-ranking",
        ctx.tenant.health_system_pks,
        ctx.tenant.data_versions,
        ctx.generation,
        filter_key,
    )

    def build() -> Ranking:
        order = tuple(ordered_pks(ctx, resource, lq.where))
        return Ranking(order=order, rank={pk: i for i, pk in enumerate(order)})

    return ctx.memo.once(key, build)


def near_page(
    ctx: ResourceContext,
    resource: Resource,
    lq: ListQuery,
    point: tuple[float, float],
    filter_key: Hashable,
    offset: int,
    size: int,
) -> tuple[Page, int]:
    """(pk, meta) of one page in the SQL path's order, and the number of matches."""
    located = located_schedules(ctx)
    ranked = ranking(ctx, resource, lq, filter_key)
    want = offset + size
    out: list[tuple[int, float | None]] = []
    lat, lng = point
    # geo.haversine_miles(location, point) (the SQL expression's argument order), with the
    # location's terms computed once per data version: the same operations in the same
    # order, so the same floats.
    p2 = math.radians(lat)
    cos_p2 = math.cos(p2)
    distances = sorted(
        (
            _TWICE_RADIUS
            * math.asin(
                min(
                    1.0,
                    math.sqrt(
                        math.sin((p2 - p1) / 2) ** 2
                        + cos_p1 * cos_p2 * math.sin(math.radians(lng - plng) / 2) ** 2
                    ),
                )
            ),
            i,
        )
        for i, (p1, cos_p1, plng) in enumerate(located.terms)
    )
    rank = ranked.rank
    seen: set[int] = set()
    i, n = 0, len(distances)
    while i < n and len(out) < want:
        miles = distances[i][0]
        group: list[int] = []
        # Locations at exactly the same distance form one tie group, ordered by rank.
        while i < n and distances[i][0] == miles:
            for pk in located.providers[distances[i][1]]:
                if pk in rank and pk not in seen:
                    seen.add(pk)
                    group.append(pk)
            i += 1
        group.sort(key=rank.__getitem__)
        out.extend((pk, miles) for pk in group)
    if len(out) < want:
        # Every matching located provider is placed; the rest have no distance.
        for pk in ranked.order:
            if pk not in located.located:
                out.append((pk, None))
                if len(out) >= want:
                    break
    page = [(pk, {"distance": _round(miles)}) for pk, miles in out[offset:want]]
    return page, len(ranked.order)


def _round(miles: float | None) -> float | None:
    return None if miles is None else round(miles, 2)
