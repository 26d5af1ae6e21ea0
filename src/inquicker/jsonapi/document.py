"""Build JSON:API documents: resource objects, linkage, included, pagination links."""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from typing import Any
from urllib.parse import quote_plus, urlencode

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
        at_offset = _linker(request_url, params, _BY_OFFSET, size)
        last_offset = (last - 1) * size
        offset = query.page_offset
        links = {"first": at_offset(0), "last": at_offset(last_offset)}
        if offset > 0:
            links["prev"] = at_offset(min(max(offset - size, 0), last_offset))
        if offset + size < total:
            links["next"] = at_offset(offset + size)
        return links

    link = _linker(request_url, params, _BY_NUMBER, size)
    number = query.page_number
    links = {"first": link(1), "last": link(last)}
    if number > 1:
        links["prev"] = link(min(number - 1, last))
    if number < last:
        links["next"] = link(number + 1)
    return links


# The page parameters of each spelling, and as urlencode writes them (quote_plus).
_BY_NUMBER = ("page[number]", "page[size]")
_BY_OFFSET = ("page[offset]", "page[limit]")
_ENCODED = {name: quote_plus(name) for name in (*_BY_NUMBER, *_BY_OFFSET)}


def _linker(
    url: str, params: Sequence[tuple[str, str]], names: tuple[str, str], size: int
) -> Callable[[int], str]:
    """The link to page ``n`` (a number or an offset) keeping every other parameter in
    order: ``url?{kept}&{at}={n}&{size}={size}``, the kept parameters encoded once for all
    the links, as ``urlencode`` of them all writes it."""
    kept = [(k, v) for k, v in params if k not in names]
    prefix = f"{url}?{urlencode(kept)}&" if kept else f"{url}?"
    at, per_page = (_ENCODED[name] for name in names)
    suffix = f"&{per_page}={size}"
    return lambda n: f"{prefix}{at}={n}{suffix}"
