"""`inquicker hl7 destinations create|list|delete` (registered by inquicker/cli.py)."""

from __future__ import annotations

from typing import Annotated

import typer

from inquicker.cli import fail, unit_of_work
from inquicker.hl7.destinations import DestinationError

hl7_app: typer.Typer = typer.Typer(
    help="HL7v2 SIU messages to EHRs over MLLP.", no_args_is_help=True
)
destinations_app = typer.Typer(help="Manage MLLP destinations.", no_args_is_help=True)
hl7_app.add_typer(destinations_app, name="destinations")


@destinations_app.command("create")
def create(
    health_system: Annotated[str, typer.Option("--health-system", help="The health system's id.")],
    host: Annotated[str, typer.Option("--host", help="The EHR's MLLP listener host.")],
    port: Annotated[int, typer.Option("--port", help="The EHR's MLLP listener port.")],
) -> None:
    """Send a health system's SIU messages (S12/S13/S15/S26) to an MLLP listener."""
    from inquicker.hl7.destinations import create_destination

    try:
        with unit_of_work() as session:
            destination_id = create_destination(session, health_system, host, port)
    except DestinationError as exc:
        fail(str(exc))
    typer.echo(destination_id)


@destinations_app.command("list")
def list_(
    health_system: Annotated[str, typer.Option("--health-system", help="The health system's id.")],
) -> None:
    """List a health system's MLLP destinations."""
    from inquicker.hl7.destinations import list_destinations

    try:
        with unit_of_work() as session:
            rows = list_destinations(session, health_system)
    except DestinationError as exc:
        fail(str(exc))
    typer.echo(f"{'ID':<24} {'STATUS':<8} ADDRESS")
    for d in rows:
        status = "active" if d.active else "inactive"
        typer.echo(f"{d.destination_id:<24} {status:<8} {d.host}:{d.port}")


@destinations_app.command("delete")
def delete(
    destination_id: Annotated[str, typer.Argument(help="The id shown by `hl7 destinations list`.")],
) -> None:
    """Delete a destination with its deliveries and their attempts."""
    from inquicker.hl7.destinations import delete_destination

    try:
        with unit_of_work() as session:
            delete_destination(session, destination_id)
    except DestinationError as exc:
        fail(str(exc))
    typer.echo(f"deleted {destination_id}")
