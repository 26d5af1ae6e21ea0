"""The availability routes: offered times (SPEC section 5) and their explanation (12b)."""

from __future__ import annotations

from inquicker.availability.endpoint import available_times
from inquicker.availability.explain_endpoint import PARAMETERS as EXPLAIN_PARAMETERS
from inquicker.availability.explain_endpoint import explain_times
from inquicker.availability.operations import AVAILABILITY_OPERATIONS
from inquicker.jsonapi.routing import READ_METHODS, Route, route
from inquicker.web.request import Handler, checking_parameters

ROUTES: tuple[Route[Handler], ...] = (
    route(
        "/available-appointment-times",
        READ_METHODS,
        available_times,
        operations=AVAILABILITY_OPERATIONS,
    ),
    route(
        "/available-appointment-times/explain",
        READ_METHODS,
        checking_parameters(explain_times, EXPLAIN_PARAMETERS),
        operations=AVAILABILITY_OPERATIONS,
    ),
)
