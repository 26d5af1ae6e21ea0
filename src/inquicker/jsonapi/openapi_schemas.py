"""JSON Schemas of JSON:API documents for the OpenAPI document: the shared ones, and those
derived from a resource declaration (attribute types come from the declared SQL columns)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import Column, Label

from inquicker.jsonapi.operations import nullable, ref
from inquicker.jsonapi.resource import Attr, Registry, Resource

URL = {"type": "string", "format": "uri"}

# Python types of SQL columns -> JSON Schema (as orjson renders them).
_JSON_TYPES: dict[type, dict[str, Any]] = {
    str: {"type": "string"},
    int: {"type": "integer"},
    bool: {"type": "boolean"},
    float: {"type": "number"},
    Decimal: {"type": "number"},
}

ERROR_OBJECT: dict[str, Any] = {
    "type": "object",
    "description": "A JSON:API error object.",
    "required": ["status", "code", "title"],
    "properties": {
        "status": {"type": "string", "pattern": "^[1-5][0-9][0-9]$"},
        "code": {"type": "string", "description": "Stable, machine-readable error code."},
        "title": {"type": "string"},
        "detail": {"type": "string"},
        "source": {
            "type": "object",
            "properties": {
                "pointer": {"type": "string", "description": "JSON Pointer into the body."},
                "parameter": {"type": "string", "description": "The query parameter."},
                "header": {"type": "string", "description": "The request header."},
            },
        },
        "meta": {"type": "object"},
    },
}

ERROR_DOCUMENT: dict[str, Any] = {
    "type": "object",
    "description": "Every problem found, not just the first (at most 20; `meta` counts the rest).",
    "required": ["errors"],
    "properties": {
        "errors": {"type": "array", "minItems": 1, "items": ref("ErrorObject")},
        "meta": {"type": "object"},
    },
}

RESOURCE_IDENTIFIER: dict[str, Any] = {
    "type": "object",
    "required": ["type", "id"],
    "properties": {"type": {"type": "string"}, "id": {"type": "string"}},
}

RELATIONSHIP: dict[str, Any] = {
    "type": "object",
    "description": "Links of a relationship; `data` (linkage) when the relationship is included.",
    "required": ["links"],
    "properties": {
        "links": {
            "type": "object",
            "required": ["self", "related"],
            "properties": {"self": URL, "related": URL},
        },
        "data": {
            "anyOf": [
                ref("ResourceIdentifier"),
                {"type": "null"},
                {"type": "array", "items": ref("ResourceIdentifier")},
            ]
        },
    },
}

ANY_RESOURCE: dict[str, Any] = {
    "type": "object",
    "description": "A resource object of any type (in `included`).",
    "required": ["type", "id", "links"],
    "properties": {
        "type": {"type": "string"},
        "id": {"type": "string"},
        "links": ref("SelfLink"),
        "attributes": {"type": "object"},
        "relationships": {"type": "object", "additionalProperties": ref("Relationship")},
        "meta": {"type": "object"},
    },
}

PAGE_LINKS: dict[str, Any] = {
    "type": "object",
    "description": "Page links keep every other query parameter of the request.",
    "required": ["first", "last"],
    "properties": {"first": URL, "last": URL, "prev": URL, "next": URL},
}

LINKAGE_DOCUMENT: dict[str, Any] = {
    "type": "object",
    "required": ["data", "links"],
    "properties": {
        "data": {
            "anyOf": [
                ref("ResourceIdentifier"),
                {"type": "null"},
                {"type": "array", "items": ref("ResourceIdentifier")},
            ]
        },
        "links": {
            "type": "object",
            "required": ["self", "related"],
            "properties": {"self": URL, "related": URL},
        },
    },
}

SHARED: dict[str, dict[str, Any]] = {
    "ErrorObject": ERROR_OBJECT,
    "ErrorDocument": ERROR_DOCUMENT,
    "ResourceIdentifier": RESOURCE_IDENTIFIER,
    "Relationship": RELATIONSHIP,
    "AnyResource": ANY_RESOURCE,
    "SelfLink": {"type": "object", "required": ["self"], "properties": {"self": URL}},
    "PageLinks": PAGE_LINKS,
    "LinkageDocument": LINKAGE_DOCUMENT,
}


def schema_name(type_: str) -> str:
    """Component name of a resource type: insurance-plans -> InsurancePlans."""
    return "".join(part.capitalize() for part in type_.split("-"))


def attribute_schema(attr: Attr) -> dict[str, Any]:
    """The declared schema, else one read off the SQL column (nullable when the column is)."""
    if attr.schema is not None:
        return dict(attr.schema)
    if attr.column is None:
        return {}
    expression: Any = getattr(attr.column, "expression", attr.column)
    column = expression.element if isinstance(expression, Label) else expression
    try:
        python_type = column.type.python_type
    except (AttributeError, NotImplementedError):
        return {}
    base = _JSON_TYPES.get(python_type, {})
    if attr.convert is not None and python_type in (int, Decimal):
        base = {"type": "number"}  # a conversion (e.g. to float) may change the JSON type
    # Only a column known to refuse NULL is promised non-null.
    return dict(base) if isinstance(column, Column) and not column.nullable else nullable(base)


def resource_schema(resource: Resource) -> dict[str, Any]:
    """The resource object of one type; sparse fieldsets may leave out any member."""
    properties: dict[str, Any] = {
        "type": {"type": "string", "const": resource.type},
        "id": {"type": "string"},
        "links": ref("SelfLink"),
        "attributes": {
            "type": "object",
            "properties": {a.name: attribute_schema(a) for a in resource.attributes},
        },
        "meta": {"type": "object"},
    }
    if resource.relationships:
        properties["relationships"] = {
            "type": "object",
            "properties": {r.name: ref("Relationship") for r in resource.relationships},
        }
    return {
        "type": "object",
        "description": resource.description,
        "required": ["type", "id", "links"],
        "properties": properties,
    }


def resource_components(registry: Registry) -> dict[str, dict[str, Any]]:
    """Per type: the resource object, its collection, single and related-single documents."""
    out: dict[str, dict[str, Any]] = {}
    included = {"type": "array", "items": ref("AnyResource")}
    for resource in registry:
        name = schema_name(resource.type)
        out[name] = resource_schema(resource)
        out[f"{name}Collection"] = {
            "type": "object",
            "required": ["data", "meta", "links"],
            "properties": {
                "data": {"type": "array", "items": ref(name)},
                "included": included,
                "meta": {
                    "type": "object",
                    "required": ["record-count"],
                    "properties": {"record-count": {"type": "integer", "minimum": 0}},
                },
                "links": ref("PageLinks"),
            },
        }
        out[f"{name}Document"] = {
            "type": "object",
            "required": ["data", "links"],
            "properties": {"data": ref(name), "included": included, "links": ref("SelfLink")},
        }
        out[f"{name}RelatedDocument"] = {
            "type": "object",
            "required": ["data", "links"],
            "properties": {
                "data": nullable(ref(name)),
                "included": included,
                "links": ref("SelfLink"),
            },
        }
    return out
