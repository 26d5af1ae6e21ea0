"""The booking routes: visit settings, visit tokens, visits (SPEC sections 6, 7, 10, 11).

Visit routes authenticate in their handlers (a visit token, a management token, or a read
key for a visit's links), so the pipeline checks no key scope for them; every visit route
runs as a write (SQLite's lock at BEGIN, retried on conflicts), as it always has.
"""

from __future__ import annotations

from inquicker.booking.operations import (
    VISIT_SETTINGS_OPERATIONS,
    VISIT_TOKEN_OPERATIONS,
    VISITS_OPERATIONS,
)
from inquicker.booking.switch import guard_visits
from inquicker.booking.visit_document import RELATED
from inquicker.booking.visit_management_endpoint import (
    show_visit,
    update_visit_route,
    visit_calendar_response,
)
from inquicker.booking.visit_settings_endpoint import show_visit_settings
from inquicker.booking.visit_token_endpoint import issue_token
from inquicker.booking.visits_endpoint import post_visit, related_handler, relationship_handler
from inquicker.jsonapi.resource import Registry
from inquicker.jsonapi.routing import CATALOG_CACHE, READ_METHODS, Route, route
from inquicker.web.request import Handler, checking_parameters

# visit-settings takes sparse fieldsets; include and sort are refused by name (400).
SETTINGS_PARAMETERS = frozenset({"include", "sort"})


def booking_routes(registry: Registry) -> list[Route[Handler]]:
    """The routes; ``registry`` serves a visit's related resources."""

    def visit_route(template: str, methods: frozenset[str], handler: Handler) -> Route[Handler]:
        return route(
            template, methods, handler, operations=VISITS_OPERATIONS, scope=None, writes=True
        )

    return [
        route(
            "/visit-settings/{schedule_id}",
            READ_METHODS,
            checking_parameters(show_visit_settings, SETTINGS_PARAMETERS, frozenset({"fields"})),
            operations=VISIT_SETTINGS_OPERATIONS,
            cache_control=CATALOG_CACHE,
            cacheable=True,
        ),
        route(
            "/visit-token",
            {"GET"},
            issue_token,
            operations=VISIT_TOKEN_OPERATIONS,
            scope="book",
            writes=True,
        ),
        visit_route("/visits", frozenset({"POST"}), guard_visits(post_visit)),
        visit_route("/visits/{id}", READ_METHODS, show_visit),
        visit_route("/visits/{id}", frozenset({"PATCH"}), update_visit_route),
        visit_route("/visits/{id}/calendar.ics", READ_METHODS, visit_calendar_response),
        *(
            visit_route(f"/visits/{{id}}/{name}", READ_METHODS, related_handler(registry, name))
            for name in RELATED
        ),
        *(
            visit_route(
                f"/visits/{{id}}/relationships/{name}",
                READ_METHODS,
                relationship_handler(registry, name),
            )
            for name in RELATED
        ),
    ]
