"""`inquicker maintenance on|off|status` and `inquicker keys create --rate` through the CLI,
seen by a running app (SPEC section 8b)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from inquicker.app import create_app
from inquicker.cli import app as cli_app
from inquicker.settings import Settings, get_settings
from tests.api.helpers import url
from tests.conftest import ApiClient
from tests.support.seed import ALPHA_HOST, Keys


@pytest.fixture
def cli(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    monkeypatch.setenv("INQUICKER_DATABASE_URL", engine.url.render_as_string(hide_password=False))
    get_settings.cache_clear()
    yield CliRunner()
    get_settings.cache_clear()


def test_maintenance_on_off_status(
    cli: CliRunner, engine: Engine, settings: Settings, keys: Keys
) -> None:
    app = create_app(settings, engine=engine)
    with ApiClient(app) as client:
        on = cli.invoke(cli_app, ["maintenance", "on", "--retry-after", "90"])
        assert on.exit_code == 0, on.output
        assert "Retry-After: 90" in on.output
        status = cli.invoke(cli_app, ["maintenance", "status"])
        assert status.output.startswith("maintenance on since ")
        app.state.maintenance.expire()
        refused = client.get(url("/locations", keys.alpha_read))
        assert refused.status_code == 503
        assert refused.headers["retry-after"] == "90"
        assert refused.json()["errors"][0]["code"] == "maintenance"
        off = cli.invoke(cli_app, ["maintenance", "off"])
        assert (off.exit_code, off.output) == (0, "maintenance off\n")
        assert cli.invoke(cli_app, ["maintenance", "status"]).output == "maintenance off\n"
        app.state.maintenance.expire()
        assert client.get(url("/locations", keys.alpha_read)).status_code == 200
    bad = cli.invoke(cli_app, ["maintenance", "on", "--retry-after", "0"])
    assert bad.exit_code != 0


def test_a_key_created_with_its_own_rate_is_limited_to_it(
    cli: CliRunner, engine: Engine, settings: Settings, keys: Keys
) -> None:
    made = cli.invoke(
        cli_app,
        ["keys", "create", "--site", ALPHA_HOST, "--scopes", "read", "--rate", "2/minute"],
    )
    assert made.exit_code == 0, made.output
    found = re.search(r"iqk_[A-Za-z0-9_-]+", made.output)
    assert found is not None, made.output
    key = found[0]
    listed = cli.invoke(cli_app, ["keys", "list", "--site", ALPHA_HOST])
    assert "2/minute" in listed.output
    assert key not in listed.output
    with ApiClient(create_app(settings, engine=engine)) as client:
        first = client.get(url("/services", key))
        assert first.status_code == 200
        assert (first.headers["ratelimit-limit"], first.headers["ratelimit-remaining"]) == (
            "2",
            "1",
        )
        assert client.get(url("/services", key)).status_code == 200
        third = client.get(url("/services", key))
        assert third.status_code == 429
        assert int(third.headers["retry-after"]) >= 1
        assert third.json()["errors"][0]["status"] == "429"
    bad = cli.invoke(cli_app, ["keys", "create", "--site", ALPHA_HOST, "--rate", "lots"])
    assert bad.exit_code != 0
    assert bad.output.startswith("error:") or "rate" in bad.output.lower()
