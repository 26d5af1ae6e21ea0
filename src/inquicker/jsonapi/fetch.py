"""The generic repository behind every declared resource.

Every statement starts from the resource's tenant scope, so no handler filters by tenant
by hand. Related rows are fetched in bulk: one query per relationship per page.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, Select, func, select

from inquicker.jsonapi.context import RequestContext
from inquicker.jsonapi.resource import ListQuery, Rel, Resource


@dataclass
class Item:
    """One resource row on its way to the document."""

    pk: int
    id: str
    attributes: dict[str, Any]
    meta: dict[str, Any] | None = None
    # relationship name -> resource linkage, filled for included relationships
    linkage: dict[str, Any] = field(default_factory=dict)


def _wanted(resource: Resource, fieldset: Collection[str] | None) -> list[ColumnElement[Any]]:
    return [
        a.column.label(a.name)
        for a in resource.attributes
        if a.column is not None and (fieldset is None or a.name in fieldset)
    ]


def _base(resource: Resource, ctx: RequestContext, *columns: ColumnElement[Any]) -> Select[Any]:
    stmt = select(*columns)
    if resource.from_clause is not None:
        stmt = stmt.select_from(resource.from_clause())
    return stmt.where(*resource.scope(ctx))


def _to_item(resource: Resource, row: Any, fieldset: Collection[str] | None) -> Item:
    mapping = row._mapping
    attributes: dict[str, Any] = {}
    for attr in resource.attributes:
        if fieldset is not None and attr.name not in fieldset:
            continue
        if attr.column is not None:
            value = mapping[attr.name]
            attributes[attr.name] = attr.convert(value) if attr.convert else value
        else:
            attributes[attr.name] = attr.default
    return Item(pk=mapping["pk"], id=mapping["id"], attributes=attributes)


def fetch_items(
    ctx: RequestContext,
    resource: Resource,
    where: Sequence[ColumnElement[bool]],
    fieldset: Collection[str] | None,
) -> list[Item]:
    """Rows of ``resource`` visible to the tenant and matching ``where``, default order."""
    stmt = _base(
        resource,
        ctx,
        resource.pk.label("pk"),
        resource.id_column.label("id"),
        *_wanted(resource, fieldset),
    ).where(*where)
    stmt = stmt.order_by(*default_order(resource), resource.pk)
    items = [
        _to_item(resource, row, fieldset) for row in ctx.session.connection().execute(stmt).all()
    ]
    load_computed(ctx, resource, items, fieldset)
    return items


def find_pk(ctx: RequestContext, resource: Resource, id_: str) -> int | None:
    """The pk of the resource with API id ``id_`` in this tenant, or None."""
    stmt = _base(resource, ctx, resource.pk).where(resource.id_column == id_)
    return ctx.session.connection().execute(stmt.limit(1)).scalar_one_or_none()


def default_order(resource: Resource) -> list[ColumnElement[Any]]:
    return order_for(resource, [(n.lstrip("-"), n.startswith("-")) for n in resource.default_sort])


def order_for(resource: Resource, sort: Sequence[tuple[str, bool]]) -> list[ColumnElement[Any]]:
    out: list[ColumnElement[Any]] = []
    for name, desc in sort:
        attr = resource.attribute(name)
        if attr is not None and attr.column is not None:
            # NULLs last in both directions, the same on SQLite and PostgreSQL.
            ordered = attr.column.desc() if desc else attr.column.asc()
            out.append(ordered.nulls_last())
    return out


def page_of(
    ctx: RequestContext,
    resource: Resource,
    lq: ListQuery,
    sort: Sequence[tuple[str, bool]],
    page_number: int,
    page_size: int,
) -> tuple[list[tuple[int, dict[str, Any]]], int]:
    """(pk, meta) of one page in order, and the total number of matching rows."""
    meta_cols = [col.label(f"meta_{name}") for name, col in lq.meta.items()]
    stmt = _base(resource, ctx, resource.pk.label("pk"), *meta_cols)
    for target, onclause in lq.joins:
        stmt = stmt.join(target, onclause)
    stmt = stmt.where(*lq.where)
    # Joins only add columns (one row per resource row), so the count does not need them.
    counted = _base(resource, ctx, resource.pk).where(*lq.where).subquery()
    total = ctx.session.connection().execute(select(func.count()).select_from(counted)).scalar_one()
    if sort:
        order = [*order_for(resource, sort), *lq.order_by]
    elif lq.overrides_default_sort:
        order = [*lq.order_by, *default_order(resource)]
    else:
        order = [*default_order(resource), *lq.order_by]
    stmt = stmt.order_by(*order, resource.pk)
    stmt = stmt.limit(page_size).offset((page_number - 1) * page_size)
    rows = ctx.session.connection().execute(stmt).all()
    converters = {n: lq.meta_convert.get(n, _identity) for n in lq.meta}
    page = [
        (row.pk, {n: conv(row._mapping[f"meta_{n}"]) for n, conv in converters.items()})
        for row in rows
    ]
    return page, total


def _identity(value: Any) -> Any:
    return value


def fetch_related(
    ctx: RequestContext,
    rel: Rel,
    target: Resource,
    parent_pks: Sequence[int],
    fieldset: Collection[str] | None,
) -> list[tuple[int, Item]]:
    """(parent pk, child item) pairs for a page of parents, in one query."""
    if not parent_pks:
        return []
    link = rel.link()
    parent_col, child_col = link.selected_columns[0], link.selected_columns[1]
    stmt = _base(
        target,
        ctx,
        parent_col.label("parent_pk"),
        target.pk.label("pk"),
        target.id_column.label("id"),
        *_wanted(target, fieldset),
    )
    # Join the link's own table rather than a subquery of it: planners then drive the join
    # from the page's parent pks instead of reading the whole link table.
    (link_table,) = link.get_final_froms()
    if link_table is not target.table:
        stmt = stmt.join(link_table, child_col == target.pk)
    if link.whereclause is not None:
        stmt = stmt.where(link.whereclause)
    stmt = stmt.where(parent_col.in_(parent_pks)).order_by(*default_order(target), target.pk)
    pairs = []
    items: dict[int, Item] = {}
    for row in ctx.session.connection().execute(stmt).all():
        item = items.get(row.pk)
        if item is None:
            item = items[row.pk] = _to_item(target, row, fieldset)
        pairs.append((row.parent_pk, item))
    load_computed(ctx, target, list(items.values()), fieldset)
    return pairs


def related_condition(rel: Rel, target: Resource, parent_pk: int) -> ColumnElement[bool]:
    """Restricts ``target`` to the children of one parent (for related collection routes)."""
    link = rel.link().subquery()
    return target.pk.in_(select(link.c[1]).where(link.c[0] == parent_pk))


def load_computed(
    ctx: RequestContext, resource: Resource, items: Sequence[Item], fieldset: Collection[str] | None
) -> None:
    """Fill attributes computed by bulk loaders: one query per attribute per page."""
    if not items:
        return
    pks = [i.pk for i in items]
    for attr in resource.attributes:
        if attr.loader is None or (fieldset is not None and attr.name not in fieldset):
            continue
        values = attr.loader(ctx, pks)
        for item in items:
            item.attributes[attr.name] = values.get(item.pk, attr.default)
