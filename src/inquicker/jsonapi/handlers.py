"""Generic list / show / related / relationship handlers, driven by declarations."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from sqlalchemy import ColumnElement

from inquicker.jsonapi.context import ResourceContext
from inquicker.jsonapi.document import (
    Included,
    included_objects,
    page_links,
    resolve_includes,
    resource_object,
)
from inquicker.jsonapi.errors import ApiError, ErrorObject, not_found, raise_if_any
from inquicker.jsonapi.fetch import (
    Item,
    fetch_items,
    fetch_related,
    find_pk,
    page_of,
    related_condition,
)
from inquicker.jsonapi.fragments import spliced
from inquicker.jsonapi.query import Query, parse_query
from inquicker.jsonapi.resource import ListQuery, Registry, Resource

Params = Sequence[tuple[str, str]]


def _query(
    ctx: ResourceContext,
    registry: Registry,
    resource: Resource,
    params: Params,
    *,
    collection: bool,
) -> Query:
    """The parsed query; parse problems are raised here unless filters may add more."""
    query = parse_query(
        params,
        resource,
        registry,
        default_size=ctx.settings.page_size_default,
        max_size=ctx.settings.page_size_max,
        collection=collection,
    )
    if not collection:
        raise_if_any(query.problems)
    return query


def _apply_filters(ctx: ResourceContext, resource: Resource, query: Query) -> ListQuery:
    lq = ListQuery()
    errors: list[ErrorObject] = []
    for name, value in query.filters.items():
        flt = resource.filter(name)
        if flt is None:
            continue
        try:
            flt.apply(lq, value, ctx)
        except ApiError as exc:  # e.g. a filter naming an id unknown to this tenant
            spelled = query.filter_parameters.get(name)
            errors.extend(replace(e, parameter=spelled or e.parameter) for e in exc.errors)
    raise_if_any([*query.problems, *errors])
    return lq


def _compound(
    ctx: ResourceContext,
    registry: Registry,
    resource: Resource,
    items: list[Item],
    query: Query,
    *,
    splice: bool = False,
) -> tuple[list[Any], list[Any]]:
    """Primary and included resource objects; ``splice``: as pre-serialised fragments
    (collection pages, the large documents; see jsonapi.fragments)."""
    included: Included = {}
    resolve_includes(ctx, registry, resource, items, query.include_tree(), query, included)
    primary = {(resource.type, i.pk) for i in items}
    if splice:
        data = spliced(ctx, [(resource, i) for i in items], query.fields, resource_object)
        rest = [pair for key, pair in included.items() if key not in primary]
        return data, spliced(ctx, rest, query.fields, resource_object)
    fieldset = query.fields.get(resource.type)
    data = [resource_object(ctx, resource, item, fieldset) for item in items]
    return data, included_objects(ctx, included, primary, query)


def _filter_key(query: Query) -> tuple[tuple[str, str], ...]:
    # Parsed filter values are lists, strings, booleans and numbers: their repr names them.
    return tuple(sorted((name, repr(value)) for name, value in query.filters.items()))


def list_resources(
    ctx: ResourceContext,
    registry: Registry,
    resource: Resource,
    params: Params,
    request_url: str,
    extra_where: Sequence[ColumnElement[bool]] = (),
) -> dict[str, Any]:
    """A paged collection document."""
    query = _query(ctx, registry, resource, params, collection=True)
    lq = _apply_filters(ctx, resource, query)
    lq.where.extend(extra_where)
    if lq.pager is not None and not query.sort and not extra_where:
        page, total = lq.pager(ctx, resource, lq, _filter_key(query), query.offset, query.page_size)
    else:
        page, total = page_of(ctx, resource, lq, query.sort, query.offset, query.page_size)
    pks = [pk for pk, _ in page]
    fetched = (
        {
            i.pk: i
            for i in fetch_items(
                ctx, resource, [resource.pk.in_(pks)], query.fields.get(resource.type)
            )
        }
        if pks
        else {}
    )
    items: list[Item] = []
    for pk, meta in page:
        item = fetched[pk]
        item.meta = meta or None
        items.append(item)
    data, included = _compound(ctx, registry, resource, items, query, splice=True)
    doc: dict[str, Any] = {
        "data": data,
        "meta": {"record-count": total},
        "links": page_links(request_url, params, query, total),
    }
    if query.include:
        doc["included"] = included
    return doc


def show_resource(
    ctx: ResourceContext, registry: Registry, resource: Resource, id_: str, params: Params
) -> dict[str, Any]:
    """A single resource document; 404 when the id is not visible to this tenant."""
    query = _query(ctx, registry, resource, params, collection=False)
    items = fetch_items(ctx, resource, [resource.id_column == id_], query.fields.get(resource.type))
    if not items:
        raise not_found(f"No {resource.type} with id '{id_}'.")
    data, included = _compound(ctx, registry, resource, items[:1], query)
    doc: dict[str, Any] = {"data": data[0], "links": {"self": ctx.url(resource.type, id_)}}
    if query.include:
        doc["included"] = included
    return doc


def _parent(ctx: ResourceContext, resource: Resource, id_: str) -> int:
    pk = find_pk(ctx, resource, id_)
    if pk is None:
        raise not_found(f"No {resource.type} with id '{id_}'.")
    return pk


def _relationship(resource: Resource, name: str) -> Any:
    rel = resource.relationship(name.replace("_", "-"))
    if rel is None:
        raise not_found(f"{resource.type} has no relationship '{name}'.")
    return rel


def show_related(
    ctx: ResourceContext,
    registry: Registry,
    resource: Resource,
    id_: str,
    name: str,
    params: Params,
    request_url: str,
) -> dict[str, Any]:
    """GET /{type}/{id}/{relationship}: a collection (to-many) or a single resource."""
    rel = _relationship(resource, name)
    parent_pk = _parent(ctx, resource, id_)
    target = registry[rel.target]
    if rel.to_many:
        return list_resources(
            ctx,
            registry,
            target,
            params,
            request_url,
            extra_where=[related_condition(rel, target, parent_pk)],
        )
    query = _query(ctx, registry, target, params, collection=False)
    pairs = fetch_related(ctx, rel, target, [parent_pk], query.fields.get(target.type))
    items = [item for _, item in pairs[:1]]
    data, included = _compound(ctx, registry, target, items, query)
    doc: dict[str, Any] = {
        "data": data[0] if data else None,
        "links": {"self": ctx.url(resource.type, id_, rel.name)},
    }
    if query.include:
        doc["included"] = included
    return doc


def show_relationship(
    ctx: ResourceContext, registry: Registry, resource: Resource, id_: str, name: str
) -> dict[str, Any]:
    """GET /{type}/{id}/relationships/{name}: resource linkage only."""
    rel = _relationship(resource, name)
    parent_pk = _parent(ctx, resource, id_)
    target = registry[rel.target]
    pairs = fetch_related(ctx, rel, target, [parent_pk], frozenset())
    refs = [{"type": target.type, "id": item.id} for _, item in pairs]
    return {
        "data": refs if rel.to_many else (refs[0] if refs else None),
        "links": {
            "self": ctx.url(resource.type, id_, "relationships", rel.name),
            "related": ctx.url(resource.type, id_, rel.name),
        },
    }
