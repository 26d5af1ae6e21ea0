"""The booking HTTP tests' world (demo + another tenant, controllable clock), reused."""

from tests.booking_http.conftest import api, clock, make_api, world

__all__ = ["api", "clock", "make_api", "world"]
