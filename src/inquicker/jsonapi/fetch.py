"""The generic repository behind every declared resource.

Every statement starts from the resource's tenant scope, so no handler filters by tenant
by hand. Related rows are fetched in bulk: one query per relationship per page.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, FromClause, Join, Label, Select, func, select
from sqlalchemy.sql.util import find_tables

from inquicker.jsonapi.context import ResourceContext
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


def _base(resource: Resource, ctx: ResourceContext, *columns: ColumnElement[Any]) -> Select[Any]:
    stmt = select(*columns)
    if resource.from_clause is not None:
        stmt = stmt.select_from(resource.from_clause())
    return stmt.where(*resource.scope(ctx))


def _tables(froms: Sequence[FromClause]) -> set[FromClause]:
    out: set[FromClause] = set()
    for f in froms:
        out |= _tables([f.left, f.right]) if isinstance(f, Join) else {f}
    return out


def _lean(
    resource: Resource,
    ctx: ResourceContext,
    columns: Sequence[ColumnElement[Any]],
    where: Sequence[ColumnElement[bool]],
    joins: Sequence[tuple[FromClause, ColumnElement[bool]]] = (),
    order_by: Sequence[ColumnElement[Any]] = (),
) -> Select[Any]:
    """Like ``_base``, but joining the declaration's ``from_clause`` only when the statement
    refers to it: a count or a page of pks ordered by the table's own columns then reads
    one index instead of joining every matching row (e.g. a schedule's service)."""

    def build(with_from: bool) -> Select[Any]:
        stmt = select(*columns)
        if with_from and resource.from_clause is not None:
            stmt = stmt.select_from(resource.from_clause())
        for target, onclause in joins:
            stmt = stmt.outerjoin(target, onclause)  # as ListQuery.joins says
        return stmt.where(*resource.scope(ctx), *where).order_by(*order_by)

    stmt = build(with_from=False)
    if resource.from_clause is None:
        return stmt
    # FROM entries come from the columns and conditions; ORDER BY never adds one.
    used = _tables(stmt.get_final_froms())
    for ordering in order_by:
        used.update(find_tables(ordering, check_columns=True))
    allowed = {resource.table, *(target for target, _ in joins)}
    return stmt if used <= allowed else build(with_from=True)


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
    ctx: ResourceContext,
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


def find_pk(ctx: ResourceContext, resource: Resource, id_: str) -> int | None:
    """The pk of the resource with API id ``id_`` in this tenant, or None."""
    stmt = _lean(resource, ctx, [resource.pk], [resource.id_column == id_])
    return ctx.session.connection().execute(stmt.limit(1)).scalar_one_or_none()


def default_order(resource: Resource) -> list[ColumnElement[Any]]:
    return order_for(resource, [(n.lstrip("-"), n.startswith("-")) for n in resource.default_sort])


def order_for(resource: Resource, sort: Sequence[tuple[str, bool]]) -> list[ColumnElement[Any]]:
    out: list[ColumnElement[Any]] = []
    for name, desc in sort:
        attr = resource.attribute(name)
        if attr is not None and attr.column is not None:
            ordered = attr.column.desc() if desc else attr.column.asc()
            # NULLs last in both directions, the same on SQLite and PostgreSQL. Said only of
            # columns that can hold NULL: the planners then walk a (tenant, column) index in
            # either direction instead of sorting every matching row.
            out.append(ordered.nulls_last() if _nullable(attr.column) else ordered)
    return out


def _nullable(column: Any) -> bool:
    expression = getattr(column, "expression", column)  # a mapped attribute's column
    while isinstance(expression, Label):
        expression = expression.element
    return bool(getattr(expression, "nullable", True))


def page_of(
    ctx: ResourceContext,
    resource: Resource,
    lq: ListQuery,
    sort: Sequence[tuple[str, bool]],
    offset: int,
    page_size: int,
) -> tuple[list[tuple[int, dict[str, Any]]], int]:
    """(pk, meta) of one page in order, and the total number of matching rows."""
    meta_cols = [col.label(f"meta_{name}") for name, col in lq.meta.items()]
    # Joins only add columns (one row per resource row), so the count does not need them.
    counted = _lean(resource, ctx, [resource.pk], lq.where).subquery()
    total = ctx.session.connection().execute(select(func.count()).select_from(counted)).scalar_one()
    if sort:
        order = [*order_for(resource, sort), *lq.order_by]
    elif lq.overrides_default_sort:
        order = [*lq.order_by, *default_order(resource)]
    else:
        order = [*default_order(resource), *lq.order_by]
    stmt = _lean(
        resource,
        ctx,
        [resource.pk.label("pk"), *meta_cols],
        lq.where,
        lq.joins,
        [*order, resource.pk],
    )
    stmt = stmt.limit(page_size).offset(offset)
    rows = ctx.session.connection().execute(stmt).all()
    converters = {n: lq.meta_convert.get(n, _identity) for n in lq.meta}
    page = [
        (row.pk, {n: conv(row._mapping[f"meta_{n}"]) for n, conv in converters.items()})
        for row in rows
    ]
    return page, total


def ordered_pks(
    ctx: ResourceContext, resource: Resource, where: Sequence[ColumnElement[bool]]
) -> list[int]:
    """Pks of every matching row in the default order (for pagers that rank in memory)."""
    order = [*default_order(resource), resource.pk]
    stmt = _lean(resource, ctx, [resource.pk], where, order_by=order)
    return list(ctx.session.connection().execute(stmt).scalars().all())


def _identity(value: Any) -> Any:
    return value


def fetch_related(
    ctx: ResourceContext,
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
    ctx: ResourceContext,
    resource: Resource,
    items: Sequence[Item],
    fieldset: Collection[str] | None,
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
