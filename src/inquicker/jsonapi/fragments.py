"""Resource objects serialised once per data version and spliced into documents, and what
lets a warm request build its document from them without SQL.

Building a resource object (links of every relationship, attribute dicts) and serialising
it was ~55% of an uncached provider search page with include=schedules (250 objects,
448 KB; ``bench/suite.py --profile providers-near``). A catalog resource object is a
function of the tenant's data version, the link base, the sparse fieldset and which
relationships carry linkage (the include paths): the same inputs the response cache keys
documents by. So each object's JSON is kept, under that key, as bytes and spliced into the
page with ``orjson.Fragment``; the only per-request part, ``meta`` (e.g. near's distance),
is appended to the cached bytes (it is the object's last member either way, so the
document is byte-for-byte what rendering it would give).

Once the objects were kept, reading the rows they are rendered from was most of an
uncached page (issue 15: ``fetch_items``/``fetch_related`` ~50%). So the table also keeps,
under the same key, what the SQL path found for each question it answered:

- ``pages``: a list query (resource, parsed filters, sort, window, parent of a related
  collection) -> the page's (pk, id, meta) rows and the record count;
- ``links``: (type, relationship, the parents' pks) -> the (parent pk, child pk, child id)
  pairs ``fetch_related`` returned, in its order;
- ``pks``: (lookup, type, id) -> (pk, id) of the row a show (first in default order) or a
  parent lookup (``find_pk``) found, kept apart as the two may pick differently among rows
  sharing an id across a site's health systems;
- ``compounds``: a page (or single resource) with its include paths and fieldsets -> its
  primary and included objects as spliced from the above, so a repeated question only
  joins them with its own page links.

A request whose every answer is in the table (``warm``) runs no statement for its document;
any miss sends the whole request down the SQL path, which fills the table. Answers are
recorded by the SQL path itself under the table's data version and process generation, so
replayed documents are the same bytes (tests/search/test_replay.py).

The table is one catalog-memo entry per tenant, data version, process change generation and
link base (so it lapses with the memo's TTL like every other memoised catalog value) and
stops growing at ``MAX_BYTES``: past that, requests take the SQL path as before.

Each kept object also keeps its *mark*: a digest of its bytes. A document's strong ETag is
the digest of the document with every spliced object replaced by its mark (``Spliced``,
``web.responses.document_tag``), so a warm 448 KB page is tagged by hashing ~9 KB instead
of its whole body. Marks are digests of the very bytes spliced, so the tag still changes
whenever any byte of the document does, and equal documents get equal tags in every
process, however (SQL path or replay) each was built.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Collection, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from inquicker.jsonapi.context import ResourceContext
from inquicker.jsonapi.fetch import Item
from inquicker.jsonapi.resource import Resource

# ~ 9,000 objects of a provider search page; bounds a worker's table (one per tenant).
MAX_BYTES = 16 * 1024 * 1024
# Approximate bytes of a recorded row (a tuple of small ints and a short id, dict slot):
# counted against MAX_BYTES with the objects so the whole table stays bounded.
ROW_BYTES = 120

Render = Callable[[ResourceContext, Resource, Item, Collection[str] | None], dict[str, Any]]
Link = tuple[int, int, str]  # (parent pk, child pk, child id)
# ((pk, id, meta), ...), total
PageRows = tuple[tuple[tuple[int, str, dict[str, Any] | None], ...], int]
# (primary objects, included objects) as orjson.Fragment lists.
Compound = tuple["Spliced", "Spliced"]
# The digest of an object's bytes in the mark that stands for it in a document's ETag: a
# control character (never in orjson's output, which escapes them in strings) and 32 hex
# digits, so a document with marks in place of objects names its objects unambiguously.
MARK_PREFIX = b"\x01"
MARK_BYTES = 33


def mark_of(body: bytes) -> bytes:
    """The mark standing for ``body`` (a serialised resource object) in ETag sources."""
    return MARK_PREFIX + hashlib.blake2b(body, digest_size=16).hexdigest().encode("ascii")


class Spliced(list[Any]):
    """Resource objects as ``orjson.Fragment``s (serialised as a plain JSON array), with
    ``marks``: the same array, serialised, with each object's mark in its place (the
    document's ETag source has these bytes where the array's are)."""

    __slots__ = ("marks",)

    def __init__(self, objects: Iterable[Any], marks: Iterable[bytes]) -> None:
        super().__init__(objects)
        self.marks = b"[" + b",".join(marks) + b"]"


@dataclass
class _Table:
    # Each object's bytes and its mark.
    objects: dict[tuple[Any, ...], tuple[bytes, bytes]] = field(default_factory=dict)
    pages: dict[Hashable, PageRows] = field(default_factory=dict)
    links: dict[Hashable, tuple[Link, ...]] = field(default_factory=dict)
    pks: dict[tuple[str, str, str], tuple[int, str]] = field(default_factory=dict)
    compounds: dict[Hashable, Compound] = field(default_factory=dict)
    size: int = 0

    def room(self, cost: int) -> bool:
        # The bound is approximate under concurrent requests (two threads may store the
        # same answer, equal either way): close enough for a memory bound.
        if self.size + cost > MAX_BYTES:
            return False
        self.size += cost
        return True


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


def _key(resource: Resource, item: Item, fields: Mapping[str, Collection[str]]) -> tuple[Any, ...]:
    fieldset = fields.get(resource.type)
    # The linkage's content is fixed by the data version; which relationships carry it
    # depends on the include paths, so their names are part of the key.
    return (
        resource.type,
        item.pk,
        None if fieldset is None else tuple(sorted(fieldset)),
        tuple(sorted(item.linkage)),
    )


def _with_meta(body: bytes, mark: bytes, item: Item) -> tuple[Any, bytes]:
    """The object's fragment and mark, with the request's meta appended when it has one."""
    if item.meta:
        body = b"".join((body[:-1], b',"meta":', orjson.dumps(item.meta), b"}"))
        mark = mark_of(body)
    return orjson.Fragment(body), mark


def spliced(
    ctx: ResourceContext,
    objects: Iterable[tuple[Resource, Item]],
    fields: Mapping[str, Collection[str]],
    render: Render,
) -> Spliced:
    """Each item's resource object as an ``orjson.Fragment`` (rendered at most once per
    data version), its meta appended per request."""
    table = _table(ctx)
    out: list[Any] = []
    marks: list[bytes] = []
    for resource, item in objects:
        key = _key(resource, item, fields)
        found = table.objects.get(key)
        if found is None:
            meta, item.meta = item.meta, None
            body = orjson.dumps(render(ctx, resource, item, fields.get(resource.type)))
            item.meta = meta
            found = (body, mark_of(body))
            if table.room(len(body) + MARK_BYTES):
                table.objects[key] = found
        fragment, mark = _with_meta(*found, item)
        out.append(fragment)
        marks.append(mark)
    return Spliced(out, marks)


def kept(
    ctx: ResourceContext,
    objects: Iterable[tuple[Resource, Item]],
    fields: Mapping[str, Collection[str]],
) -> tuple[Spliced, int] | None:
    """Like ``spliced`` for items whose objects are all in the table (no attributes needed),
    with the bytes copied to append meta; None if any object is not kept."""
    table = _table(ctx).objects
    out: list[Any] = []
    marks: list[bytes] = []
    copied = 0
    for resource, item in objects:
        found = table.get(_key(resource, item, fields))
        if found is None:
            return None
        if item.meta:
            copied += len(found[0]) + MARK_BYTES
        fragment, mark = _with_meta(*found, item)
        out.append(fragment)
        marks.append(mark)
    return Spliced(out, marks), copied


class Miss(Exception):  # noqa: N818 -- not an error: a cue to take the SQL path
    """A warm request needed an answer the table does not have: take the SQL path."""


def page(ctx: ResourceContext, key: Hashable) -> PageRows | None:
    return _table(ctx).pages.get(key)


def remember_page(ctx: ResourceContext, key: Hashable, rows: PageRows) -> None:
    table = _table(ctx)
    if key not in table.pages and table.room(ROW_BYTES * (1 + len(rows[0]))):
        table.pages[key] = rows


def links(ctx: ResourceContext, key: Hashable) -> tuple[Link, ...]:
    found = _table(ctx).links.get(key)
    if found is None:
        raise Miss
    return found


def remember_links(ctx: ResourceContext, key: Hashable, pairs: Sequence[Link]) -> None:
    table = _table(ctx)
    if key not in table.links and table.room(ROW_BYTES * (1 + len(pairs))):
        table.links[key] = tuple(pairs)


def pk_of(ctx: ResourceContext, lookup: str, type_: str, id_: str) -> tuple[int, str] | None:
    return _table(ctx).pks.get((lookup, type_, id_))


def remember_pk(
    ctx: ResourceContext, lookup: str, type_: str, id_: str, pk: int, found_id: str
) -> None:
    table = _table(ctx)
    key = (lookup, type_, id_)
    if key not in table.pks and table.room(ROW_BYTES):
        table.pks[key] = (pk, found_id)


def compound(ctx: ResourceContext, key: Hashable) -> Compound | None:
    return _table(ctx).compounds.get(key)


def remember_compound(ctx: ResourceContext, key: Hashable, parts: Compound, copied: int) -> None:
    """``copied``: bytes of objects copied to append their meta (the others share the kept
    objects' bytes)."""
    table = _table(ctx)
    marks = len(parts[0].marks) + len(parts[1].marks)
    cost = ROW_BYTES * (1 + len(parts[0]) + len(parts[1])) + marks + copied
    if key not in table.compounds and table.room(cost):
        table.compounds[key] = parts
