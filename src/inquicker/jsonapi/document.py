"""Build JSON:API documents: resource objects, linkage, included, pagination links."""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from typing import Any
from urllib.parse import urlencode

from inquicker.jsonapi.context import ResourceContext
from inquicker.jsonapi.fetch import Item, fetch_related
from inquicker.jsonapi.query import Query
from inquicker.jsonapi.resource import Registry, Rel, Resource

Included = dict[tuple[str, int], tuple[Resource, Item]]
# (parent resource, relationship, target, parent pks, target fieldset) -> (parent pk, child)
# pairs, as ``fetch_related`` answers (the SQL path) or a record of its answer replays.
Related = Callable[
    [Resource, Rel, Resource, Sequence[int], Collection[str] | None], list[tuple[int, Item]]
]


def related_rows(ctx: ResourceContext) -> Related:
    """``fetch_related`` in this request's transaction."""

    def related(
        parent: Resource,
        rel: Rel,
        target: Resource,
        parent_pks: Sequence[int],
        fieldset: Collection[str] | None,
    ) -> list[tuple[int, Item]]:
        return fetch_related(ctx, rel, target, parent_pks, fieldset)

    return related


def resolve_includes(
    ctx: ResourceContext,
    registry: Registry,
    resource: Resource,
    items: Sequence[Item],
    tree: dict[str, Any],
    query: Query,
    included: Included,
    related: Related | None = None,
) -> None:
    """Load every included relationship of ``items`` (recursively), setting their linkage."""
    if related is None:
        related = related_rows(ctx)
    for name, subtree in tree.items():
        rel = resource.relationship(name)
        if rel is None:  # validated by the query parser; defensive for nested trees
            continue
        target = registry[rel.target]
        pairs = related(resource, rel, target, [i.pk for i in items], query.fields.get(target.type))
        by_parent: dict[int, list[Item]] = {}
        children: dict[int, Item] = {}
        for parent_pk, child in pairs:
            by_parent.setdefault(parent_pk, []).append(child)
            children.setdefault(child.pk, child)
        for item in items:
            kids = by_parent.get(item.pk, [])
            refs = [{"type": target.type, "id": k.id} for k in kids]
            item.linkage[name] = refs if rel.to_many else (refs[0] if refs else None)
        fresh = [c for c in children.values() if (target.type, c.pk) not in included]
        for child in children.values():
            existing = included.get((target.type, child.pk))
            if existing is not None:
                existing[1].linkage.update(child.linkage)
        for child in fresh:
            included[(target.type, child.pk)] = (target, child)
        if subtree:
            resolve_includes(
                ctx, registry, target, list(children.values()), subtree, query, included, related
            )


def resource_object(
    ctx: ResourceContext, resource: Resource, item: Item, fieldset: Collection[str] | None
) -> dict[str, Any]:
    """One resource object with absolute self links and relationship links."""
    self_url = ctx.url(resource.type, item.id)
    relationships: dict[str, Any] = {}
    for rel in resource.relationships:
        if fieldset is not None and rel.name not in fieldset:
            continue
        entry: dict[str, Any] = {
            "links": {
                "self": f"{self_url}/relationships/{rel.name}",
                "related": f"{self_url}/{rel.name}",
            }
        }
        if rel.name in item.linkage:
            entry["data"] = item.linkage[rel.name]
        relationships[rel.name] = entry
    out: dict[str, Any] = {"id": item.id, "type": resource.type, "links": {"self": self_url}}
    if item.attributes:
        out["attributes"] = item.attributes
    if relationships:
        out["relationships"] = relationships
    if item.meta:
        out["meta"] = item.meta
    return out


def included_objects(
    ctx: ResourceContext, included: Included, primary: set[tuple[str, int]], query: Query
) -> list[dict[str, Any]]:
    return [
        resource_object(ctx, res, item, query.fields.get(res.type))
        for key, (res, item) in included.items()
        if key not in primary
    ]


def page_links(
    request_url: str, params: Sequence[tuple[str, str]], query: Query, total: int
) -> dict[str, str]:
    """first/last always, prev/next when they exist; every other parameter is kept.

    Links use the spelling the request used (number/size or offset/limit) and are fully
    percent-encoded (``page%5Bnumber%5D=2``): strict URL parsers refuse raw brackets.
    """
    size = query.page_size
    last = max(1, -(-total // size))
    if query.page_offset is not None:
        kept = [(k, v) for k, v in params if k not in ("page[offset]", "page[limit]")]
        last_offset = (last - 1) * size

        def at(offset: int) -> str:
            return _link(request_url, kept, ("page[offset]", offset), ("page[limit]", size))

        offset = query.page_offset
        links = {"first": at(0), "last": at(last_offset)}
        if offset > 0:
            links["prev"] = at(min(max(offset - size, 0), last_offset))
        if offset + size < total:
            links["next"] = at(offset + size)
        return links

    kept = [(k, v) for k, v in params if k not in ("page[number]", "page[size]")]

    def link(number: int) -> str:
        return _link(request_url, kept, ("page[number]", number), ("page[size]", size))

    number = query.page_number
    links = {"first": link(1), "last": link(last)}
    if number > 1:
        links["prev"] = link(min(number - 1, last))
    if number < last:
        links["next"] = link(number + 1)
    return links


def _link(url: str, kept: Sequence[tuple[str, str]], *page: tuple[str, int]) -> str:
    query = [*kept, *((k, str(v)) for k, v in page)]
    return f"{url}?{urlencode(query)}"
