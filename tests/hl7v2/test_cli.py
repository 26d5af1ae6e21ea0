"""`inquicker hl7 destinations create/list/delete` against each database."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from typer.testing import CliRunner

from inquicker.cli import app
from inquicker.events.models import Hl7Destination
from inquicker.settings import get_settings
from tests.events.conftest import World


@pytest.fixture
def cli(world: World, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    url = world.engine.url.render_as_string(hide_password=False)
    monkeypatch.setenv("INQUICKER_DATABASE_URL", url)
    get_settings.cache_clear()
    yield CliRunner()
    get_settings.cache_clear()


def _create(cli: CliRunner, host: str, port: str) -> str:
    args = ["hl7", "destinations", "create", "--health-system", "reliable"]
    result = cli.invoke(app, [*args, "--host", host, "--port", port])
    assert result.exit_code == 0, result.output
    assert re.fullmatch(r"hl7dst_[0-9a-f]{16}\n", result.output), result.output
    return result.output.strip()


def test_create_list_delete(cli: CliRunner, world: World) -> None:
    first = _create(cli, "ehr.example.org", "2575")
    second = _create(cli, "127.0.0.1", "6661")
    listed = cli.invoke(app, ["hl7", "destinations", "list", "--health-system", "reliable"])
    assert listed.exit_code == 0
    assert [line.split() for line in listed.output.splitlines()] == [
        ["ID", "STATUS", "ADDRESS"],
        [first, "active", "ehr.example.org:2575"],
        [second, "active", "127.0.0.1:6661"],
    ]
    deleted = cli.invoke(app, ["hl7", "destinations", "delete", first])
    assert (deleted.exit_code, deleted.output) == (0, f"deleted {first}\n")
    again = cli.invoke(app, ["hl7", "destinations", "delete", first])
    assert again.exit_code == 1
    assert f"no HL7 destination with id {first!r}" in again.output
    with world.factory() as session:
        assert [d.destination_id for d in session.query(Hl7Destination)] == [second]


@pytest.mark.parametrize(
    ("health_system", "host", "port", "message"),
    [
        ("nowhere", "ehr.example.org", "2575", "no health system with id 'nowhere'"),
        ("reliable", "ehr.example.org", "0", "--port must be between 1 and 65535, not 0"),
        ("reliable", "ehr.example.org", "70000", "--port must be between 1 and 65535"),
        ("reliable", "169.254.169.254", "2575", "169.254.169.254 is a cloud metadata address"),
        ("reliable", "", "2575", "--host must be a host name or an IP address"),
    ],
)
def test_refused_destinations(
    cli: CliRunner, health_system: str, host: str, port: str, message: str
) -> None:
    args = ["hl7", "destinations", "create", "--health-system", health_system]
    result = cli.invoke(app, [*args, "--host", host, "--port", port])
    assert result.exit_code == 1, result.output
    assert message in result.output
