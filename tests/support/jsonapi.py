"""Validation of every JSON:API response against the official 1.0 schema."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

SCHEMA_PATH = (
    Path(__file__).resolve().parents[2].parent / "shared" / "jsonapi-schema" / "schema.json"
)


def _rewrite(node: Any) -> Any:
    """Two meaning-preserving rewrites python-jsonschema needs (see the schema's README)."""
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key == "patternProperties" and isinstance(value, dict) and "" in value:
                value = {("^" if k == "" else k): v for k, v in value.items()}
            if key == "dependencies" and isinstance(value, dict):
                required = {k: v for k, v in value.items() if isinstance(v, list)}
                schemas = {k: v for k, v in value.items() if not isinstance(v, list)}
                if required:
                    out["dependentRequired"] = required
                if schemas:
                    out["dependentSchemas"] = _rewrite(schemas)
                continue
            out[key] = _rewrite(value)
        return out
    if isinstance(node, list):
        return [_rewrite(v) for v in node]
    return node


@lru_cache(maxsize=1)
def validator() -> Draft202012Validator:
    if not SCHEMA_PATH.exists():
        raise RuntimeError(
            f"JSON:API schema not found at {SCHEMA_PATH} (shared/ must sit beside the repo)"
        )
    return Draft202012Validator(_rewrite(json.loads(SCHEMA_PATH.read_text())))


def assert_valid_document(document: Any) -> None:
    """Fail with every schema violation of a response document."""
    errors = sorted(validator().iter_errors(document), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors[:10])
