"""Great-circle distance, in Python and as a SQL expression for both engines."""

from __future__ import annotations

import math
from typing import Any

from sqlalchemy import Float
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

EARTH_RADIUS_MILES = 3958.7613
SQLITE_FUNCTION = "iq_distance_miles"


def haversine_miles(
    lat1: float | None, lng1: float | None, lat2: float | None, lng2: float | None
) -> float | None:
    """Great-circle distance in miles; None when a coordinate is missing."""
    if lat1 is None or lng1 is None or lat2 is None or lng2 is None:
        return None
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lng2 - lng1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_MILES * math.asin(min(1.0, math.sqrt(a)))


class distance_miles(FunctionElement[float]):  # noqa: N801 - SQL function naming
    """distance_miles(lat1, lng1, lat2, lng2) in SQL."""

    type = Float()
    inherit_cache = True
    name = "distance_miles"


@compiles(distance_miles)
def _sqlite(element: distance_miles, compiler: SQLCompiler, **kw: Any) -> str:
    # SQLite builds may lack math functions; a registered Python function always works.
    return f"{SQLITE_FUNCTION}({compiler.process(element.clauses, **kw)})"


@compiles(distance_miles, "postgresql")
def _postgresql(element: distance_miles, compiler: SQLCompiler, **kw: Any) -> str:
    lat1, lng1, lat2, lng2 = (compiler.process(c, **kw) for c in element.clauses)
    return (
        f"(2 * {EARTH_RADIUS_MILES} * asin(least(1.0, sqrt("
        f"power(sin(radians(({lat2}) - ({lat1})) / 2), 2) + "
        f"cos(radians({lat1})) * cos(radians({lat2})) * "
        f"power(sin(radians(({lng2}) - ({lng1})) / 2), 2)))))"
    )
