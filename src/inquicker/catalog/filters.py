"""Filter value parsers shared by catalog declarations."""

from __future__ import annotations

from typing import Any

MAX_FILTER_VALUES = 100


def string_list(raw: Any) -> list[str]:
    """Comma-separated values (bracket spelling) or a JSON string/number/list of them."""
    values = [_scalar(v) for v in raw] if isinstance(raw, list) else _scalar(raw).split(",")
    out = [v.strip() for v in values if v.strip()]
    if not out:
        raise ValueError("a value is required.")
    if len(out) > MAX_FILTER_VALUES:
        raise ValueError(f"at most {MAX_FILTER_VALUES} values are allowed.")
    return out


def _scalar(value: Any) -> str:
    if isinstance(value, str) and "\x00" in value:
        raise ValueError("values may not contain NUL characters.")
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    raise ValueError("expected a string, a number or a list of them.")


def choice(mapping: dict[str, str]) -> Choice:
    """Values from a fixed set (case-insensitive), mapped to their stored form."""
    return Choice(mapping)


class Choice:
    """The parse function of a fixed set of values; it also describes the set (OpenAPI)."""

    def __init__(self, mapping: dict[str, str]) -> None:
        self.mapping = mapping
        self.lowered = {k.lower(): v for k, v in mapping.items()}

    def __call__(self, raw: Any) -> list[str]:
        values = string_list(raw)
        bad = [v for v in values if v.lower() not in self.lowered]
        if bad:
            allowed = ", ".join(self.mapping)
            raise ValueError(f"unknown value(s) {', '.join(bad)}; allowed: {allowed}.")
        return list(dict.fromkeys(self.lowered[v.lower()] for v in values))

    @property
    def openapi_schema(self) -> dict[str, Any]:
        """The allowed values, for the OpenAPI document (several may be comma-separated)."""
        return {"type": "string", "enum": list(self.mapping)}


BOOLEAN_SCHEMA = {"type": "string", "enum": ["true", "false", "1", "0", "yes", "no"]}


def boolean(raw: Any) -> bool:
    """true/false, 1/0, yes/no, or a JSON boolean."""
    if isinstance(raw, bool):
        return raw
    text = _scalar(raw).strip().lower()
    if text in ("true", "1", "yes"):
        return True
    if text in ("false", "0", "no"):
        return False
    raise ValueError("expected true or false.")
