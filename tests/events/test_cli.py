"""`inquicker webhooks create/list/delete/replay/deliveries` against each database."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pytest
from typer.testing import CliRunner

from inquicker.cli import app
from inquicker.events.models import WebhookSubscription
from inquicker.settings import get_settings
from tests.events.conftest import World
from tests.events.receiver import Answer, running_receiver


@pytest.fixture
def cli(world: World, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    url = world.engine.url.render_as_string(hide_password=False)
    monkeypatch.setenv("INQUICKER_DATABASE_URL", url)
    get_settings.cache_clear()
    yield CliRunner()
    get_settings.cache_clear()


def _create(cli: CliRunner, *args: str) -> tuple[str, str]:
    result = cli.invoke(app, ["webhooks", "create", "--health-system", "reliable", *args])
    assert result.exit_code == 0, result.output
    found = re.search(
        r"subscription id: (whsub_[0-9a-f]{16})\nsigning secret:  (whsec_\S+)\n", result.output
    )
    assert found is not None, result.output
    return found[1], found[2]


def test_create_list_delete(cli: CliRunner, world: World) -> None:
    sub_id, secret = _create(
        cli, "--url", "https://ehr.example.org/in", "--events", "visit.booked,visit.cancelled"
    )
    _create(cli, "--url", "http://127.0.0.1:9000/", "--include-patient-data")
    listed = cli.invoke(app, ["webhooks", "list", "--health-system", "reliable"])
    assert listed.exit_code == 0
    lines = listed.output.splitlines()
    assert lines[0].split() == ["ID", "STATUS", "PATIENT", "EVENTS", "URL"]
    assert lines[1].split() == [
        sub_id,
        "active",
        "no",
        "visit.booked,visit.cancelled",
        "https://ehr.example.org/in",
    ]
    assert lines[2].split()[1:] == ["active", "yes", "all", "http://127.0.0.1:9000/"]
    assert secret not in listed.output  # shown once, at creation
    with world.factory() as session:
        stored = session.query(WebhookSubscription).filter_by(subscription_id=sub_id).one()
        assert stored.secret == secret
    deleted = cli.invoke(app, ["webhooks", "delete", sub_id])
    assert (deleted.exit_code, deleted.output) == (0, f"deleted {sub_id}\n")
    again = cli.invoke(app, ["webhooks", "delete", sub_id])
    assert again.exit_code == 1
    assert again.output == f"error: no webhook subscription with id {sub_id!r}\n"
    listed = cli.invoke(app, ["webhooks", "list", "--health-system", "reliable"])
    assert len(listed.output.splitlines()) == 2


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        (["--url", "http://169.254.169.254/"], "169.254.169.254 is a cloud metadata address"),
        (["--url", "gopher://x/"], "the URL must start with http:// or https://"),
        (
            ["--url", "http://ehr.example.org/", "--include-patient-data"],
            "--include-patient-data needs an https:// URL (or http:// to a loopback address)",
        ),
        (
            ["--url", "https://ehr.example.org/", "--events", "visit.moved"],
            "unknown event type 'visit.moved'; known: visit.booked, visit.cancelled, "
            "visit.checked-in, visit.no-show, visit.completed, visit.rescheduled",
        ),
    ],
)
def test_create_refusals_exit_1_with_one_line(cli: CliRunner, args: list[str], reason: str) -> None:
    result = cli.invoke(app, ["webhooks", "create", "--health-system", "reliable", *args])
    assert (result.exit_code, result.output) == (1, f"error: {reason}\n")


def test_unknown_health_system(cli: CliRunner) -> None:
    result = cli.invoke(app, ["webhooks", "list", "--health-system", "nowhere"])
    assert (result.exit_code, result.output) == (1, "error: no health system with id 'nowhere'\n")


def test_replay_one_delivery_and_since_a_time(cli: CliRunner, world: World) -> None:
    with running_receiver(behaviour=lambda _r, n: Answer(500) if n == 1 else Answer()) as rx:
        world.visit("Old")  # before the subscription: only replay --since sends it
        with world.deliverer() as d:
            d.prepare()
            sub_id, _ = _create(cli, "--url", rx.base)
            world.visit("New", minute=30)
            d.prepare()
            assert [r.outcome for r in d.deliver()] == ["http-error"]
            world.clock.advance(5)
            assert [r.outcome for r in d.deliver()] == ["success"]
            [delivery] = world.deliveries()

            shown = cli.invoke(app, ["webhooks", "deliveries", str(delivery.pk)])
            assert shown.exit_code == 0
            lines = shown.output.splitlines()
            assert lines[0] == (
                f"delivery {delivery.pk}  event {delivery.event_pk} visit.booked  delivered"
            )
            assert lines[1].split()[1:] == ["http-error", lines[1].split()[2], "ms", "500"]
            assert lines[3].split()[1:] == ["success", lines[3].split()[2], "ms", "200"]

            replayed = cli.invoke(app, ["webhooks", "replay", str(delivery.pk)])
            assert replayed.output == f"delivery {delivery.pk} will be sent again\n"
            assert [r.outcome for r in d.deliver()] == ["success"]

            since = cli.invoke(
                app,
                ["webhooks", "replay", "--subscription", sub_id, "--since", "2000-01-01T00:00:00Z"],
            )
            assert since.output == f"2 deliveries of {sub_id} will be sent again\n"
            assert sorted(r.outcome for r in d.deliver()) == ["success", "success"]
    names = [r.body["data"]["visit"]["id"] for r in rx.received]
    assert len(names) == 5
    assert len(set(rx.ids())) == 2  # the same two events, always under their own webhook-id
    assert {d.status for d in world.deliveries()} == {"delivered"}


def test_replay_refusals(cli: CliRunner) -> None:
    both = cli.invoke(app, ["webhooks", "replay"])
    assert (both.exit_code, both.output) == (
        1,
        "error: give a DELIVERY_ID, or --subscription ID and --since TIME\n",
    )
    missing = cli.invoke(app, ["webhooks", "replay", "999"])
    assert missing.output == "error: no webhook delivery with id 999\n"
    bad_time = cli.invoke(
        app, ["webhooks", "replay", "--subscription", "whsub_x", "--since", "yesterday"]
    )
    assert bad_time.exit_code == 1
    assert bad_time.output.startswith("error: --since must be an ISO 8601 time")


def test_webhook_changes_are_audited_without_the_secret(cli: CliRunner, world: World) -> None:
    sub_id, secret = _create(cli, "--url", "https://ehr.example.org/in")
    assert cli.invoke(app, ["webhooks", "delete", sub_id]).exit_code == 0
    exported = cli.invoke(app, ["audit", "export"])
    assert exported.exit_code == 0, exported.output
    lines = [json.loads(line) for line in exported.output.splitlines()]
    webhook = [(e["actor"], e["action"]) for e in lines if e["action"].startswith("webhook.")]
    assert webhook == [("cli", "webhook.create"), ("cli", "webhook.delete")]
    assert secret not in exported.output
    assert all(e["patient-data"] is False for e in lines)
