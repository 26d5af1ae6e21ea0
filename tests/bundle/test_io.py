"""Reading and writing bundle files."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from inquicker.bundle.demo import demo_document
from inquicker.bundle.io import dumps_document, load_document, write_document
from inquicker.bundle.schema import BundleError, Problem

YAML_BUNDLE = """\
format: inquicker-bundle/1
health_system:
  id: summer-health
  name: Summer Health
  hold_minutes: 15
locations:
  - id: boston-main
    name: Summer Health Boston
    zip: 02115          # a leading zero: stays a string, not octal or 2115
    latitude: 42.3361
    longitude: -71.1050
schedules:
  - id: 7B0F5D6E-1A2B-4C3D-8E9F-0A1B2C3D4E5F
    hours:
      - days: [mon, tue]
        opens: 08:00
        closes: 13:00   # YAML 1.1 would read this as the integer 780
    exceptions:
      - date: 2026-12-25  # stays a string, not a date object
        closed: yes       # a word, not a boolean: refused with a clear message
"""


def test_json_files_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "bundle.json"
    write_document(demo_document(), path)
    assert load_document(path) == demo_document()


def test_written_json_keeps_short_lists_on_one_line() -> None:
    text = dumps_document(demo_document()).decode()
    assert '      "hours": [{"days": ["sat"], "opens": "09:00", "closes": "12:00"}],\n' in text
    assert '        {"days": ["sat", "sun"], "opens": "08:00", "closes": "16:00"}\n' in text
    assert '    {"id": "east-tennessee", "name": "East Tennessee"},\n' in text
    assert text.endswith("}\n")
    assert orjson.loads(text) == demo_document()


def test_the_packaged_demo_file_is_written_canonically() -> None:
    packaged = Path(__file__).resolve().parents[2] / "src/inquicker/bundle/data/winter-health.json"
    assert packaged.read_bytes() == dumps_document(demo_document())


@pytest.mark.parametrize("suffix", [".yaml", ".yml", ".YAML"])
def test_yaml_scalars_follow_yaml_1_2(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"bundle{suffix}"
    path.write_text(YAML_BUNDLE)
    document = load_document(path)
    assert document["health_system"] == {
        "id": "summer-health",
        "name": "Summer Health",
        "hold_minutes": 15,
    }
    assert document["locations"][0]["zip"] == "02115"
    assert document["locations"][0]["latitude"] == 42.3361
    hours = document["schedules"][0]["hours"][0]
    assert hours == {"days": ["mon", "tue"], "opens": "08:00", "closes": "13:00"}
    assert document["schedules"][0]["exceptions"] == [{"date": "2026-12-25", "closed": "yes"}]


def test_yaml_anchors_and_merge_keys_work(tmp_path: Path) -> None:
    path = tmp_path / "bundle.yaml"
    path.write_text(
        "base: &base {opens: '08:00', closes: '12:00'}\nentry: {<<: *base, days: [mon]}\n"
    )
    assert load_document(path)["entry"] == {"opens": "08:00", "closes": "12:00", "days": ["mon"]}


def _only_problem(exc: pytest.ExceptionInfo[BundleError]) -> Problem:
    assert len(exc.value.problems) == 1
    return exc.value.problems[0]


def test_a_missing_file_is_one_problem(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.json"
    with pytest.raises(BundleError) as exc:
        load_document(path)
    assert _only_problem(exc) == Problem("", f"{path}: No such file or directory")


def test_a_directory_is_one_problem(tmp_path: Path) -> None:
    with pytest.raises(BundleError) as exc:
        load_document(tmp_path)
    assert _only_problem(exc) == Problem("", f"{tmp_path}: Is a directory")


def test_invalid_json_names_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "bundle.json"
    path.write_text('{\n  "format": "inquicker-bundle/1",\n  "health_system": {,}\n}\n')
    with pytest.raises(BundleError) as exc:
        load_document(path)
    message = _only_problem(exc).message
    assert message.startswith(f"{path}: not valid JSON: line 3, column 21: ")
    assert "\n" not in message


def test_invalid_yaml_names_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "bundle.yaml"
    path.write_text("format: inquicker-bundle/1\nhealth_system: [unclosed\n")
    with pytest.raises(BundleError) as exc:
        load_document(path)
    message = _only_problem(exc).message
    assert message.startswith(f"{path}: not valid YAML: line 3, column 1: ")


def test_yaml_cannot_construct_python_objects(tmp_path: Path) -> None:
    path = tmp_path / "bundle.yaml"
    path.write_text("format: !!python/object/apply:os.system ['true']\n")
    with pytest.raises(BundleError) as exc:
        load_document(path)
    assert "not valid YAML" in _only_problem(exc).message


@pytest.mark.parametrize(("name", "content"), [("a.json", "[1, 2]"), ("a.yaml", "- 1\n- 2\n")])
def test_the_top_level_must_be_an_object(tmp_path: Path, name: str, content: str) -> None:
    path = tmp_path / name
    path.write_text(content)
    with pytest.raises(BundleError) as exc:
        load_document(path)
    assert _only_problem(exc) == Problem(
        "", f"{path}: the bundle must be an object (a mapping of sections)"
    )


def test_bundle_error_message_is_one_line_with_a_count() -> None:
    error = BundleError([Problem("regions[0].id", "bad"), Problem("format", "worse")])
    assert str(error) == "regions[0].id: bad (and 1 more)"
