"""The OpenAPI document (SPEC section 14): valid 3.1, generated from the route table (resource
routes from the registry, every other route from its domain's operations), and the
documentation page served with its own assets."""

from __future__ import annotations

import re
from collections.abc import Iterator
from html.parser import HTMLParser
from typing import Any

import pytest
from openapi_spec_validator import validate
from sqlalchemy import create_engine
from starlette.testclient import TestClient

from inquicker.app import create_app
from inquicker.jsonapi.openapi import build_document
from inquicker.jsonapi.operations import Operation, Reply
from inquicker.jsonapi.resource import Registry
from inquicker.jsonapi.routing import RouteTable, route
from inquicker.settings import Settings
from tests.openapi.conftest import document

H = "/{partner_hostname}"


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    """No request here reads the database: an in-memory engine that is never connected."""
    app = create_app(Settings(env="test", access_log=False), engine=create_engine("sqlite://"))
    with TestClient(app) as c:
        yield c


@pytest.fixture(scope="module")
def doc(client: TestClient) -> dict[str, Any]:
    return document(client)


def op(doc: dict[str, Any], method: str, path: str) -> dict[str, Any]:
    found: dict[str, Any] = doc["paths"][H + path][method]
    return found


def params(operation: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {p["name"]: p for p in operation["parameters"]}


def test_document_is_valid_openapi_3_1(client, doc):
    validate(doc)
    assert doc["openapi"] == "3.1.0"
    assert [s["url"] for s in doc["servers"]] == ["/api/v3", "/v3"]
    response = client.get("/v3/openapi.json")
    assert response.headers["content-type"] == "application/json"
    assert [s["url"] for s in response.json()["servers"]] == ["/v3", "/api/v3"]


def test_every_declared_resource_has_its_routes(client, doc):
    registry: Registry = client.app.state.api.registry
    expected: set[str] = set()
    for resource in registry:
        expected |= {f"{H}/{resource.type}", f"{H}/{resource.type}/{{id}}"}
        for rel in resource.relationships:
            expected.add(f"{H}/{resource.type}/{{id}}/{rel.name}")
            expected.add(f"{H}/{resource.type}/{{id}}/relationships/{rel.name}")
    assert expected <= set(doc["paths"])
    assert f"{H}/schedules/{{id}}/relationships/insurance-plans" in expected
    assert len(expected) == 32  # 8 types: 16 list/show; 8 relationships: related + linkage


def test_the_document_lists_exactly_the_route_tables_routes(client, doc):
    """Read from the same table the app dispatches with: every route of the table (but the
    undocumented former names) is in the document with each method but HEAD, and nothing
    else is."""
    table: RouteTable[Any] = client.app.state.api.routes
    served = {
        (method.lower(), H + route.template)
        for route in table
        if route.operations
        for method in route.methods - {"HEAD"}
    }
    documented = {(m, path) for path, methods in doc["paths"].items() for m in methods}
    assert documented == served
    for served_route in table:
        for declared in served_route.operations:
            assert declared.path == served_route.template
            assert doc["paths"][H + declared.path][declared.method]["operationId"] == (
                declared.operation_id
            )
    aliases = [r.template for r in table if not r.operations]
    assert "/providers/{id}/medical-groups" in aliases
    assert all(table.match(tuple(a.strip("/").split("/"))) for a in aliases)


def test_query_parameters_come_from_the_declarations(doc):
    providers = params(op(doc, "get", "/providers"))
    assert providers["filter[gender]"]["schema"] == {"type": "string", "enum": ["male", "female"]}
    assert providers["filter[provider-type]"]["schema"]["enum"] == [
        "practitioner",
        "healthresource",
    ]
    assert providers["filter[hours-availability]"]["schema"]["enum"] == [
        "morning",
        "afternoon",
        "evening",
    ]
    assert "filter" in providers and "filter[near]" in providers
    assert providers["page[size]"]["schema"] == {"type": "integer", "minimum": 1, "maximum": 100}
    assert providers["sort"]["schema"]["anyOf"][0]["enum"] == ["name", "-name"]
    include = providers["include"]["schema"]["anyOf"][0]["enum"]
    assert "schedules.location" in include and "medical-group-resources" in include
    fields = providers["fields[providers]"]["schema"]["anyOf"][0]["enum"]
    assert "languages" in fields and "medical-groups" in fields
    schedules = params(op(doc, "get", "/schedules"))
    assert schedules["filter[context]"]["schema"]["enum"] == ["Patient", "Discharge", "Internal"]
    # A single resource takes no sort, page or filter.
    assert set(params(op(doc, "get", "/services/{id}"))) == {
        "partner_hostname",
        "id",
        "include",
        "fields[services]",
    }
    times = params(op(doc, "get", "/available-appointment-times"))
    assert times["schedule_ids[]"]["required"] is True
    assert times["schedule_ids[]"]["schema"]["maxItems"] == 100


def test_attribute_schemas_follow_the_columns(doc):
    schemas = doc["components"]["schemas"]
    schedule = schemas["Schedules"]["properties"]["attributes"]["properties"]
    assert schedule["accepting-new-patients"] == {"type": "boolean"}
    assert schedule["sort-order"] == {"type": "integer"}
    assert schedule["age-limit-threshold"] == {"anyOf": [{"type": "integer"}, {"type": "null"}]}
    location = schemas["Locations"]["properties"]["attributes"]["properties"]
    assert location["latitude"] == {"anyOf": [{"type": "number"}, {"type": "null"}]}
    provider = schemas["Providers"]["properties"]["attributes"]["properties"]
    assert provider["languages"] == {"type": "array", "items": {"type": "string"}}
    assert schemas["Schedules"]["properties"]["type"] == {"type": "string", "const": "schedules"}
    collection = schemas["SchedulesCollection"]
    assert collection["required"] == ["data", "meta", "links"]


def test_security_schemes_and_requirements(doc):
    schemes = doc["components"]["securitySchemes"]
    assert schemes["api_key"] == {
        "type": "apiKey",
        "in": "query",
        "name": "api_key",
        "description": "The partner site's API key (the documented way).",
    }
    assert schemes["authorization"]["name"] == "Authorization"
    assert schemes["visit_token"]["bearerFormat"] == "JWT"
    assert op(doc, "get", "/locations")["security"] == [
        {"api_key": []},
        {"authorization": []},
        {"x_api_key": []},
    ]
    assert op(doc, "post", "/visits")["security"] == [{"visit_token": []}]
    assert op(doc, "get", "/visits/{id}")["security"] == [{"management_token": []}]
    assert op(doc, "get", "/visits/{id}/calendar.ics")["security"] == []


def test_every_error_status_is_a_jsonapi_error_document(doc):
    responses = doc["components"]["responses"]
    assert set(responses) == {
        "400", "401", "403", "404", "406", "409", "413", "415", "422", "429", "500", "503"
    }  # fmt: skip
    for status, response in responses.items():
        schema = response["content"]["application/vnd.api+json"]["schema"]
        assert schema == {"$ref": "#/components/schemas/ErrorDocument"}, status
    create = op(doc, "post", "/visits")["responses"]
    assert set(create) == {
        "200",
        "201",
        "400",
        "401",
        "403",
        "406",
        "413",
        "415",
        "422",
        "500",
        "503",
    }
    assert create["201"]["headers"]["Location"]["schema"] == {"type": "string"}
    error = doc["components"]["schemas"]["ErrorObject"]
    assert error["required"] == ["status", "code", "title"]


def test_request_bodies_and_non_jsonapi_replies(doc):
    create = op(doc, "post", "/visits")["requestBody"]["content"]
    body = create["application/vnd.api+json"]["schema"]
    assert body == {"$ref": "#/components/schemas/VisitCreate"}
    attributes = doc["components"]["schemas"]["VisitCreate"]["properties"]["data"]["properties"][
        "attributes"
    ]
    assert attributes["additionalProperties"] is False
    assert "first-name" in attributes["properties"] and "terms-tos" in attributes["properties"]
    token = op(doc, "get", "/visit-token")["responses"]["200"]["content"]
    assert token == {"application/jwt": {"schema": {"type": "string"}}}
    times = op(doc, "get", "/available-appointment-times")["responses"]["200"]["content"]
    assert times == {
        "application/json": {"schema": {"$ref": "#/components/schemas/AvailableTimes"}}
    }


def test_the_lifecycle_and_explain_routes_are_documented(doc):
    """SPEC sections 10 and 12b."""
    patch = op(doc, "patch", "/visits/{id}")
    assert patch["requestBody"]["content"]["application/vnd.api+json"]["schema"] == {
        "$ref": "#/components/schemas/VisitUpdate"
    }
    calendar = op(doc, "get", "/visits/{id}/calendar.ics")
    assert calendar["responses"]["200"]["content"] == {
        "text/calendar": {"schema": {"type": "string"}}
    }
    assert params(calendar)["token"]["required"] is True
    explain = params(op(doc, "get", "/available-appointment-times/explain"))
    assert explain["date"]["schema"] == {"type": "string", "format": "date"}


def test_a_route_takes_only_its_own_operations():
    """A domain hands all its operations to each of its routes; each keeps its path's."""
    mine = Operation("get", "/x", "x.show", "show", (Reply(200, "ok"),))
    other = Operation("get", "/y", "y.show", "show", (Reply(200, "ok"),))
    posted = Operation("post", "/x", "x.create", "create", (Reply(201, "ok"),))
    declared = route("/x", {"GET", "HEAD"}, None, operations=[mine, other, posted])
    assert declared.operations == (mine,)
    built = build_document(Registry(), declared.operations)
    assert built["paths"][H + "/x"]["get"]["operationId"] == "x.show"


# --- the documentation page ------------------------------------------------------------------


class _References(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in ("href", "src") and value:
                self.urls.append(value)


EXPECTED_TYPES = {
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".png": "image/png",
}


def test_docs_page_and_every_asset_it_references_come_from_this_server(client):
    page = client.get("/api/v3/docs")
    assert page.status_code == 200
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    parser = _References()
    parser.feed(page.text)
    assert sorted(parser.urls) == [
        "/api/v3/docs/favicon-16x16.png",
        "/api/v3/docs/favicon-32x32.png",
        "/api/v3/docs/init.js",
        "/api/v3/docs/swagger-ui-bundle.js",
        "/api/v3/docs/swagger-ui.css",
    ]
    for url in parser.urls:
        response = client.get(url)
        assert response.status_code == 200, url
        suffix = url[url.rindex(".") :]
        assert response.headers["content-type"] == EXPECTED_TYPES[suffix], url
        assert len(response.content) > 100, url
    # What the assets load in turn: the document, and the stylesheet's source map.
    init = client.get("/api/v3/docs/init.js").text
    assert re.findall(r'url: "([^"]+)"', init) == ["/api/v3/openapi.json"]
    assert "validatorUrl: null" in init
    assert client.get("/api/v3/openapi.json").status_code == 200
    css = client.get("/api/v3/docs/swagger-ui.css").text
    for mapped in re.findall(r"sourceMappingURL=([^\s*]+)", css):
        assert client.get(f"/api/v3/docs/{mapped}").status_code == 200
    assert "https://" not in page.text and "http://" not in page.text


def test_docs_serves_only_its_own_files(client):
    for name in ("index.html", "..%2F__init__.py", "swagger-initializer.js"):
        response = client.get(f"/api/v3/docs/{name}")
        assert response.status_code == 404, name
        assert response.json()["errors"][0]["code"] == "not-found"
