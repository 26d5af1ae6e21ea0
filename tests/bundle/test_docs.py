"""docs/bundle.md stays true: its complete example and its YAML example import as described."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy.orm import Session, sessionmaker

from inquicker.bundle.exporter import export_bundle
from inquicker.bundle.importer import import_bundle
from inquicker.bundle.io import dumps_document, load_document
from inquicker.bundle.result import SectionCounts
from inquicker.db.engine import transaction

from . import plans_of

DOC = Path(__file__).resolve().parents[2] / "docs" / "bundle.md"


def _blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", DOC.read_text(), flags=re.DOTALL)


def _complete_example() -> dict[str, Any]:
    (block,) = [b for b in _blocks("json") if b.startswith("{")]
    document: dict[str, Any] = orjson.loads(block)
    return document


def test_the_complete_example_is_canonical_and_round_trips(
    session_factory: sessionmaker[Session],
) -> None:
    example = _complete_example()
    # Shown exactly as an export writes it.
    assert dumps_document(example).decode() in DOC.read_text()
    with transaction(session_factory) as session:
        import_bundle(session, example)
    with session_factory() as session:
        assert export_bundle(session, "example-health") == example
        # Every level of the hierarchy, as the example intends.
        assert plans_of(session, "1d4e6a8c-2b3f-4a5d-8e7f-9a0b1c2d3e4f") == [
            "acme-gold",
            "medicare",
        ]
        assert plans_of(session, "5b0f2e9a-3c1d-4e8f-9a6b-7c8d9e0f1a2b") == ["medicare"]


def test_the_yaml_example_adds_one_schedule(
    tmp_path: Path, session_factory: sessionmaker[Session]
) -> None:
    with transaction(session_factory) as session:
        import_bundle(session, _complete_example())
    (block,) = _blocks("yaml")
    path = tmp_path / "partial.yaml"
    path.write_text(block)
    with transaction(session_factory) as session:
        result = import_bundle(session, load_document(path))
    assert result.counts["health_system"] == SectionCounts(unchanged=1)
    assert result.counts["schedules"] == SectionCounts(created=1)
    with session_factory() as session:
        exported = export_bundle(session, "example-health")
        # The lakeside location explicitly accepts no plan for primary care.
        assert plans_of(session, "9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c6b") == []
    added = next(s for s in exported["schedules"] if s["location"] == "lakeside")
    assert added["hours"] == [
        {"days": ["tue", "thu"], "opens": "08:30", "closes": "12:00"},
        {"days": ["tue", "thu"], "opens": "13:00", "closes": "16:30"},
    ]
    assert {k: v for k, v in exported.items() if k != "schedules"} == {
        k: v for k, v in _complete_example().items() if k != "schedules"
    }
