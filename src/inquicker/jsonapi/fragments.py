"""Resource objects serialised once per data version and spliced into collection pages.

Building a resource object (links of every relationship, attribute dicts) and serialising
it was ~55% of an uncached provider search page with include=schedules (250 objects,
448 KB; ``bench/suite.py --profile providers-near``). A catalog resource object is a
function of the tenant's data version, the link base, the sparse fieldset and which
relationships carry linkage (the include paths): the same inputs the response cache keys
documents by. So each object's JSON is kept, under that key, as bytes and spliced into the
page with ``orjson.Fragment``; the only per-request part, ``meta`` (e.g. near's distance),
is appended to the cached bytes (it is the object's last member either way, so the
document is byte-for-byte what rendering it would give).

The table is one catalog-memo entry per tenant, data version and link base (so it lapses
with the memo's TTL like every other memoised catalog value) and stops growing at
``MAX_BYTES``: past that, objects are rendered per request as before.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

from inquicker.jsonapi.context import ResourceContext
from inquicker.jsonapi.fetch import Item
from inquicker.jsonapi.resource import Resource

# ~ 9,000 objects of a provider search page; bounds a worker's table (one per tenant).
MAX_BYTES = 16 * 1024 * 1024

Render = Callable[[ResourceContext, Resource, Item, Collection[str] | None], dict[str, Any]]


@dataclass
class _Table:
    objects: dict[tuple[Any, ...], bytes] = field(default_factory=dict)
    size: int = 0


def _table(ctx: ResourceContext) -> _Table:
    key = (
        "fragments",
        ctx.tenant.health_system_pks,
        ctx.tenant.data_versions,
        ctx.generation,
        ctx.base_url,
    )
    table: _Table | None = ctx.memo.get(key)
    if table is None:
        table = _Table()
        ctx.memo.put(key, table)
    return table


def spliced(
    ctx: ResourceContext,
    objects: Iterable[tuple[Resource, Item]],
    fields: Mapping[str, Collection[str]],
    render: Render,
) -> list[Any]:
    """Each item's resource object as an ``orjson.Fragment`` (rendered at most once per
    data version), its meta appended per request."""
    table = _table(ctx)
    out: list[Any] = []
    for resource, item in objects:
        fieldset = fields.get(resource.type)
        # The linkage's content is fixed by the data version; which relationships carry
        # it depends on the include paths, so their names are part of the key.
        key = (
            resource.type,
            item.pk,
            None if fieldset is None else tuple(sorted(fieldset)),
            tuple(sorted(item.linkage)),
        )
        body = table.objects.get(key)
        if body is None:
            meta, item.meta = item.meta, None
            body = orjson.dumps(render(ctx, resource, item, fieldset))
            item.meta = meta
            # The bound is approximate under concurrent requests (two threads may store
            # the same object, with equal bytes): close enough for a memory bound.
            if table.size + len(body) <= MAX_BYTES:
                table.objects[key] = body
                table.size += len(body)
        if item.meta:
            body = b"".join((body[:-1], b',"meta":', orjson.dumps(item.meta), b"}"))
        out.append(orjson.Fragment(body))
    return out
