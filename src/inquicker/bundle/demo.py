"""The Winter Health demo data set, packaged as a bundle."""

from __future__ import annotations

from importlib.resources import files
from typing import Any

import orjson
from sqlalchemy.orm import Session

from inquicker.bundle.importer import import_bundle
from inquicker.bundle.result import ImportResult

DEMO_HEALTH_SYSTEM = "winter-health"
DEMO_HOSTNAME = "winter-health.inquicker.com"


def demo_document() -> dict[str, Any]:
    """A fresh copy of the Winter Health bundle."""
    raw = files("inquicker.bundle").joinpath("data", "winter-health.json").read_bytes()
    document: dict[str, Any] = orjson.loads(raw)
    return document


def load_demo(session: Session) -> ImportResult:
    """Import (or refresh) the Winter Health demo; the caller commits."""
    return import_bundle(session, demo_document())
