"""Parse include / fields / sort / page / filter into a typed Query, reporting every problem."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from inquicker.jsonapi.errors import ErrorObject, bad_parameter
from inquicker.jsonapi.jsondepth import MAX_DEPTH, too_deep
from inquicker.jsonapi.params import unknown_parameters
from inquicker.jsonapi.resource import Registry, Resource

_BRACKET = re.compile(r"^(?P<family>[a-z_]+)\[(?P<member>[^\[\]]*)\]$")
MAX_INCLUDE_DEPTH = 3
MAX_PAGE_NUMBER = 10_000_000
# What the generic resource routes take besides api_key and "_".
KNOWN_PARAMETERS = frozenset({"include", "sort", "filter"})
PARAMETER_FAMILIES = frozenset({"fields", "page", "filter"})


@dataclass(frozen=True)
class Query:
    include: tuple[tuple[str, ...], ...] = ()
    fields: dict[str, frozenset[str]] = field(default_factory=dict)
    sort: tuple[tuple[str, bool], ...] = ()  # (attribute, descending)
    page_number: int = 1
    page_size: int = 10
    filters: dict[str, Any] = field(default_factory=dict)  # filter name -> parsed value
    # filter name -> the parameter it came in ("filter" or "filter[name]"), for errors
    filter_parameters: dict[str, str] = field(default_factory=dict)
    # Problems found while parsing; raised together with those found applying filters.
    problems: tuple[ErrorObject, ...] = ()
    # Rows skipped before the page; set by page[offset]/page[limit], else from the number.
    page_offset: int | None = None

    @property
    def offset(self) -> int:
        return (
            self.page_offset
            if self.page_offset is not None
            else (self.page_number - 1) * self.page_size
        )

    def include_tree(self) -> dict[str, Any]:
        """Include paths as a nested dict: a.b,a.c -> {a: {b: {}, c: {}}}."""
        tree: dict[str, Any] = {}
        for path in self.include:
            node = tree
            for name in path:
                node = node.setdefault(name, {})
        return tree


def dasherize(name: str) -> str:
    return name.replace("_", "-")


def parse_query(
    params: Sequence[tuple[str, str]],
    resource: Resource,
    registry: Registry,
    *,
    default_size: int,
    max_size: int,
    collection: bool,
) -> Query:
    """Validate the JSON:API query parameters against ``resource``; problems are collected in
    ``Query.problems`` for the caller to raise (with any found later) together."""
    errors = unknown_parameters(params, KNOWN_PARAMETERS, PARAMETER_FAMILIES)
    include: tuple[tuple[str, ...], ...] = ()
    fields: dict[str, frozenset[str]] = {}
    sort: tuple[tuple[str, bool], ...] = ()
    page: dict[str, int] = {}
    raw_filters: dict[str, tuple[str, Any]] = {}  # name -> (parameter spelling, raw value)

    for key, value in params:
        match = _BRACKET.match(key)
        if key == "include":
            include = _parse_include(value, resource, registry, errors)
        elif key == "sort":
            sort = _parse_sort(value, resource, errors) if collection else ()
        elif key == "filter":
            _parse_filter_json(value, raw_filters, errors)
        elif match and match["family"] == "fields":
            _parse_fields(match["member"], value, registry, fields, errors)
        elif match and match["family"] == "page":
            _parse_page(key, match["member"], value, page, max_size, errors)
        elif match and match["family"] == "filter":
            raw_filters[dasherize(match["member"])] = (key, value)

    filters = _parse_filters(raw_filters, resource, errors) if collection else {}
    spellings = {name: parameter for name, (parameter, _) in raw_filters.items()}
    number, size, offset = _page_window(page, default_size, errors)
    return Query(
        include, fields, sort, number, size, filters, spellings, tuple(errors), page_offset=offset
    )


def _page_window(
    page: dict[str, int], default_size: int, errors: list[ErrorObject]
) -> tuple[int, int, int | None]:
    """(number, size, offset): page[number]/page[size], or the page[offset]/page[limit]
    spelling (offset None for the former); mixing the two is refused."""
    if {"offset", "limit"} & page.keys():
        if {"number", "size"} & page.keys():
            errors.append(
                bad_parameter(
                    "page",
                    "Use page[number]/page[size] or page[offset]/page[limit], not both.",
                    code="invalid-page",
                )
            )
        size = page.get("limit", default_size)
        offset = page.get("offset", 0)
        return offset // size + 1, size, offset
    return page.get("number", 1), page.get("size", default_size), None


def _parse_include(
    value: str, resource: Resource, registry: Registry, errors: list[ErrorObject]
) -> tuple[tuple[str, ...], ...]:
    paths: list[tuple[str, ...]] = []
    for raw in value.split(","):
        raw = raw.strip()
        if not raw:
            continue
        path = tuple(dasherize(p) for p in raw.split("."))
        if len(path) > MAX_INCLUDE_DEPTH:
            errors.append(
                bad_parameter("include", f"Include path '{raw}' is deeper than 3 levels.")
            )
            continue
        current: Resource | None = resource
        canonical: list[str] = []
        for name in path:
            rel = current.relationship(name) if current else None
            if rel is None:
                errors.append(
                    bad_parameter(
                        "include",
                        f"'{raw}' is not a relationship path of {resource.type}.",
                        code="invalid-include",
                    )
                )
                break
            canonical.append(rel.name)
            current = registry.get(rel.target)
        else:
            paths.append(tuple(canonical))
    return tuple(dict.fromkeys(paths))


def _parse_sort(
    value: str, resource: Resource, errors: list[ErrorObject]
) -> tuple[tuple[str, bool], ...]:
    out: list[tuple[str, bool]] = []
    # Each distinct term once: "sort=a,a,a,…" is one problem, not thousands.
    for raw in dict.fromkeys(value.split(",")):
        raw = raw.strip()
        if not raw:
            continue
        desc = raw.startswith("-")
        name = dasherize(raw.lstrip("-"))
        attr = resource.attribute(name)
        if attr is None or not attr.sortable:
            sortable = ", ".join(a.name for a in resource.attributes if a.sortable) or "none"
            errors.append(
                bad_parameter(
                    "sort",
                    f"'{name}' is not a sortable field of {resource.type} (sortable: {sortable}).",
                    code="invalid-sort",
                )
            )
            continue
        out.append((name, desc))
    return tuple(out)


def _parse_fields(
    type_: str,
    value: str,
    registry: Registry,
    fields: dict[str, frozenset[str]],
    errors: list[ErrorObject],
) -> None:
    parameter = f"fields[{type_}]"
    target = registry.get(dasherize(type_))
    if target is None:
        errors.append(bad_parameter(parameter, f"'{type_}' is not a resource type."))
        return
    names = {dasherize(n.strip()) for n in value.split(",") if n.strip()}
    unknown = sorted(names - target.field_names())
    if unknown:
        errors.append(
            bad_parameter(
                parameter,
                f"Unknown field(s) of {target.type}: {', '.join(unknown)}.",
                code="invalid-field",
            )
        )
        return
    fields[target.type] = frozenset(names)


def _parse_page(
    key: str,
    member: str,
    value: str,
    page: dict[str, int],
    max_size: int,
    errors: list[ErrorObject],
) -> None:
    if member not in ("number", "size", "offset", "limit"):
        errors.append(
            bad_parameter(
                key,
                "Pages are page[number] and page[size], or page[offset] and page[limit].",
            )
        )
        return
    lower = 0 if member == "offset" else 1
    upper = {
        "size": max_size,
        "limit": max_size,
        "number": MAX_PAGE_NUMBER,
        "offset": MAX_PAGE_NUMBER * max_size,
    }[member]
    # isascii: str.isdigit accepts "²" and "１", which int() refuses or reads as digits.
    # The length bound keeps int() away from a 100,000-digit number.
    ok = value.isascii() and value.isdigit() and len(value) <= 12
    if not ok or not lower <= int(value) <= upper:
        errors.append(
            bad_parameter(
                key,
                f"{key} must be an integer from {lower} to {upper}.",
                code="invalid-page",
            )
        )
        return
    page[member] = int(value)


def _parse_filter_json(
    value: str, raw_filters: dict[str, tuple[str, Any]], errors: list[ErrorObject]
) -> None:
    if too_deep(value.encode("utf-8", "replace")):
        errors.append(
            bad_parameter(
                "filter", f"filter may nest at most {MAX_DEPTH} levels.", code="invalid-filter"
            )
        )
        return
    try:
        parsed = orjson.loads(value)
    except orjson.JSONDecodeError:
        errors.append(
            bad_parameter(
                "filter",
                'filter must be a JSON object, e.g. filter={"service":"primary-care"}, '
                "or use filter[name]=value.",
                code="invalid-filter",
            )
        )
        return
    if not isinstance(parsed, dict):
        errors.append(bad_parameter("filter", "filter must be a JSON object.", "invalid-filter"))
        return
    for name, raw in parsed.items():
        raw_filters[dasherize(str(name))] = ("filter", raw)


def _parse_filters(
    raw_filters: dict[str, tuple[str, Any]], resource: Resource, errors: list[ErrorObject]
) -> dict[str, Any]:
    parsed: dict[str, Any] = {}
    for name, (parameter, raw) in raw_filters.items():
        spelled = parameter  # "filter" for the JSON spelling, "filter[name]" otherwise
        flt = resource.filter(name)
        if flt is None:
            known = ", ".join(f.name for f in resource.filters) or "none"
            errors.append(
                bad_parameter(
                    spelled,
                    f"'{name}' is not a filter of {resource.type} (filters: {known}).",
                    code="invalid-filter",
                )
            )
            continue
        try:
            parsed[name] = flt.parse(raw)
        except ValueError as exc:
            errors.append(
                bad_parameter(spelled, f"Filter '{name}': {exc}", code="invalid-filter-value")
            )
    return parsed
