"""Generic list / show / related / relationship handlers, driven by declarations."""

from __future__ import annotations

from collections.abc import Callable, Collection, Hashable, Sequence
from dataclasses import replace
from typing import Any

from sqlalchemy import ColumnElement

from inquicker.jsonapi import fragments
from inquicker.jsonapi.context import ResourceContext
from inquicker.jsonapi.document import (
    Included,
    Related,
    included_objects,
    page_links,
    related_rows,
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
from inquicker.jsonapi.resource import ListQuery, Registry, Rel, Resource
from inquicker.memo import require_database

Params = Sequence[tuple[str, str]]
# Warm requests are answered from recorded pages, links and kept objects (no SQL); tests
# switch this off to compare with the SQL path.
REPLAY = True


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
    (see jsonapi.fragments), the relationships read recorded for warm requests."""
    included: Included = {}
    tree = query.include_tree()
    if splice:
        resolve_includes(ctx, registry, resource, items, tree, query, included, _recording(ctx))
    else:
        resolve_includes(ctx, registry, resource, items, tree, query, included)
    primary = {(resource.type, i.pk) for i in items}
    if splice:
        kept = spliced(ctx, [(resource, i) for i in items], query.fields, resource_object)
        rest = [pair for key, pair in included.items() if key not in primary]
        return kept, spliced(ctx, rest, query.fields, resource_object)
    fieldset = query.fields.get(resource.type)
    data = [resource_object(ctx, resource, item, fieldset) for item in items]
    return data, included_objects(ctx, included, primary, query)


def _links_key(parent: Resource, rel: Rel, parent_pks: Sequence[int]) -> tuple[Any, ...]:
    return ("links", parent.type, rel.name, tuple(parent_pks))


def _recording(ctx: ResourceContext) -> Related:
    """``fetch_related``, its answers kept for warm requests (fragments.links)."""
    fetch = related_rows(ctx)

    def related(
        parent: Resource,
        rel: Rel,
        target: Resource,
        parent_pks: Sequence[int],
        fieldset: Collection[str] | None,
    ) -> list[tuple[int, Item]]:
        pairs = fetch(parent, rel, target, parent_pks, fieldset)
        fragments.remember_links(
            ctx,
            _links_key(parent, rel, parent_pks),
            [(parent_pk, child.pk, child.id) for parent_pk, child in pairs],
        )
        return pairs

    return related


def _replaying(ctx: ResourceContext) -> Related:
    """Recorded ``fetch_related`` answers, as Items without attributes (their objects must
    be kept too); ``fragments.Miss`` when one was never recorded."""

    def related(
        parent: Resource,
        rel: Rel,
        target: Resource,
        parent_pks: Sequence[int],
        fieldset: Collection[str] | None,
    ) -> list[tuple[int, Item]]:
        children: dict[int, Item] = {}  # one Item per child, as fetch_related gives
        pairs: list[tuple[int, Item]] = []
        for parent_pk, child_pk, child_id in fragments.links(
            ctx, _links_key(parent, rel, parent_pks)
        ):
            child = children.get(child_pk)
            if child is None:
                child = children[child_pk] = Item(pk=child_pk, id=child_id, attributes={})
            pairs.append((parent_pk, child))
        return pairs

    return related


def _warm_compound(
    ctx: ResourceContext,
    registry: Registry,
    resource: Resource,
    items: Callable[[], list[Item]],
    query: Query,
    key: Hashable,
) -> fragments.Compound | None:
    """``_compound(splice=True)`` from recorded answers and kept objects alone (no SQL), or
    None when anything it needs is not in the table. ``key`` names the question (page or
    single resource); the answer is kept under it with the include paths and fieldsets."""
    if not REPLAY:
        return None
    fields_key = tuple(sorted((t, tuple(sorted(f))) for t, f in query.fields.items()))
    compound_key = ("compound", key, query.include, fields_key)
    done = fragments.compound(ctx, compound_key)
    if done is not None:
        return done
    included: Included = {}
    primaries = items()
    try:
        resolve_includes(
            ctx,
            registry,
            resource,
            primaries,
            query.include_tree(),
            query,
            included,
            _replaying(ctx),
        )
    except fragments.Miss:
        return None
    primary = {(resource.type, i.pk) for i in primaries}
    data = fragments.kept(ctx, [(resource, i) for i in primaries], query.fields)
    if data is None:
        return None
    rest = [pair for k, pair in included.items() if k not in primary]
    others = fragments.kept(ctx, rest, query.fields)
    if others is None:
        return None
    parts = (data[0], others[0])
    fragments.remember_compound(ctx, compound_key, parts, data[1] + others[1])
    return parts


def _filter_key(query: Query) -> tuple[tuple[str, str], ...]:
    # Parsed filter values are lists, strings, booleans and numbers: their repr names them.
    return tuple(sorted((name, repr(value)) for name, value in query.filters.items()))


def _page_key(resource: Resource, query: Query, parent: Hashable | None) -> tuple[Any, ...]:
    # Everything the page and its count depend on besides the data version (the table's
    # key): the parsed filters, the sort, the window and, for a related collection, its
    # parent. Fieldsets and includes shape the objects, not which rows are on the page.
    return (
        "page",
        resource.type,
        _filter_key(query),
        query.sort,
        query.offset,
        query.page_size,
        parent,
    )


def list_resources(
    ctx: ResourceContext,
    registry: Registry,
    resource: Resource,
    params: Params,
    request_url: str,
    extra_where: Sequence[ColumnElement[bool]] = (),
    parent: Hashable | None = None,
) -> dict[str, Any]:
    """A paged collection document. ``extra_where`` restricts the list (a related
    collection); ``parent`` then names that restriction for the table of recorded pages
    (without it, such a list is not recorded)."""
    query = _query(ctx, registry, resource, params, collection=True)
    key = _page_key(resource, query, parent) if parent is not None or not extra_where else None
    if key is not None and REPLAY and not query.problems:
        # A recorded page was computed with these very filters under this data version, so
        # they resolve (unknown ids would have failed then) and need not be applied again.
        recorded = fragments.page(ctx, key)
        if recorded is not None:
            rows, total = recorded

            def replayed() -> list[Item]:
                return [Item(pk=pk, id=id_, attributes={}, meta=meta) for pk, id_, meta in rows]

            warm = _warm_compound(ctx, registry, resource, replayed, query, key)
            if warm is not None:
                return _collection(query, params, request_url, total, *warm)
    require_database()
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
    if key is not None:
        rows = tuple((i.pk, i.id, i.meta) for i in items)
        fragments.remember_page(ctx, key, (rows, total))
    data, included = _compound(ctx, registry, resource, items, query, splice=True)
    return _collection(query, params, request_url, total, data, included)


def _collection(
    query: Query,
    params: Params,
    request_url: str,
    total: int,
    data: list[Any],
    included: list[Any],
) -> dict[str, Any]:
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
    found = fragments.pk_of(ctx, "show", resource.type, id_) if REPLAY else None
    if found is not None:
        pk, found_id = found
        warm = _warm_compound(
            ctx,
            registry,
            resource,
            lambda: [Item(pk=pk, id=found_id, attributes={})],
            query,
            ("show", resource.type, id_),
        )
        if warm is not None:
            return _single(ctx, resource, id_, query, *warm)
    require_database()
    items = fetch_items(ctx, resource, [resource.id_column == id_], query.fields.get(resource.type))
    if not items:
        raise not_found(f"No {resource.type} with id '{id_}'.")
    fragments.remember_pk(ctx, "show", resource.type, id_, items[0].pk, items[0].id)
    data, included = _compound(ctx, registry, resource, items[:1], query, splice=True)
    return _single(ctx, resource, id_, query, data, included)


def _single(
    ctx: ResourceContext,
    resource: Resource,
    id_: str,
    query: Query,
    data: list[Any],
    included: list[Any],
) -> dict[str, Any]:
    doc: dict[str, Any] = {"data": data[0], "links": {"self": ctx.url(resource.type, id_)}}
    if query.include:
        doc["included"] = included
    return doc


def _parent(ctx: ResourceContext, resource: Resource, id_: str) -> int:
    found = fragments.pk_of(ctx, "parent", resource.type, id_) if REPLAY else None
    if found is not None:
        return found[0]
    require_database()
    pk = find_pk(ctx, resource, id_)
    if pk is None:
        raise not_found(f"No {resource.type} with id '{id_}'.")
    # find_pk does not read the id back; equal here (an exact match on the id column).
    fragments.remember_pk(ctx, "parent", resource.type, id_, pk, id_)
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
            parent=(resource.type, rel.name, parent_pk),
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
