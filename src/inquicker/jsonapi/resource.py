"""The declaration type: a resource is declared once and served by the generic handlers."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, FromClause, Select
from sqlalchemy.orm import QueryableAttribute

if TYPE_CHECKING:
    from inquicker.jsonapi.context import ResourceContext

# Bulk loader of a computed attribute: (ctx, pks of one page) -> value per pk, in one query.
# A selectable attribute expression: a mapped attribute or any SQL expression.
Column = ColumnElement[Any] | QueryableAttribute[Any]
# (parent pk, child pk) pairs of a relationship.
Link = Callable[[], Select[Any, Any]]

BulkLoader = Callable[["ResourceContext", Sequence[int]], dict[int, Any]]

# A filter's own way to compute a page: (ctx, resource, the list query, a hashable key of
# the request's filters, offset, size) -> ((pk, meta) of the page in order, total count).
Pager = Callable[
    ["ResourceContext", "Resource", "ListQuery", Hashable, int, int],
    tuple[list[tuple[int, dict[str, Any]]], int],
]


@dataclass(frozen=True, slots=True)
class Attr:
    """An attribute: a selected SQL expression, or a value computed in bulk per page."""

    name: str
    column: Column | None = None
    sortable: bool = False
    loader: BulkLoader | None = None
    default: Any = None
    convert: Callable[[Any], Any] | None = None
    # JSON Schema of the value for the OpenAPI document; derived from ``column``'s SQL type
    # when not given (a loader or a JSON column must give it).
    schema: Mapping[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class Rel:
    """A relationship. ``link`` selects (parent pk, child pk) pairs; the target scopes them."""

    name: str
    target: str
    to_many: bool
    link: Link
    # Former names still answered in URLs and include paths (never rendered): renamed so
    # no attribute shares its name (SPEC section 3), the old links keep working.
    aliases: tuple[str, ...] = ()


@dataclass
class ListQuery:
    """What filters contribute to a list query: conditions, ordering and per-row meta."""

    where: list[ColumnElement[bool]] = field(default_factory=list)
    order_by: list[ColumnElement[Any]] = field(default_factory=list)
    meta: dict[str, ColumnElement[Any]] = field(default_factory=dict)
    # Python-side conversion of meta values (e.g. rounding, which engines spell differently).
    meta_convert: dict[str, Callable[[Any], Any]] = field(default_factory=dict)
    # Outer joins (target, on-clause) the conditions, ordering or meta refer to; each must
    # match at most one row per resource row.
    joins: list[tuple[FromClause, ColumnElement[bool]]] = field(default_factory=list)
    # Set when a filter's ordering must take precedence over the default sort (e.g. near).
    overrides_default_sort: bool = False
    # Set by a filter that can compute the page without SQL ordering (near: nearest first
    # from an in-memory index); used only when the request asks for no sort and nothing
    # outside the filters restricts the list. Must give the SQL path's page exactly.
    pager: Pager | None = None


@dataclass(frozen=True, slots=True)
class Filter:
    """A filter: ``parse`` turns the raw value (string or JSON value) into P or raises
    ValueError with a message for the client; ``apply`` adds to the ListQuery."""

    name: str
    parse: Callable[[Any], Any]
    apply: Callable[[ListQuery, Any, ResourceContext], None]
    # JSON Schema of the bracket spelling's value (filter[name]=...) for the OpenAPI document;
    # a plain string when not given. Fixed sets list their values (``enum``).
    schema: Mapping[str, Any] | None = None
    description: str = ""


@dataclass(frozen=True)
class Resource:
    """A resource type served by the generic handlers."""

    type: str
    table: FromClause
    attributes: tuple[Attr, ...]
    relationships: tuple[Rel, ...] = ()
    filters: tuple[Filter, ...] = ()
    # The tenant scope: which rows this request may see at all.
    scope: Callable[[ResourceContext], Sequence[ColumnElement[bool]]] = lambda ctx: ()
    # Extra joins needed by attribute columns (e.g. a schedule's service name).
    from_clause: Callable[[], FromClause] | None = None
    default_sort: tuple[str, ...] = ()
    description: str = ""

    @property
    def pk(self) -> ColumnElement[int]:
        return self.table.c.pk

    @property
    def id_column(self) -> ColumnElement[str]:
        return self.table.c.slug

    def attribute(self, name: str) -> Attr | None:
        return next((a for a in self.attributes if a.name == name), None)

    def relationship(self, name: str) -> Rel | None:
        """The relationship by its name or by a former name (an alias)."""
        return next(
            (r for r in self.relationships if r.name == name),
            next((r for r in self.relationships if name in r.aliases), None),
        )

    def filter(self, name: str) -> Filter | None:
        return next((f for f in self.filters if f.name == name), None)

    def field_names(self) -> set[str]:
        return {a.name for a in self.attributes} | {r.name for r in self.relationships}


class Registry:
    """All declared resources by type."""

    def __init__(self) -> None:
        self._by_type: dict[str, Resource] = {}

    def add(self, resource: Resource) -> Resource:
        self._by_type[resource.type] = resource
        return resource

    def get(self, type_: str) -> Resource | None:
        return self._by_type.get(type_)

    def __getitem__(self, type_: str) -> Resource:
        return self._by_type[type_]

    def __iter__(self) -> Any:
        return iter(self._by_type.values())
