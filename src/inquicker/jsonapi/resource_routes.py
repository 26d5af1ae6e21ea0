"""The routes of declared resources, generated from the registry: list, show, and for every
relationship (and each former name of it) its related and relationship routes.

Each route carries its OpenAPI operations (``openapi_resources``); a relationship's former
names (``Rel.aliases``) are served but not documented.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

from inquicker.jsonapi.context import ResourceContext
from inquicker.jsonapi.errors import raise_if_any
from inquicker.jsonapi.handlers import (
    list_resources,
    show_related,
    show_relationship,
    show_resource,
)
from inquicker.jsonapi.openapi_resources import resource_operations
from inquicker.jsonapi.params import unknown_parameters
from inquicker.jsonapi.resource import Registry, Resource
from inquicker.jsonapi.routing import CATALOG_CACHE, READ_METHODS, Route, route


class ResourceRequest(Protocol):
    """What the generic handlers read of a request."""

    @property
    def params(self) -> Sequence[tuple[str, str]]: ...

    @property
    def path_params(self) -> Mapping[str, str]: ...

    # The request's absolute URL without its query string (list links repeat it).
    @property
    def url(self) -> str: ...


ResourceHandler = Callable[[ResourceContext, ResourceRequest], dict[str, Any]]


def resource_routes(registry: Registry, max_page_size: int) -> list[Route[ResourceHandler]]:
    """Every resource route, documented by the operations generated from the same
    declarations (so the document and the table cannot disagree)."""
    operations = resource_operations(registry, max_page_size)
    routes: list[Route[ResourceHandler]] = []

    def add(template: str, handler: ResourceHandler, documented: bool = True) -> None:
        routes.append(
            route(
                template,
                READ_METHODS,
                handler,
                operations=operations if documented else (),
                cache_control=CATALOG_CACHE,
                cacheable=True,
                replica_reads=True,
            )
        )

    for resource in registry:
        type_ = resource.type
        add(f"/{type_}", _list(registry, resource))
        add(f"/{type_}/{{id}}", _show(registry, resource))
        for rel in resource.relationships:
            for name in (rel.name, *rel.aliases):
                documented = name == rel.name
                add(f"/{type_}/{{id}}/{name}", _related(registry, resource, name), documented)
                add(
                    f"/{type_}/{{id}}/relationships/{name}",
                    _linkage(registry, resource, name),
                    documented,
                )
    return routes


def _list(registry: Registry, resource: Resource) -> ResourceHandler:
    def handle(ctx: ResourceContext, req: ResourceRequest) -> dict[str, Any]:
        return list_resources(ctx, registry, resource, req.params, req.url)

    return handle


def _show(registry: Registry, resource: Resource) -> ResourceHandler:
    def handle(ctx: ResourceContext, req: ResourceRequest) -> dict[str, Any]:
        return show_resource(ctx, registry, resource, req.path_params["id"], req.params)

    return handle


def _related(registry: Registry, resource: Resource, name: str) -> ResourceHandler:
    def handle(ctx: ResourceContext, req: ResourceRequest) -> dict[str, Any]:
        id_ = req.path_params["id"]
        return show_related(ctx, registry, resource, id_, name, req.params, req.url)

    return handle


def _linkage(registry: Registry, resource: Resource, name: str) -> ResourceHandler:
    def handle(ctx: ResourceContext, req: ResourceRequest) -> dict[str, Any]:
        # Linkage takes no parameter: a misspelt one is refused, never ignored (SPEC 3).
        raise_if_any(unknown_parameters(req.params, ()))
        return show_relationship(ctx, registry, resource, req.path_params["id"], name)

    return handle
