"""Request and response schemas: they validate input and write the OpenAPI document."""

from __future__ import annotations

from datetime import UTC

from apiflask import Schema, fields, validators
from marshmallow import EXCLUDE, ValidationError, pre_load, validates_schema

from loadzone.inventory.catalog import MAX_DESCRIPTION, MAX_GROUP_NAME, VM_ID

VM_ID_MESSAGE = "1-64 ASCII letters, digits, '.', '_' or '-', starting with a letter or digit."


class StrictInt(fields.Integer):
    """A JSON integer only: 1.5, "2" and true are refused."""

    def __init__(self, **kwargs):
        super().__init__(strict=True, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool):
            raise ValidationError("Must be an integer, not a boolean.")
        return super()._deserialize(value, attr, data, **kwargs)


class StrictBool(fields.Boolean):
    """JSON true or false only."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, bool):
            raise ValidationError("Must be true or false.")
        return value


class Instant(fields.AwareDateTime):
    """An ISO-8601 instant (UTC when it has no offset), converted to UTC."""

    def __init__(self, **kwargs):
        super().__init__(default_timezone=UTC, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        moment = super()._deserialize(value, attr, data, **kwargs)
        try:
            # An offset can push the first or last representable day out of range.
            return moment.astimezone(UTC)
        except OverflowError as exc:
            raise ValidationError("Not a representable instant.") from exc


class Trimmed(fields.String):
    """A string with surrounding white space removed before it is checked."""

    def _deserialize(self, value, attr, data, **kwargs):
        return super()._deserialize(value, attr, data, **kwargs).strip()


class Strict(Schema):
    """Bodies: unknown fields are an error, the body must be an object."""

    @pre_load
    def _object_only(self, data, **kwargs):
        if not isinstance(data, dict):
            raise ValidationError("The body must be a JSON object.")
        return data


def vm_id_field(**kwargs):
    return Trimmed(validate=validators.Regexp(VM_ID, error=VM_ID_MESSAGE), **kwargs)


class LoginIn(Strict):
    email = Trimmed(required=True, validate=validators.Length(1, 254))


class HoursIn(Strict):
    hours = StrictInt(required=True, metadata={"description": "Whole hours, 1 to MAX_HOURS"})


def labels_field():
    return fields.Dict(
        keys=fields.String(),
        values=fields.String(),
        metadata={"description": "up to 20 pairs: key 1-32 of a-z 0-9 _ . -, value 1-64"},
    )


def address_field():
    return Trimmed(
        allow_none=True,
        validate=validators.Length(max=255),
        metadata={"description": "host or host:port, no scheme"},
    )


class VmIn(Strict):
    id = vm_id_field(required=True)
    group = StrictInt(allow_none=True, validate=validators.Range(min=1, max=2**31 - 1))
    description = Trimmed(validate=validators.Length(max=MAX_DESCRIPTION), allow_none=True)
    labels = labels_field()
    address = address_field()


class VmPatch(Strict):
    group = StrictInt(allow_none=True, validate=validators.Range(min=1, max=2**31 - 1))
    description = Trimmed(validate=validators.Length(max=MAX_DESCRIPTION), allow_none=True)
    maintenance = StrictBool()
    maintenance_reason = Trimmed(
        validate=validators.Length(max=MAX_DESCRIPTION),
        allow_none=True,
        metadata={"description": "why the VM is in maintenance (optional)"},
    )
    expires_at = Instant(metadata={"description": "Admins only: a new future expiry"})
    labels = labels_field()
    address = address_field()


class GroupIn(Strict):
    name = Trimmed(required=True, validate=validators.Length(1, MAX_GROUP_NAME))
    vm_ids = fields.List(vm_id_field(), validate=validators.Length(max=10000))


class GroupPatch(Strict):
    name = Trimmed(validate=validators.Length(1, MAX_GROUP_NAME))
    vm_ids = fields.List(vm_id_field(), validate=validators.Length(max=10000))
    max_hours = StrictInt(
        allow_none=True,
        validate=validators.Range(min=1, max=10000),
        metadata={"description": "Longest booking of the group's VMs in hours; null unsets"},
    )


class BookingIn(Strict):
    vm_id = vm_id_field(metadata={"description": "one VM; or give group and/or labels"})
    group = StrictInt(validate=validators.Range(min=1, max=2**31 - 1))
    labels = labels_field()
    hours = StrictInt(required=True, metadata={"description": "Whole hours, 1 to MAX_HOURS"})
    count = StrictInt(validate=validators.Range(1, 50), metadata={"description": "pools only"})
    start = Instant(metadata={"description": "A future start: reserve instead of booking now"})
    wait = StrictBool(metadata={"description": "join the queue when nothing fits now"})
    wait_minutes = StrictInt(validate=validators.Range(1, 1440))
    heartbeat_s = StrictInt(validate=validators.Range(30, 3600))

    @validates_schema
    def _one_target(self, data, **kwargs):
        if not (data.get("vm_id") or "group" in data or data.get("labels")):
            raise ValidationError("Give vm_id, or group and/or labels.", "vm_id")
        if data.get("vm_id") and ("group" in data or data.get("labels")):
            raise ValidationError("vm_id names one VM: no group or labels with it.", "vm_id")
        if data.get("vm_id") and "count" in data:
            raise ValidationError("count is for a group or labels, not for vm_id.", "count")
        if data.get("wait") and "start" in data:
            raise ValidationError("wait is for now, not with a start.", "wait")


class BookingPatch(Strict):
    start = Instant(metadata={"description": "A reservation's new start"})
    end = Instant(metadata={"description": "The new end"})


class TokenIn(Strict):
    name = Trimmed(required=True, validate=validators.Length(1, 100))


class ReadIn(Strict):
    ids = fields.List(
        StrictInt(validate=validators.Range(min=1, max=2**63 - 1)),
        validate=validators.Length(max=1000),
    )
    all = StrictBool()


class Query(Schema):
    class Meta:
        unknown = EXCLUDE


class VmQuery(Query):
    group = fields.String(metadata={"description": "group id, or 'none' for ungrouped VMs"})
    status = fields.String(
        validate=validators.OneOf(["free", "booked", "maintenance", "held", "resetting"])
    )
    q = Trimmed(validate=validators.Length(max=200))
    label = fields.List(
        fields.String(validate=validators.Length(max=100)),
        metadata={"description": "key=value, repeatable; all must match"},
    )


class QueueQuery(Query):
    vm_id = Trimmed(validate=validators.Length(max=64))
    group = fields.Integer(validate=validators.Range(min=1, max=2**31 - 1))


class PageQuery(Query):
    limit = fields.Integer(load_default=50, validate=validators.Range(1, 500))
    cursor = fields.String(validate=validators.Length(max=40))


class HistoryQuery(PageQuery):
    vm_id = Trimmed(validate=validators.Length(max=64))
    user = Trimmed(validate=validators.Length(max=254))
    action = fields.String(
        validate=validators.OneOf(["book", "renew", "release", "reserve", "cancel"])
    )
    since = Instant()
    until = Instant()


class BookingQuery(PageQuery):
    vm_id = Trimmed(validate=validators.Length(max=64))
    owner = Trimmed(validate=validators.Length(max=254))
    group = fields.Integer(validate=validators.Range(min=1, max=2**31 - 1))
    state = fields.String(
        validate=validators.Length(max=60),
        metadata={"description": "comma list of reserved, active, ended, cancelled"},
    )
    from_ = Instant(data_key="from", metadata={"description": "overlapping [from, to)"})
    to = Instant()


class UsageQuery(Query):
    days = fields.Integer(required=True, validate=validators.OneOf([7, 30]))


class DeleteQuery(Query):
    force = fields.Boolean(load_default=False)


# Responses: documentation of what serialize.py writes.
class VmOut(Schema):
    id = fields.String(required=True)
    group = fields.Integer(allow_none=True)
    booked_by = fields.String(allow_none=True)
    expires_at = fields.String(allow_none=True, metadata={"format": "date-time"})
    booked_at = fields.String(allow_none=True, metadata={"format": "date-time"})
    description = fields.String()
    maintenance = fields.Boolean()
    maintenance_reason = fields.String(
        allow_none=True, metadata={"description": "why: a failed reset, or set by hand"}
    )
    status = fields.String(
        validate=validators.OneOf(["free", "booked", "maintenance", "held", "resetting"])
    )
    booking_id = fields.Integer(allow_none=True)
    labels = fields.Dict(keys=fields.String(), values=fields.String())
    address = fields.String(allow_none=True)
    health = fields.String(validate=validators.OneOf(["up", "down", "unknown"]))
    health_since = fields.String(
        allow_none=True,
        metadata={"format": "date-time", "description": "when `health` became up or down"},
    )
    held_for = fields.Integer(allow_none=True, metadata={"description": "queue request id"})
    next_reservation = fields.Dict(
        allow_none=True, metadata={"description": "{id, start, owner} of the next reservation"}
    )


class GroupOut(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    vm_ids = fields.List(fields.String(), required=True)
    max_hours = fields.Integer(allow_none=True)


class BookingOut(Schema):
    id = fields.Integer(required=True)
    vm_id = fields.String(required=True)
    owner = fields.String(required=True)
    start = fields.String(metadata={"format": "date-time"})
    end = fields.String(metadata={"format": "date-time"})
    state = fields.String(validate=validators.OneOf(["reserved", "active", "ended", "cancelled"]))
    ended_at = fields.String(allow_none=True, metadata={"format": "date-time"})
    end_reason = fields.String(allow_none=True)
    request_id = fields.Integer(allow_none=True)
    heartbeat_s = fields.Integer(allow_none=True)
    last_heartbeat = fields.String(allow_none=True, metadata={"format": "date-time"})
    created_at = fields.String(metadata={"format": "date-time"})


class BookingItem(BookingOut):
    """A booking inside a list (a schema of its own: one class is one spec component)."""


class BookingPage(Schema):
    items = fields.List(fields.Nested(BookingItem))
    next_cursor = fields.String(allow_none=True)


class BookingsGranted(Schema):
    bookings = fields.List(fields.Nested(BookingItem))
    request = fields.Dict(allow_none=True)


class UsageOut(Schema):
    from_ = fields.String(data_key="from", metadata={"format": "date-time"})
    to = fields.String(metadata={"format": "date-time"})
    groups = fields.List(fields.Dict())
    vms = fields.List(fields.Dict())
    queue = fields.Dict()


class UserOut(Schema):
    email = fields.String(required=True)
    is_admin = fields.Boolean(required=True)
    created = fields.String(metadata={"format": "date-time"})


class LoginOut(Schema):
    user = fields.Nested(UserOut, allow_none=True)
    message = fields.String()
    delivery = fields.String(metadata={"description": "link mode: 'email' or 'console'"})


class HistoryOut(Schema):
    id = fields.Integer()
    at = fields.String(metadata={"format": "date-time"})
    action = fields.String()
    reason = fields.String(allow_none=True)
    vm_id = fields.String()
    user = fields.String()
    actor = fields.String(allow_none=True)
    start = fields.String(metadata={"format": "date-time"})
    end = fields.String(allow_none=True, metadata={"format": "date-time"})
    booking_id = fields.Integer(allow_none=True)


class HistoryPage(Schema):
    items = fields.List(fields.Nested(HistoryOut))
    next_cursor = fields.String(allow_none=True)


class NotificationOut(Schema):
    id = fields.Integer()
    type = fields.String()
    message = fields.String()
    vm_id = fields.String(allow_none=True)
    group_id = fields.Integer(allow_none=True)
    actor = fields.String(allow_none=True)
    created_at = fields.String(metadata={"format": "date-time"})
    read = fields.Boolean()
    owner = fields.String(allow_none=True, metadata={"description": "The booking's owner"})
    expires_at = fields.String(allow_none=True, metadata={"format": "date-time"})
    group_name = fields.String(allow_none=True, metadata={"description": "The VM's group"})
    extend_url = fields.String(
        metadata={"description": "expiry_warning only: opens the one-click extend page"}
    )


class NotificationPage(Schema):
    items = fields.List(fields.Nested(NotificationOut))
    next_cursor = fields.String(allow_none=True)
    unread = fields.Integer()


class TokenOut(Schema):
    id = fields.Integer()
    name = fields.String()
    created_at = fields.String(metadata={"format": "date-time"})
    token = fields.String(metadata={"description": "Shown only in the answer to POST"})


class ReadOut(Schema):
    marked = fields.Integer()
    unread = fields.Integer()


class Empty(Schema):
    pass


class NoBody(Strict):
    """Actions without parameters: an empty object (or no body) and nothing else."""


class LogoutOut(Schema):
    redirect = fields.String(
        metadata={"description": "the identity provider's logout page (OpenID Connect sign-in)"}
    )


# -- preferences and the calendar feed -------------------------------------------------------


def _email_choices(**kwargs):
    return fields.Dict(
        keys=fields.String(),
        values=StrictBool(),
        metadata={
            "description": "notification type -> also sent by e-mail; GET lists every type",
            "example": {"expiry_warning": True, "vm_booked": False},
        },
        **kwargs,
    )


class PreferencesIn(Strict):
    email = _email_choices(required=True)


class PreferencesOut(Schema):
    email = _email_choices(required=True)


class CalendarOut(Schema):
    url = fields.String(
        required=True,
        metadata={"description": "Secret iCalendar address; a new one replaces the old one"},
    )


# -- deliveries (the outbox) ---------------------------------------------------------------


class DeliveryQuery(PageQuery):
    state = fields.String(
        load_default="failed",
        validate=validators.OneOf(("pending", "sent", "failed")),
        metadata={"description": "pending, sent or failed (default)"},
    )


class DeliveryOut(Schema):
    id = fields.Integer()
    channel = fields.String(metadata={"description": "mail or webhook"})
    notification_id = fields.Integer(allow_none=True)
    target = fields.String(metadata={"description": "The e-mail address or the webhook URL"})
    key = fields.String(metadata={"description": "Idempotency-Key / Message-ID, stable"})
    state = fields.String()
    attempts = fields.Integer()
    next_at = fields.String(metadata={"format": "date-time"})
    last_error = fields.String(allow_none=True)
    created_at = fields.String(metadata={"format": "date-time"})
    sent_at = fields.String(allow_none=True, metadata={"format": "date-time"})


class DeliveryPage(Schema):
    items = fields.List(fields.Nested(DeliveryOut))
    next_cursor = fields.String(allow_none=True)


class DeliveryRetried(DeliveryOut):
    """The delivery, pending again (its own name: the spec may hold a schema once)."""
