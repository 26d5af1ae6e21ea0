"""The route table's matcher: literal segments before parameters, either spelling of a name,
parameters from the match, one route per (template, method)."""

from __future__ import annotations

import pytest

from inquicker.jsonapi.routing import Route, RouteTable, route


def table(*routes: Route[str]) -> RouteTable[str]:
    return RouteTable(routes)


def split(path: str) -> tuple[str, ...]:
    return tuple(s for s in path.split("/") if s)


TABLE = table(
    route("/visits", {"POST"}, "create"),
    route("/visits/{id}", {"GET", "HEAD"}, "show"),
    route("/visits/{id}", {"PATCH"}, "change"),
    route("/visits/{id}/calendar.ics", {"GET"}, "calendar"),
    route("/visits/{id}/{name}", {"GET"}, "related"),
    route("/appointment-types/{id}", {"GET"}, "type"),
)


@pytest.mark.parametrize(
    ("path", "method", "handler", "params"),
    [
        ("/visits", "POST", "create", {}),
        ("/visits/v1", "GET", "show", {"id": "v1"}),
        ("/visits/v1/", "PATCH", "change", {"id": "v1"}),
        ("/visits/v1/calendar.ics", "GET", "calendar", {"id": "v1"}),
        ("/visits/v1/location", "GET", "related", {"id": "v1", "name": "location"}),
        ("/appointment_types/sick_visit", "GET", "type", {"id": "sick_visit"}),
    ],
)
def test_match(path: str, method: str, handler: str, params: dict[str, str]) -> None:
    found = TABLE.match(split(path))
    assert found is not None
    assert found.by_method[method].handler == handler
    assert dict(found.params) == params


def test_methods_of_a_template_are_those_of_all_its_routes() -> None:
    found = TABLE.match(split("/visits/v1"))
    assert found is not None and found.allowed == {"GET", "HEAD", "PATCH"}


@pytest.mark.parametrize("path", ["", "/nope", "/visits/v1/location/extra", "/appointment-types"])
def test_no_match(path: str) -> None:
    assert TABLE.match(split(path)) is None


def test_a_literal_falls_back_to_a_parameter_when_its_branch_ends_short() -> None:
    routes = table(route("/a/b", {"GET"}, "ab"), route("/a/{x}/c", {"GET"}, "xc"))
    found = routes.match(("a", "b", "c"))
    assert found is not None and found.by_method["GET"].handler == "xc"
    assert dict(found.params) == {"x": "b"}


def test_one_route_per_template_and_method() -> None:
    with pytest.raises(ValueError, match="declared twice"):
        table(route("/x", {"GET"}, "a"), route("/x/", {"GET", "HEAD"}, "b"))


def test_one_parameter_name_per_place() -> None:
    with pytest.raises(ValueError, match="differs"):
        table(route("/x/{id}", {"GET"}, "a"), route("/x/{name}/y", {"GET"}, "b"))


def test_route_parameters() -> None:
    assert route("/x/{id}/relationships/{name}", {"GET"}, "").parameters == ("id", "name")
