"""Schemathesis against the OpenAPI document: every operation, valid and invalid input, as an
admin with a bearer token, on objects that exist and ones that do not. No answer may be a
5xx, and every answer must match the schema documented for its status."""

from __future__ import annotations

import os
import time
from collections import Counter
from datetime import timedelta

import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance
from sqlalchemy import select

from loadzone.booking import queue, reservations
from loadzone.booking.policies import Rules
from loadzone.booking.pools import Target
from loadzone.core import storage
from loadzone.core.timeutil import utcnow
from loadzone.extensions import db
from loadzone.identity import accounts
from loadzone.identity.permissions import Actor
from loadzone.inventory import catalog
from loadzone.models import Booking, Delivery, Group, QueueRequest, Vm
from loadzone.notifications import outbox

ADMIN = Actor("admin@example.com", is_admin=True, admins_configured=True)
EXAMPLES = int(os.environ.get("LOADZONE_FUZZ_EXAMPLES", "30"))
CHECKS = [not_a_server_error, response_schema_conformance]


def _stock() -> dict:
    """The admin, a fresh token, a group and a VM that exist: put back before every case,
    since a generated DELETE may have removed them."""
    with storage.transaction():
        accounts.sign_in(ADMIN.email, utcnow())
        token, secret = accounts.create_token(ADMIN.email, "fuzz", utcnow())
        if db.session.get(Vm, "vm-1") is None:
            catalog.add_vm(ADMIN, utcnow(), "vm-1")
        group = db.session.scalar(select(Group).order_by(Group.id))
        if group is None:
            group = catalog.create_group(ADMIN, utcnow(), "fuzzed")
        booking_id = db.session.scalar(select(Booking.id).order_by(Booking.id.desc()))
        if booking_id is None:
            start = utcnow() + timedelta(days=29)
            booking_id = reservations.reserve(ADMIN, "vm-1", start, 1, utcnow(), Rules()).id
        request_id = db.session.scalar(select(QueueRequest.id).order_by(QueueRequest.id.desc()))
        if request_id is None:
            request_id = queue.join(ADMIN, Target(vm_id="vm-1"), 1, 1, utcnow(), Rules()).id
        delivery_id = db.session.scalar(select(Delivery.id).order_by(Delivery.id.desc()))
        if delivery_id is None:
            outbox.add("webhook", "http://127.0.0.1:9/", {"type": "fuzz"}, utcnow(), 1)
            delivery_id = db.session.scalar(select(Delivery.id))
        ids = {
            "delivery_id": delivery_id,
            "request_id": request_id,
            "vm_id": "vm-1",
            "group_id": group.id,
            "token_id": token.id,
            "booking_id": booking_id,
        }
    return {"secret": secret, **ids}


def _rounds(operation):
    """Generated path parameters, then (where the path names an object) an existing one."""
    yield None
    names = {p.name for p in operation.path_parameters}
    if names:
        yield names


def test_every_operation_survives_generated_input(app, backend):
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app)
    started, tally, operations = time.monotonic(), Counter(), 0
    with app.app_context():
        stock = _stock()
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1
        for names in _rounds(operation):
            fixed = {name: stock[name] for name in names} if names else None
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                strategy = operation.as_strategy(generation_mode=mode, path_parameters=fixed)

                @given(case=strategy)
                @settings(
                    max_examples=EXAMPLES,
                    deadline=None,
                    database=None,
                    suppress_health_check=list(HealthCheck),
                )
                def check(case):
                    with app.app_context():
                        secret = _stock()["secret"]
                    response = case.call_and_validate(
                        headers={"Authorization": f"Bearer {secret}"}, checks=CHECKS
                    )
                    tally[response.status_code] += 1

                try:
                    check()
                except Unsatisfiable:
                    # Nothing in this operation can be made invalid (no parameters, no body).
                    assert mode is GenerationMode.NEGATIVE, operation.label
    seconds = time.monotonic() - started
    print(
        f"fuzz[{backend}]: {operations} operations, {sum(tally.values())} generated requests "
        f"in {seconds:.0f} s, statuses {dict(sorted(tally.items()))}, 0 5xx, all conform"
    )
    assert not any(status >= 500 for status in tally)
