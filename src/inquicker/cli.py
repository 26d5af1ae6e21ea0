"""The `inquicker` command: migrate, demo, serve, import, export, keys, webhooks, worker,
operators, audit."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from pydantic import ValidationError
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from inquicker.db.engine import make_engine, make_sessionmaker, transaction
from inquicker.db.migrate import upgrade
from inquicker.operators.cli import audit_app, operators_app
from inquicker.settings import Settings, get_settings, settings_problem

app = typer.Typer(help="InQuicker API v3 server.", no_args_is_help=True, add_completion=False)
keys_app = typer.Typer(help="Manage API keys.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")
app.add_typer(operators_app, name="operators")
app.add_typer(audit_app, name="audit")
maintenance_app = typer.Typer(
    help="Maintenance mode: API routes answer 503 + Retry-After.", no_args_is_help=True
)
app.add_typer(maintenance_app, name="maintenance")

DEMO_HOSTNAME = "winter-health.inquicker.com"


def fail(reason: str) -> NoReturn:
    """Exit non-zero with a one-line reason."""
    typer.echo(f"error: {reason}", err=True)
    raise typer.Exit(1)


def settings() -> Settings:
    """The environment's settings, or exit with a one-line reason."""
    try:
        return get_settings()
    except ValidationError as exc:
        fail(settings_problem(exc))


@contextmanager
def unit_of_work(migrate: bool = False) -> Iterator[Session]:
    """A session on INQUICKER_DATABASE_URL, committed on success."""
    try:
        engine = make_engine(settings().database_url)
        if migrate:
            upgrade(engine)
        with transaction(make_sessionmaker(engine)) as session:
            yield session
        engine.dispose()
    except SQLAlchemyError as exc:
        fail(f"database: {str(exc).splitlines()[0]}")


@app.command()
def migrate() -> None:
    """Bring the database schema to the latest version (safe to repeat)."""
    with unit_of_work(migrate=True) as session:
        version = session.execute(text("SELECT version_num FROM alembic_version")).scalar()
    typer.echo(f"database is at schema version {version}, the latest")


@app.command()
def demo(
    serve_after: Annotated[bool, typer.Option("--serve", help="Serve the API afterwards.")] = False,
    host: str = "127.0.0.1",
    port: int = 8000,
) -> None:
    """Migrate, load the Winter Health demo bundle and print a working API key."""
    from inquicker.bundle.demo import load_demo
    from inquicker.operators.demo import demo_operator
    from inquicker.tenancy.keys import create_key

    with unit_of_work(migrate=True) as session:
        result = load_demo(session)
        issued = create_key(session, DEMO_HOSTNAME, "demo", ("read", "book"))
        operator_email, operator_password = demo_operator(session)
    base = f"http://{host}:{port}/api/v3/{DEMO_HOSTNAME}"
    typer.echo(f"Loaded demo health system '{result.health_system}' at {DEMO_HOSTNAME}.")
    typer.echo(f"API key (read,book), shown once: {issued.secret}")
    typer.echo(f"Console: http://{host}:{port}/admin/")
    typer.echo(f"  operator {operator_email} (admin), password: {operator_password}")
    typer.echo("Try:")
    typer.echo(
        f"  curl -H 'Accept: application/vnd.api+json' '{base}/locations?api_key={issued.secret}'"
    )
    if serve_after:
        serve(host=host, port=port, workers=1)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    workers: Annotated[int, typer.Option(help="Worker processes.")] = 1,
) -> None:
    """Serve the API with uvicorn."""
    import uvicorn

    from inquicker.logs import configure_logging

    configure_logging(settings().log_level)
    stop_deliverer = None
    if settings().run_worker:
        from inquicker.events.supervisor import start_deliverer

        stop_deliverer = start_deliverer()
        typer.echo("Delivering webhooks in a worker process (INQUICKER_RUN_WORKER=false: off)")
    typer.echo(f"Serving on http://{host}:{port} (Ctrl-C to stop)")
    try:
        uvicorn.run(
            "inquicker.app:app_from_env",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            access_log=False,
            log_config=None,
            # Request heads over 16 KiB are refused while they arrive (httptools has no
            # bound).
            http="inquicker.web.protocol:BoundedHttpToolsProtocol",
            proxy_headers=settings().trust_proxy,
        )
    finally:
        if stop_deliverer is not None:
            stop_deliverer()


@app.command("import")
def import_(file: Annotated[Path, typer.Argument(help="Bundle file (JSON or YAML).")]) -> None:
    """Import a data bundle: idempotent upsert, all or nothing."""
    from inquicker.bundle.importer import import_bundle
    from inquicker.bundle.io import load_document
    from inquicker.bundle.schema import BundleError

    try:
        document = load_document(file)
        with unit_of_work(migrate=False) as session:
            result = import_bundle(session, document)
    except BundleError as exc:
        for problem in exc.problems:
            typer.echo(
                f"{problem.path}: {problem.message}" if problem.path else problem.message, err=True
            )
        fail(f"bundle refused with {len(exc.problems)} problem(s); nothing was changed")
    typer.echo(result.summary())


@app.command()
def export(
    health_system_id: Annotated[str, typer.Argument(help="The health system's id.")],
    output: Annotated[Path | None, typer.Option("-o", "--output", help="File to write.")] = None,
) -> None:
    """Export a health system as a bundle (to stdout, or to a file with -o)."""
    from inquicker.bundle.exporter import export_bundle
    from inquicker.bundle.io import dumps_document

    with unit_of_work() as session:
        try:
            document = export_bundle(session, health_system_id)
        except LookupError:
            fail(f"no health system with id {health_system_id!r}")
    data = dumps_document(document)
    if output is None:
        sys.stdout.buffer.write(data)
    else:
        output.write_bytes(data)
        typer.echo(f"wrote {output}")


@keys_app.command("create")
def keys_create(
    site: Annotated[str, typer.Option(help="The site's partner hostname.")],
    name: Annotated[str | None, typer.Option(help="A label for the key.")] = None,
    scopes: Annotated[str, typer.Option(help="Comma-separated: read, book.")] = "read",
    quiet: Annotated[bool, typer.Option("--quiet", help="Print only the key.")] = False,
    rate: Annotated[
        str | None,
        typer.Option(help="This key's rate limit, e.g. 120/minute (default: the server's)."),
    ] = None,
) -> None:
    """Create an API key; the key is printed once and stored only as a hash."""
    from inquicker.tenancy.keys import KeyOperationError, create_key, parse_scopes

    try:
        with unit_of_work() as session:
            issued = create_key(session, site, name, parse_scopes(scopes), rate)
            cli_audit(session, "key.create", key=issued.key_id, site=site)
    except KeyOperationError as exc:
        fail(str(exc))
    if quiet:
        typer.echo(issued.secret)
        return
    typer.echo(f"key id:  {issued.key_id}")
    typer.echo(f"scopes:  {','.join(issued.scopes)}")
    if rate:
        typer.echo(f"rate:    {rate.strip().lower()}")
    typer.echo(f"api key: {issued.secret}")
    typer.echo("Store it now: it cannot be shown again.")


@keys_app.command("list")
def keys_list(site: Annotated[str, typer.Option(help="The site's partner hostname.")]) -> None:
    """List a site's keys (never the keys themselves)."""
    from inquicker.tenancy.keys import KeyOperationError, list_keys

    try:
        with unit_of_work() as session:
            keys = list_keys(session, site)
    except KeyOperationError as exc:
        fail(str(exc))
    typer.echo(
        f"{'KEY ID':<18} {'SCOPES':<10} {'CREATED':<20} {'LAST USED':<20} {'STATUS':<8} "
        f"{'RATE':<14} NAME"
    )
    for k in keys:
        used = k.last_used_at.strftime("%Y-%m-%d %H:%M") if k.last_used_at else "never"
        status = "revoked" if k.revoked_at else "active"
        created = k.created_at.strftime("%Y-%m-%d %H:%M")
        typer.echo(
            f"{k.key_id:<18} {k.scopes:<10} {created:<20} {used:<20} {status:<8} "
            f"{k.rate_limit or 'default':<14} {k.name or ''}"
        )


@keys_app.command("revoke")
def keys_revoke(
    key_id: Annotated[str, typer.Argument(help="The key id shown by `keys list`.")],
) -> None:
    """Revoke a key at once."""
    from inquicker.tenancy.keys import KeyOperationError, revoke_key

    try:
        with unit_of_work() as session:
            revoke_key(session, key_id)
            cli_audit(session, "key.revoke", key=key_id)
    except KeyOperationError as exc:
        fail(str(exc))
    typer.echo(f"revoked {key_id}")


def cli_audit(session: Session, action: str, **details: str) -> None:
    """Record a CLI change in the audit log, in the change's transaction."""
    from inquicker.db.base import utcnow
    from inquicker.operators import audit

    audit.write(session.connection(), utcnow(), audit.Record("cli", action, details=details))


@maintenance_app.command("on")
def maintenance_on(
    retry_after: Annotated[
        int, typer.Option(min=1, max=86_400, help="Seconds clients are told to wait.")
    ] = 300,
    message: Annotated[
        str | None, typer.Option(help="The error detail clients see (no secrets).")
    ] = None,
) -> None:
    """Every API route answers 503 within a second, on every server of this database."""
    from inquicker.web.maintenance import set_state

    with unit_of_work() as session:
        set_state(session, True, retry_after, message[:500] if message else None)
    typer.echo(f"maintenance on: API routes answer 503 (Retry-After: {retry_after})")


@maintenance_app.command("off")
def maintenance_off() -> None:
    """API routes answer again within a second."""
    from inquicker.web.maintenance import set_state

    with unit_of_work() as session:
        set_state(session, False)
    typer.echo("maintenance off")


@maintenance_app.command("status")
def maintenance_status() -> None:
    """Say whether maintenance mode is on."""
    from inquicker.web.maintenance import read_state

    with unit_of_work() as session:
        state = read_state(session)
    typer.echo(
        f"maintenance on since {state.since:%Y-%m-%d %H:%M:%S} UTC "
        f"(Retry-After: {state.retry_after})"
        if state.on and state.since
        else "maintenance off"
    )


# Registered last: the webhooks module uses fail/settings/unit_of_work defined above.
from inquicker.events.cli import webhooks_app, worker  # noqa: E402

app.add_typer(webhooks_app, name="webhooks")
app.command("worker")(worker)

from inquicker.hl7.cli import hl7_app  # noqa: E402

app.add_typer(hl7_app, name="hl7")


def main() -> None:
    """Entry point of the `inquicker` console script."""
    app()
