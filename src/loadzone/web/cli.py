"""The `loadzone` command: run the server, import/export data.json, manage VMs and groups."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import FlaskGroup, with_appcontext

from loadzone.booking import bookings
from loadzone.core import storage
from loadzone.core.storage import transaction
from loadzone.core.timeutil import utcnow
from loadzone.errors import DomainError
from loadzone.extensions import db
from loadzone.identity.permissions import Actor
from loadzone.inventory import catalog
from loadzone.inventory import labels as vm_labels
from loadzone.reporting import backup, seedfile

# The console acts with full rights: whoever runs it already holds the database.
CONSOLE = Actor(email="console@localhost", is_admin=True, admins_configured=True)


def _create_app():
    from loadzone import create_app

    return create_app()


@click.group(
    cls=FlaskGroup,
    create_app=_create_app,
    add_default_commands=False,
    add_version_option=False,
    load_dotenv=False,
)
def main():
    """LoadZone: a shared pool of virtual machines."""


def _fail(error: DomainError):
    raise click.ClickException(error.message)


# No app for the command itself: the server builds its own and waits for the database.
@main.command("run", with_appcontext=False)
@click.option("--host", help="Address to listen on (overrides LOADZONE_HOST).")
@click.option(
    "--port", type=click.IntRange(0, 65535), help="Port to listen on (overrides LOADZONE_PORT)."
)
def run_command(host, port):
    """Serve HTTP and WebSocket (the production server)."""
    from loadzone.web.server import serve

    serve(host=host, port=port)


@main.group("db")
def db_group():
    """Database schema."""


@db_group.command("upgrade")
@with_appcontext
def db_upgrade():
    """Apply every pending migration (start-up does this too)."""
    storage.upgrade(current_app)
    click.echo("database is up to date")


@main.command("import")
@click.argument("path", type=click.File("r", encoding="utf-8"))
@click.option("--replace", is_flag=True, help="Overwrite a database that already has data.")
@with_appcontext
def import_command(path, replace):
    """Load a data.json (the original format) into an empty database."""
    try:
        data = json.load(path)
    except (ValueError, UnicodeDecodeError) as exc:
        raise click.ClickException(f"{path.name} is not valid JSON: {exc}") from exc
    try:
        with transaction():
            counts = seedfile.import_state(data, utcnow(), replace=replace)
    except DomainError as error:
        _fail(error)
    click.echo("imported " + ", ".join(f"{n} {what}" for what, n in counts.items()))


@main.command("export")
@click.option(
    "-o",
    "--output",
    type=click.File("w", encoding="utf-8"),
    default="-",
    help="File to write (standard output by default).",
)
@with_appcontext
def export_command(output):
    """Write the whole state as data.json."""
    json.dump(seedfile.export_state(), output, indent=2, ensure_ascii=False)
    output.write("\n")


@main.command("backup")
@click.argument("path", type=click.Path(dir_okay=False, writable=True, path_type=Path))
@with_appcontext
def backup_command(path):
    """Write a consistent copy of the database (safe while servers run)."""
    try:
        click.echo(backup.backup(current_app.config["SQLALCHEMY_DATABASE_URI"], path))
    except DomainError as error:
        _fail(error)


@main.command("restore")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@with_appcontext
def restore_command(path, yes):
    """Replace the SQLite database with a backup (every server stopped first)."""
    if not yes:
        click.confirm("Replace the current database with this backup?", abort=True)
    db.engine.dispose()  # no connection of ours may hold the file while we check and copy
    try:
        click.echo(backup.restore_sqlite(current_app.config["SQLALCHEMY_DATABASE_URI"], path))
    except DomainError as error:
        _fail(error)
    storage.upgrade(current_app)  # a backup from an older version gets the newer schema
    click.echo("Start the servers again: start-up releases bookings that expired meanwhile.")


@main.group("vm")
def vm_group():
    """Virtual machines."""


@vm_group.command("add")
@click.argument("vm_id")
@click.option("--group", type=int, help="Group id.")
@click.option("--description", default="")
@click.option("--label", "labels", multiple=True, metavar="KEY=VALUE", help="Repeatable.")
@click.option("--address", help="host or host:port the VM is reached at.")
@with_appcontext
def vm_add(vm_id, group, description, labels, address):
    """Register a VM."""
    try:
        pairs = vm_labels.parse_filters(list(labels))
        with transaction():
            catalog.add_vm(CONSOLE, utcnow(), vm_id, group, description, pairs, address)
    except DomainError as error:
        _fail(error)
    click.echo(f"added {vm_id}")


@vm_group.command("list")
@with_appcontext
def vm_list():
    """List VMs with their state, address and labels."""
    tags = vm_labels.of()
    for vm in catalog.list_vms():
        owner = (
            f"{vm.booked_by} until {vm.expires_at.isoformat()}"
            if vm.booked_by
            else ("maintenance" if vm.maintenance else "free")
        )
        line = f"{vm.id}\tgroup={vm.group_id or '-'}\t{owner}"
        if vm.address:
            line += f"\taddress={vm.address}"
        if tags.get(vm.id):
            line += "\tlabels=" + ",".join(f"{k}={v}" for k, v in tags[vm.id].items())
        click.echo(line)


@vm_group.command("remove")
@click.argument("vm_id")
@click.option("--force", is_flag=True, help="Also remove a booked VM (recorded as a release).")
@with_appcontext
def vm_remove(vm_id, force):
    """Remove a VM."""
    try:
        with transaction():
            bookings.delete_vm(CONSOLE, vm_id, utcnow(), force=force)
    except DomainError as error:
        _fail(error)
    click.echo(f"removed {vm_id}")


@main.group("group")
def group_group():
    """Groups of VMs."""


@group_group.command("add")
@click.argument("name")
@with_appcontext
def group_add(name):
    """Create a group."""
    try:
        with transaction():
            group = catalog.create_group(CONSOLE, utcnow(), name)
            gid = group.id
    except DomainError as error:
        _fail(error)
    click.echo(f"created group {gid}: {name}")


@group_group.command("list")
@with_appcontext
def group_list():
    """List groups with their VMs."""
    for group in catalog.list_groups():
        click.echo(f"{group['id']}\t{group['name']}\t{','.join(group['vm_ids'])}")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
