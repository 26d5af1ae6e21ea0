"""The booking world (demo + another tenant) with one operator per role."""

from tests.booking_http.conftest import api, clock, make_api, world  # noqa: F401
from tests.operators.conftest import staff  # noqa: F401
