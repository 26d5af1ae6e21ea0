"""The declared route table: every route of the API as data, matched by a table compiled once.

A ``Route`` is one path template (relative to ``/{partner_hostname}``, e.g.
``/providers/{id}/relationships/schedules``), the methods it serves, its handler and the
policy the request pipeline applies to it (API key scope, write retries, caching). Resource
routes are generated from the declarations (``resource_routes``); every other route is
declared by its domain's ``routes.py``. The dispatcher, the cached-read fast path,
``405``/``Allow``, the OpenAPI document and the tests' "every route" lists all read one
``RouteTable``; nothing routes by counting path segments.

Protocol only: the handler type is a parameter, so the table knows no domain and no pipeline.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from inquicker.jsonapi.operations import Operation
from inquicker.jsonapi.query import dasherize

H = TypeVar("H")
# A route is read-only, so a route of a narrower handler type (the generic resource handlers
# take a protocol's view of the context) is a route of the pipeline's handler type.
H_co = TypeVar("H_co", covariant=True)

READ_METHODS = frozenset({"GET", "HEAD"})
# Catalog documents change only on imports; they carry the caller's key in page links.
CATALOG_CACHE = "private, max-age=60"


@dataclass(frozen=True, slots=True)
class Route(Generic[H_co]):
    """One path template served by one handler for ``methods``."""

    template: str
    methods: frozenset[str]
    handler: H_co
    # API key scope required; None: the handler authenticates (visit and management tokens).
    scope: str | None = "read"
    # Writes run with SQLite's write lock taken at BEGIN and are retried on write conflicts.
    writes: bool = False
    # Cache-Control of successful GETs; every GET also gets an ETag and honours If-None-Match.
    cache_control: str = "no-cache"
    # Successful reads depend on catalog data only (never on bookings or the clock), so their
    # rendered documents may be served from the response cache (and by the fast path).
    cacheable: bool = False
    # Successful reads depend on catalog data only and decide no booking: the handler may
    # read a caught-up streaming replica instead of the primary (db/replicas.py).
    replica_reads: bool = False
    # Its part of the OpenAPI document; empty for spellings kept for old clients (aliases).
    operations: tuple[Operation, ...] = ()

    @property
    def parameters(self) -> tuple[str, ...]:
        """The names of the template's ``{parameters}``, in order."""
        return tuple(s[1:-1] for s in _segments(self.template) if _is_parameter(s))


def route(
    template: str,
    methods: Collection[str],
    handler: H,
    *,
    operations: Iterable[Operation] = (),
    scope: str | None = "read",
    writes: bool = False,
    cache_control: str = "no-cache",
    cacheable: bool = False,
    replica_reads: bool = False,
) -> Route[H]:
    """A route documented by those of ``operations`` that describe it (same path, one of its
    methods): a domain hands over its operations once and each route takes its own."""
    verbs = frozenset(methods)
    mine = tuple(o for o in operations if o.path == template and o.method.upper() in verbs)
    return Route(
        template, verbs, handler, scope, writes, cache_control, cacheable, replica_reads, mine
    )


@dataclass(frozen=True, slots=True)
class Match(Generic[H]):
    """The routes of the template a path matched (by method) and its path parameters."""

    by_method: Mapping[str, Route[H]]
    params: Mapping[str, str]
    allowed: frozenset[str]


@dataclass(slots=True)
class _Node(Generic[H]):
    literals: dict[str, _Node[H]] = field(default_factory=dict)
    parameter: tuple[str, _Node[H]] | None = None
    by_method: dict[str, Route[H]] = field(default_factory=dict)
    allowed: frozenset[str] = frozenset()


class RouteTable(Generic[H]):
    """The routes, compiled once into a tree of path segments: literal segments first (so
    ``/visits/{id}/calendar.ics`` wins over a parameter in that place), then a parameter.

    Literal segments match in either spelling of a name (``appointment_types`` or
    ``appointment-types``); parameters take the segment as sent.
    """

    def __init__(self, routes: Iterable[Route[H]]) -> None:
        self.routes: tuple[Route[H], ...] = tuple(routes)
        self._root: _Node[H] = _Node()
        for r in self.routes:
            self._add(r)

    def _add(self, r: Route[H]) -> None:
        node = self._root
        for segment in _segments(r.template):
            if _is_parameter(segment):
                name = segment[1:-1]
                if node.parameter is None:
                    node.parameter = (name, _Node())
                elif node.parameter[0] != name:
                    raise ValueError(f"{r.template}: '{name}' differs from '{node.parameter[0]}'")
                node = node.parameter[1]
            else:
                node = node.literals.setdefault(dasherize(segment), _Node())
        taken = node.by_method.keys() & r.methods
        if taken:
            raise ValueError(f"{r.template} is declared twice for {', '.join(sorted(taken))}")
        node.by_method.update(dict.fromkeys(r.methods, r))
        node.allowed = frozenset(node.by_method)

    def match(self, path: tuple[str, ...]) -> Match[H] | None:
        """The template ``path`` (split on '/', empty parts dropped) matches, or None (404)."""
        params: dict[str, str] = {}
        node = _walk(self._root, path, 0, params)
        return None if node is None else Match(node.by_method, params, node.allowed)

    def __iter__(self) -> Iterator[Route[H]]:
        return iter(self.routes)

    def operations(self) -> list[Operation]:
        """Every documented operation, in the order of the routes."""
        return [op for r in self.routes for op in r.operations]


def _walk(
    node: _Node[H], path: tuple[str, ...], at: int, params: dict[str, str]
) -> _Node[H] | None:
    if at == len(path):  # the whole path was consumed: a route ends here or none does
        return node if node.by_method else None
    segment = path[at]
    literal = node.literals.get(dasherize(segment))
    if literal is not None:
        found = _walk(literal, path, at + 1, params)
        if found is not None:
            return found
    if node.parameter is not None:
        name, child = node.parameter
        found = _walk(child, path, at + 1, params)
        if found is not None:
            params[name] = segment
            return found
    return None


def _segments(template: str) -> list[str]:
    return [s for s in template.split("/") if s]


def _is_parameter(segment: str) -> bool:
    return segment.startswith("{") and segment.endswith("}")
