"""Reading bundle files (JSON, or YAML for .yaml/.yml) and writing them as JSON."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import orjson
import yaml

from inquicker.bundle.schema import BundleError, Problem


class _BundleLoader(yaml.SafeLoader):
    """A safe loader with YAML 1.2 core-schema scalars.

    PyYAML follows YAML 1.1, where ``13:00`` is the integer 780 (base 60), ``2026-12-25``
    a date object, ``01234`` an octal number and ``no`` a boolean. In a bundle those are
    times, dates, zip codes and words, so only 1.2's null/true/false/int/float are typed
    here and everything else stays a string.
    """


_BundleLoader.yaml_implicit_resolvers = {}
for _tag, _pattern, _first in (
    ("tag:yaml.org,2002:null", r"~|null|Null|NULL|", ["~", "n", "N", ""]),
    ("tag:yaml.org,2002:bool", r"true|True|TRUE|false|False|FALSE", list("tTfF")),
    ("tag:yaml.org,2002:int", r"[-+]?[0-9]+", list("-+0123456789")),
    (
        "tag:yaml.org,2002:float",
        r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
        r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)",
        list("-+.0123456789"),
    ),
    ("tag:yaml.org,2002:merge", r"<<", ["<"]),
):
    _BundleLoader.add_implicit_resolver(_tag, re.compile(f"^(?:{_pattern})$"), _first)

# 1.2 reads "01234" as the integer 1234; a leading zero is almost always a zip code here.
_LEADING_ZERO = re.compile(r"^[-+]?0[0-9]")


def _construct_int(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> int | str:
    value = loader.construct_scalar(node)
    return value if _LEADING_ZERO.match(value) else int(value)


_BundleLoader.add_constructor("tag:yaml.org,2002:int", _construct_int)


def _fail(name: str, message: str) -> BundleError:
    return BundleError([Problem("", f"{name}: {message}")])


def load_document(path: Path) -> dict[str, Any]:
    """Read a bundle file: YAML for .yaml/.yml, JSON otherwise; BundleError if unusable."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise _fail(str(path), exc.strerror or "cannot be read") from None
    return loads_document(raw, str(path))


def loads_document(raw: bytes, name: str) -> dict[str, Any]:
    """A bundle from the bytes of a file called ``name`` (an upload): YAML when the name ends
    in .yaml/.yml, JSON otherwise; BundleError, naming ``name``, if unusable."""
    if name.lower().endswith((".yaml", ".yml")):
        try:
            document = yaml.load(raw, Loader=_BundleLoader)  # noqa: S506 (a SafeLoader)
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark
            where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
            raise _fail(name, f"not valid YAML: {where}{exc.problem}") from None
        except yaml.YAMLError as exc:
            raise _fail(name, f"not valid YAML: {exc}") from None
    else:
        try:
            document = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise _fail(
                name, f"not valid JSON: line {exc.lineno}, column {exc.colno}: {exc.msg}"
            ) from None
    if not isinstance(document, dict):
        raise _fail(name, "the bundle must be an object (a mapping of sections)")
    return document


_WIDTH = 100


def _compact(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(", ", ": "), allow_nan=False)


def _pretty(value: Any, indent: int, used: int, out: list[str]) -> None:
    """Append ``value`` at nesting ``indent``, starting ``used`` columns into the line."""
    # Short lists and objects stay on one line (e.g. "days": ["mon", "tue"]), so a bundle
    # reads like hand-written JSON instead of one token per line.
    compact = _compact(value)
    if not isinstance(value, dict | list) or not value or used + len(compact) <= _WIDTH:
        out.append(compact)
        return
    pad = " " * (indent + 2)
    items: list[tuple[str | None, Any]]
    if isinstance(value, dict):
        items, brackets = list(value.items()), "{}"
    else:
        items, brackets = [(None, item) for item in value], "[]"
    out.append(brackets[0] + "\n")
    for position, (key, item) in enumerate(items):
        label = _compact(key) + ": " if key is not None else ""
        out.append(pad + label)
        _pretty(item, indent + 2, indent + 2 + len(label), out)
        out.append(",\n" if position < len(items) - 1 else "\n")
    out.append(" " * indent + brackets[1])


def dumps_document(document: dict[str, Any]) -> bytes:
    """A bundle as indented UTF-8 JSON (short lists and objects inline), newline-terminated."""
    out: list[str] = []
    _pretty(document, 0, 0, out)
    out.append("\n")
    return "".join(out).encode()


def write_document(document: dict[str, Any], path: Path) -> None:
    """Write a bundle to a JSON file."""
    path.write_bytes(dumps_document(document))
