"""`inquicker operators ...` and `inquicker audit export` (SPEC section 12)."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from typing import Annotated

import orjson
import typer

operators_app = typer.Typer(help="Manage operator accounts.", no_args_is_help=True)
audit_app = typer.Typer(help="Read the audit log.", no_args_is_help=True)


@operators_app.command("create")
def create(
    health_system: Annotated[
        str | None, typer.Option("--health-system", help="The health system's id (slug).")
    ] = None,
    email: Annotated[str, typer.Option("--email", help="The operator's e-mail (login).")] = "",
    role: Annotated[str, typer.Option("--role", help="admin, scheduler, viewer or auditor.")] = "",
    superuser: Annotated[
        bool, typer.Option("--superuser", help="Every health system, not one.")
    ] = False,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
) -> None:
    """Create an operator; prints a generated password once (or reads one from stdin)."""
    from inquicker.cli import fail, unit_of_work
    from inquicker.operators.accounts import OperatorError
    from inquicker.operators.accounts import create as create_operator

    if not email or not role:
        fail("--email and --role are required")
    password = sys.stdin.readline().rstrip("\r\n") if password_stdin else None
    try:
        with unit_of_work() as session:
            shown = create_operator(
                session,
                health_system=health_system,
                email=email,
                role=role,
                superuser=superuser,
                password=password,
            )
    except OperatorError as exc:
        fail(str(exc))
    typer.echo(f"created operator {email.strip().lower()} ({role})")
    if password is None:
        typer.echo(f"password, shown once: {shown}")


@operators_app.command("list")
def list_() -> None:
    """List operators (never their passwords)."""
    from inquicker.cli import unit_of_work
    from inquicker.operators.accounts import list_all

    with unit_of_work() as session:
        rows = list_all(session)
    typer.echo(f"{'EMAIL':<36} {'HEALTH SYSTEM':<22} {'ROLE':<10} {'STATUS':<9} TOTP")
    for r in rows:
        scope = "(superuser)" if r.superuser else (r.health_system or "")
        status = "disabled" if r.disabled else "active"
        typer.echo(
            f"{r.email:<36} {scope:<22} {r.role:<10} {status:<9} {'yes' if r.totp else 'no'}"
        )


@operators_app.command("disable")
def disable(email: Annotated[str, typer.Argument(help="The operator's e-mail.")]) -> None:
    """Disable an operator: ends their sessions and revokes their tokens at once."""
    from inquicker.cli import fail, unit_of_work
    from inquicker.operators.accounts import OperatorError
    from inquicker.operators.accounts import disable as disable_operator

    try:
        with unit_of_work() as session:
            disable_operator(session, email)
    except OperatorError as exc:
        fail(str(exc))
    typer.echo(f"disabled {email}; their sessions ended and tokens revoked")


@operators_app.command("token")
def token(email: Annotated[str, typer.Argument(help="The operator's e-mail.")]) -> None:
    """Issue an operator API token (printed once; only its hash is kept)."""
    from inquicker.cli import fail, unit_of_work
    from inquicker.operators.accounts import OperatorError, issue_token

    try:
        with unit_of_work() as session:
            token_id, raw = issue_token(session, email)
    except OperatorError as exc:
        fail(str(exc))
    typer.echo(f"token id: {token_id}")
    typer.echo(f"token:    {raw}")
    typer.echo("Store it now: it cannot be shown again.")


def parse_since(value: str | None) -> datetime | None:
    """An ISO 8601 date or date-time; naive values are UTC."""
    if value is None:
        return None
    parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@audit_app.command("export")
def export(
    since: Annotated[
        str | None, typer.Option("--since", help="ISO 8601 date or date-time (UTC if no offset).")
    ] = None,
) -> None:
    """Write the audit log as JSON lines, oldest first."""
    from inquicker.cli import fail, unit_of_work
    from inquicker.operators.audit import stream

    try:
        start = parse_since(since)
    except ValueError:
        fail(f"--since must be an ISO 8601 date or date-time, not {since!r}")
    out = sys.stdout.buffer
    with unit_of_work() as session:
        for entry in stream(session.connection(), start):
            out.write(orjson.dumps(entry) + b"\n")
    out.flush()
