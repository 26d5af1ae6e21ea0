"""`inquicker webhooks ...` and `inquicker worker` (registered by inquicker/cli.py)."""

from __future__ import annotations

import logging
import signal
import threading
import time
from datetime import UTC, datetime
from typing import Annotated

import typer

from inquicker.cli import cli_audit, fail, settings, unit_of_work
from inquicker.events.subscriptions import SubscriptionError

webhooks_app: typer.Typer = typer.Typer(
    help="Manage webhook subscriptions and deliveries.", no_args_is_help=True
)


@webhooks_app.command("create")
def create(
    health_system: Annotated[str, typer.Option("--health-system", help="The health system's id.")],
    url: Annotated[str, typer.Option("--url", help="Where to POST events (http/https).")],
    events: Annotated[
        str | None, typer.Option("--events", help="Comma-separated event types (default: all).")
    ] = None,
    include_patient_data: Annotated[
        bool,
        typer.Option(
            "--include-patient-data",
            help="Add the visit's patient fields (https://, or http:// to loopback only).",
        ),
    ] = False,
) -> None:
    """Subscribe a URL to a health system's events; the signing secret is shown once."""
    from inquicker.events.subscriptions import create_subscription

    try:
        with unit_of_work() as session:
            created = create_subscription(session, health_system, url, events, include_patient_data)
            cli_audit(
                session,
                "webhook.create",
                subscription=created.subscription_id,
                url=url,
                patient_data=str(include_patient_data).lower(),
            )
    except SubscriptionError as exc:
        fail(str(exc))
    typer.echo(f"subscription id: {created.subscription_id}")
    typer.echo(f"signing secret:  {created.secret}")
    typer.echo("Store the secret now: it cannot be shown again.")


@webhooks_app.command("list")
def list_(
    health_system: Annotated[str, typer.Option("--health-system", help="The health system's id.")],
) -> None:
    """List a health system's subscriptions (never their secrets)."""
    from inquicker.events.subscriptions import list_subscriptions

    try:
        with unit_of_work() as session:
            subs = list_subscriptions(session, health_system)
    except SubscriptionError as exc:
        fail(str(exc))
    typer.echo(f"{'ID':<24} {'STATUS':<8} {'PATIENT':<8} {'EVENTS':<30} URL")
    for s in subs:
        kinds = ",".join(s.event_types) or "all"
        status = "active" if s.active else "inactive"
        patient = "yes" if s.include_patient_data else "no"
        typer.echo(f"{s.subscription_id:<24} {status:<8} {patient:<8} {kinds:<30} {s.url}")


@webhooks_app.command("delete")
def delete(
    subscription_id: Annotated[str, typer.Argument(help="The id shown by `webhooks list`.")],
) -> None:
    """Delete a subscription with its deliveries and their attempts."""
    from inquicker.events.subscriptions import delete_subscription

    try:
        with unit_of_work() as session:
            delete_subscription(session, subscription_id)
            cli_audit(session, "webhook.delete", subscription=subscription_id)
    except SubscriptionError as exc:
        fail(str(exc))
    typer.echo(f"deleted {subscription_id}")


def _parse_since(since: str) -> datetime:
    try:
        moment = datetime.fromisoformat(since.replace("Z", "+00:00"))
    except ValueError:
        fail(f"--since must be an ISO 8601 time (2026-01-31T09:00:00Z), not {since!r}")
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@webhooks_app.command("replay")
def replay(
    delivery_id: Annotated[
        int | None, typer.Argument(help="One delivery to send again.", show_default=False)
    ] = None,
    subscription: Annotated[
        str | None, typer.Option("--subscription", help="Replay this subscription's events...")
    ] = None,
    since: Annotated[
        str | None, typer.Option("--since", help="...since this ISO 8601 time.")
    ] = None,
) -> None:
    """Send one delivery again, or every event of a subscription since a time."""
    from inquicker.events.replay import replay_delivery, replay_since

    now = int(time.time())
    try:
        if delivery_id is not None and subscription is None and since is None:
            with unit_of_work() as session:
                replay_delivery(session, delivery_id, now)
                cli_audit(session, "webhook.replay", delivery=str(delivery_id))
            typer.echo(f"delivery {delivery_id} will be sent again")
        elif delivery_id is None and subscription is not None and since is not None:
            moment = _parse_since(since)
            with unit_of_work() as session:
                count = replay_since(session, subscription, moment, now)
                cli_audit(
                    session, "webhook.replay", subscription=subscription, since=moment.isoformat()
                )
            typer.echo(f"{count} deliveries of {subscription} will be sent again")
        else:
            fail("give a DELIVERY_ID, or --subscription ID and --since TIME")
    except SubscriptionError as exc:
        fail(str(exc))


@webhooks_app.command("deliveries")
def deliveries(
    ident: Annotated[str, typer.Argument(help="A delivery id, or a subscription id.")],
    limit: Annotated[int, typer.Option(help="A subscription's latest deliveries shown.")] = 20,
) -> None:
    """Show deliveries with every attempt: outcome, latency, response code, answer excerpt."""
    from inquicker.events.replay import delivery_history

    try:
        with unit_of_work() as session:
            history = delivery_history(session, ident, limit)
    except SubscriptionError as exc:
        fail(str(exc))
    for d in history:
        typer.echo(f"delivery {d.delivery_pk}  event {d.event_pk} {d.event_type}  {d.status}")
        for a in d.attempts:
            code = a.status_code if a.status_code is not None else "-"
            when = a.attempted_at.strftime("%Y-%m-%dT%H:%M:%SZ")
            typer.echo(f"  {when}  {a.outcome:<18} {a.duration_ms:>6} ms  {code}")
            if a.excerpt:
                typer.echo("    " + a.excerpt.replace("\n", "\n    "))


def run_deliverer(parent_pid: int | None = None) -> None:
    """Run the deliverer until SIGTERM/SIGINT (or, inside `serve`, the parent's exit)."""
    from inquicker.booking.phi import decode_key
    from inquicker.db.engine import make_engine
    from inquicker.events.worker import Deliverer, WorkerConfig
    from inquicker.logs import configure_logging

    config = settings()
    configure_logging(config.log_level)
    # The HTTP client logs every request at INFO: attempts are recorded in the database.
    logging.getLogger("httpx2").setLevel(logging.WARNING)
    logging.getLogger("httpcore2").setLevel(logging.WARNING)
    stop = threading.Event()
    # Finish the batch in hand (its attempts get recorded), then stop.
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    engine = make_engine(config.database_url)
    deliverer = Deliverer(
        engine,
        decode_key(config.phi_key) if config.phi_key else None,
        WorkerConfig(
            timeout=config.webhook_timeout,
            concurrency=config.webhook_concurrency,
            lease=config.webhook_lease_seconds,
        ),
    )
    try:
        deliverer.run(stop, parent_pid)
    finally:
        deliverer.close()
        engine.dispose()


def worker() -> None:
    """Deliver webhooks and HL7 messages until stopped (SIGTERM finishes the batch first)."""
    typer.echo("Delivering webhooks and HL7 messages (Ctrl-C to stop)")
    run_deliverer()
