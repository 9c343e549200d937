"""Service-layer helpers: an app context, fixed actors and a clock the test controls."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from loadzone.booking.bookings import Rules
from loadzone.core import storage
from loadzone.extensions import db
from loadzone.identity.permissions import Actor
from loadzone.inventory import catalog
from loadzone.models import Vm
from loadzone.reporting import history

T0 = datetime(2030, 3, 4, 9, 0, tzinfo=UTC)
RULES = Rules(max_hours=24, max_active_bookings=0, warning_minutes=60)
ALICE = Actor("alice@example.com", is_admin=False, admins_configured=True)
BOB = Actor("bob@example.com", is_admin=False, admins_configured=True)
ADMIN = Actor("admin@example.com", is_admin=True, admins_configured=True)


def at(**delta) -> datetime:
    """An instant relative to the fixed start of every unit test."""
    return T0 + timedelta(**delta)


def run(use_case, *args, **kwargs):
    """Call one use case in its own transaction, as the API does."""
    with storage.transaction():
        return use_case(*args, **kwargs)


def vm_row(vm_id: str) -> Vm:
    db.session.expire_all()
    return db.session.get(Vm, vm_id)


def records(**filters) -> list[dict]:
    """Every audit record matching `filters`, oldest first."""
    items, _ = history.page(500, **filters)
    return list(reversed(items))


@pytest.fixture
def ctx(app):
    """An app context on this test's fresh database."""
    with app.app_context():
        yield app
        db.session.remove()


@pytest.fixture
def add_vm(ctx):
    """Factory: register a VM as the admin and return its id."""

    def make(vm_id: str = "vm-1", **fields) -> str:
        run(catalog.add_vm, ADMIN, T0, vm_id, **fields)
        return vm_id

    return make
