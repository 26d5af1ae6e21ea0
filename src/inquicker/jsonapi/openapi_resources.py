"""The routes of declared resources (list, show, related, relationship) as operations.

Generated from the same declarations the generic handlers serve, so the document names exactly
the include paths, sparse fields, sort keys and filters the query parser accepts.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from inquicker.jsonapi.openapi_schemas import schema_name
from inquicker.jsonapi.operations import Operation, Param, Reply, ref
from inquicker.jsonapi.query import MAX_INCLUDE_DEPTH
from inquicker.jsonapi.resource import Registry, Resource

# The server's own largest page number (query._parse_page).
MAX_PAGE_NUMBER = 10_000_000
READ_ERRORS = (400, 401, 403, 404, 406, 500, 503)
NOT_MODIFIED = Reply(304, "Not modified: the client's If-None-Match names this ETag.", None)


def _one_of_or_text(values: list[str], description: str) -> dict[str, Any]:
    """The known values (so a generator tries them) or any text (refused with a 400)."""
    if not values:
        return {"type": "string", "description": description}
    return {"anyOf": [{"type": "string", "enum": values}, {"type": "string"}]}


def include_paths(registry: Registry, resource: Resource, depth: int) -> list[str]:
    """Every dotted relationship path from ``resource`` up to ``depth`` levels."""
    out: list[str] = []

    def walk(current: Resource, prefix: str, level: int) -> None:
        for rel in current.relationships:
            path = f"{prefix}{rel.name}"
            out.append(path)
            target = registry.get(rel.target)
            if target is not None and level < depth:
                walk(target, f"{path}.", level + 1)

    walk(resource, "", 1)
    return out


def _reachable(registry: Registry, resource: Resource) -> list[Resource]:
    """The resource and every type an include path can reach (their fields[...] apply)."""
    seen = {resource.type: resource}
    for path in include_paths(registry, resource, MAX_INCLUDE_DEPTH):
        current = resource
        for name in path.split("."):
            rel = current.relationship(name)
            target = registry.get(rel.target) if rel else None
            if target is None:
                break
            current = target
        seen.setdefault(current.type, current)
    return list(seen.values())


def _document_params(registry: Registry, resource: Resource) -> list[Param]:
    """include and fields[...] (every document)."""
    paths = include_paths(registry, resource, 2)
    params = [
        Param(
            "include",
            "query",
            _one_of_or_text(paths, "No relationships to include."),
            f"Comma-separated relationship paths (dotted, up to {MAX_INCLUDE_DEPTH} levels) "
            f"to side-load: {', '.join(paths) or 'none'}.",
        )
    ]
    for target in _reachable(registry, resource):
        names = sorted(target.field_names())
        params.append(
            Param(
                f"fields[{target.type}]",
                "query",
                _one_of_or_text(names, ""),
                f"Sparse fieldset of {target.type}: comma-separated, from {', '.join(names)}.",
            )
        )
    return params


def _collection_params(resource: Resource, max_page_size: int) -> list[Param]:
    """sort, page[...] and filters (collections only)."""
    sortable = [a.name for a in resource.attributes if a.sortable]
    default = ", ".join(resource.default_sort) or "id"
    params = [
        Param(
            "sort",
            "query",
            _one_of_or_text([k for n in sortable for k in (n, f"-{n}")], "Nothing is sortable."),
            f"Comma-separated sort keys, '-' for descending: {', '.join(sortable) or 'none'}. "
            f"Default order: {default}.",
        ),
        Param(
            "page[number]",
            "query",
            {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_NUMBER},
            "Page number, from 1.",
        ),
        Param(
            "page[size]",
            "query",
            {"type": "integer", "minimum": 1, "maximum": max_page_size},
            f"Page size (default 10, at most {max_page_size}).",
        ),
    ]
    if not resource.filters:
        return params
    names = ", ".join(f.name for f in resource.filters)
    params.append(
        Param(
            "filter",
            "query",
            {"type": "string"},
            f'Filters as one JSON object, e.g. filter={{"{resource.filters[0].name}":"..."}}; '
            f"keys: {names}.",
        )
    )
    for flt in resource.filters:
        # A parse function may describe its values itself (e.g. a fixed set).
        described = getattr(flt.parse, "openapi_schema", None)
        schema = flt.schema or (described if isinstance(described, Mapping) else None)
        schema = dict(schema) if schema is not None else {"type": "string"}
        params.append(
            Param(f"filter[{flt.name}]", "query", schema, flt.description or f"Filter {flt.name}.")
        )
    return params


ID = Param("id", "path", {"type": "string"}, "The resource's id.", required=True)


def resource_operations(registry: Registry, max_page_size: int) -> list[Operation]:
    """List, show, related and relationship routes of every declared resource."""
    ops: list[Operation] = []
    for resource in registry:
        type_, name = resource.type, schema_name(resource.type)
        document = _document_params(registry, resource)
        ops.append(
            Operation(
                "get",
                f"/{type_}",
                f"{type_}.list",
                f"List {type_}",
                (Reply(200, f"A page of {type_}.", schema=ref(f"{name}Collection")), NOT_MODIFIED),
                READ_ERRORS,
                (*document, *_collection_params(resource, max_page_size)),
                description=resource.description,
                tags=(type_,),
            )
        )
        ops.append(
            Operation(
                "get",
                f"/{type_}/{{id}}",
                f"{type_}.show",
                f"Show one of {type_}",
                (Reply(200, "The resource.", schema=ref(f"{name}Document")), NOT_MODIFIED),
                READ_ERRORS,
                (ID, *document),
                tags=(type_,),
            )
        )
        for rel in resource.relationships:
            ops.extend(_relationship_operations(registry, resource, rel.name, max_page_size))
    return ops


def _relationship_operations(
    registry: Registry, resource: Resource, rel_name: str, max_page_size: int
) -> list[Operation]:
    rel = resource.relationship(rel_name)
    assert rel is not None
    target = registry[rel.target]
    type_, target_name = resource.type, schema_name(target.type)
    params = [ID, *_document_params(registry, target)]
    if rel.to_many:
        params += _collection_params(target, max_page_size)
        reply = Reply(200, f"The related {target.type}.", schema=ref(f"{target_name}Collection"))
    else:
        reply = Reply(200, f"The related {rel.name}.", schema=ref(f"{target_name}RelatedDocument"))
    return [
        Operation(
            "get",
            f"/{type_}/{{id}}/{rel.name}",
            f"{type_}.related.{rel.name}",
            f"The {rel.name} of one of {type_}",
            (reply, NOT_MODIFIED),
            READ_ERRORS,
            tuple(params),
            tags=(type_,),
        ),
        Operation(
            "get",
            f"/{type_}/{{id}}/relationships/{rel.name}",
            f"{type_}.relationship.{rel.name}",
            f"Linkage of the {rel.name} of one of {type_}",
            (Reply(200, "Resource linkage.", schema=ref("LinkageDocument")), NOT_MODIFIED),
            READ_ERRORS,
            (ID,),
            tags=(type_,),
        ),
    ]
