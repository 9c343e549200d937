"""Labels and addresses of VMs: the rules, and labels stored one row per pair."""

from __future__ import annotations

import re

from sqlalchemy import and_, delete, exists, insert, select

from loadzone.core import prebuilt
from loadzone.errors import Invalid
from loadzone.extensions import db
from loadzone.models import Vm, VmLabel

LABEL_KEY = re.compile(r"[a-z0-9_.-]{1,32}")
MAX_LABELS = 20
MAX_VALUE = 64
MAX_ADDRESS = 255
# A host name, an IPv4 address or a bracketed IPv6 address, then an optional port.
ADDRESS = re.compile(r"(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+)(?::(\d{1,5}))?")


def check_labels(labels) -> dict[str, str]:
    """At most 20 pairs; keys of a-z 0-9 _ . - (1-32), values of printable text (1-64)."""
    if not isinstance(labels, dict):
        raise Invalid("labels must be an object of key/value pairs.", "invalid_labels")
    if len(labels) > MAX_LABELS:
        raise Invalid(f"A VM has at most {MAX_LABELS} labels.", "invalid_labels")
    for key, value in labels.items():
        if not isinstance(key, str) or not LABEL_KEY.fullmatch(key):
            raise Invalid(f"Label key {key!r}: 1-32 of a-z, 0-9, '_', '.', '-'.", "invalid_labels")
        if (
            not isinstance(value, str)
            or not 1 <= len(value) <= MAX_VALUE
            or not value.isprintable()
        ):
            raise Invalid(
                f"Label {key}: the value is 1-{MAX_VALUE} printable characters.", "invalid_labels"
            )
    return dict(labels)


def check_address(address) -> str | None:
    """host or host:port, at most 255 characters, no scheme; None or "" clears it."""
    if address is None or address == "":
        return None
    if not isinstance(address, str) or len(address) > MAX_ADDRESS:
        raise Invalid(f"An address is at most {MAX_ADDRESS} characters.", "invalid_address")
    match = ADDRESS.fullmatch(address)
    if "://" in address or not match or (match.group(1) and not 0 < int(match.group(1)) < 65536):
        raise Invalid(
            "An address is a host or host:port (no scheme, no spaces), e.g. 10.0.0.5:2222.",
            "invalid_address",
        )
    return address


def parse_filters(raw: list[str]) -> dict[str, str]:
    """`key=value` query filters, all of which must match."""
    wanted = {}
    for item in raw:
        key, sep, value = item.partition("=")
        if not sep:
            raise Invalid(f"label filter {item!r}: use key=value.", "invalid_labels")
        wanted[key] = value
    return check_labels(wanted) if wanted else {}


def store(vm_id: str, labels: dict[str, str]) -> None:
    """Make exactly `labels` the VM's labels."""
    db.session.execute(delete(VmLabel).where(VmLabel.vm_id == vm_id))
    if labels:
        rows = [{"vm_id": vm_id, "key": k, "value": v} for k, v in labels.items()]
        db.session.execute(insert(VmLabel), rows)


_ALL = select(VmLabel.vm_id, VmLabel.key, VmLabel.value).order_by(VmLabel.vm_id, VmLabel.key)
_OF = _ALL.where(VmLabel.vm_id.in_(prebuilt.ids()))


def of(vm_ids: list[str] | None = None) -> dict[str, dict[str, str]]:
    """The labels of the given VMs (or of every VM), by VM id."""
    rows = prebuilt.run(_ALL) if vm_ids is None else prebuilt.run(_OF, {"ids": vm_ids})
    found: dict[str, dict[str, str]] = {}
    for vm_id, key, value in rows:
        found.setdefault(vm_id, {})[key] = value
    return found


def matching(labels: dict[str, str]):
    """A condition on Vm: it carries every one of `labels`."""
    return and_(
        *(
            exists().where(VmLabel.vm_id == Vm.id, VmLabel.key == key, VmLabel.value == value)
            for key, value in labels.items()
        )
    )
