"""VM health: where a VM is probed, how probe results become a verdict, and storing changes.

`up` after one successful probe, `down` after two failed probes in a row, `unknown` (NULL)
for a VM without an address or while probes are off. Only changes are written, each with a
`vm_updated`, so an unchanged pool costs no writes at all.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select, update

from loadzone.core import events, facts
from loadzone.extensions import db
from loadzone.models import Vm

DEFAULT_PORT = 22
FAILURES_FOR_DOWN = 2


def probe_target(address: str) -> tuple[str, int]:
    """(host, port) of a stored address: port 22 unless it names one; IPv6 in brackets."""
    if address.startswith("["):
        host, _, rest = address[1:].partition("]")
        port = rest[1:] if rest.startswith(":") else ""
    else:
        host, _, port = address.partition(":")
    return host, int(port) if port else DEFAULT_PORT


@dataclass
class Streaks:
    """Failed probes in a row per (VM, address), kept by the probing instance only.

    A new prober starts from nothing: a VM it finds failing needs two more failures to go
    down, never fewer.
    """

    failures: dict[tuple[str, str], int] = field(default_factory=dict)

    def verdict(self, key: tuple[str, str], reachable: bool) -> str | None:
        """ "up", "down", or None while one failure alone says nothing yet."""
        if reachable:
            self.failures.pop(key, None)
            return "up"
        count = self.failures.get(key, 0) + 1
        self.failures[key] = count
        return "down" if count >= FAILURES_FOR_DOWN else None

    def keep_only(self, keys: set[tuple[str, str]]) -> None:
        """Forget VMs that were removed or changed their address."""
        for key in set(self.failures) - keys:
            del self.failures[key]


def targets() -> list[tuple[str, str, str | None]]:
    """(VM id, address, stored health) of every VM that has an address."""
    query = select(Vm.id, Vm.address, Vm.health).where(Vm.address.is_not(None)).order_by(Vm.id)
    return [tuple(row) for row in db.session.execute(query)]


def store(verdicts: dict[str, tuple[str, str]], now: datetime) -> list[str]:
    """Write each {vm_id: (address, health)} that still changes the VM; return those ids.

    The address condition drops a verdict about an address edited away meanwhile.
    """
    changed = []
    for vm_id, (address, health) in sorted(verdicts.items()):
        result = db.session.execute(
            update(Vm)
            .where(Vm.id == vm_id, Vm.address == address, Vm.health.is_distinct_from(health))
            .values(health=health, health_since=now)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount:
            events.record(db.session, facts.VmChanged(vm_id, now))
            changed.append(vm_id)
    return changed


def forget(now: datetime) -> list[str]:
    """Probes are off: every VM's health becomes unknown (one vm_updated per change)."""
    known = list(db.session.scalars(select(Vm.id).where(Vm.health.is_not(None))))
    if known:
        db.session.execute(
            update(Vm)
            .where(Vm.id.in_(known))
            .values(health=None, health_since=None)
            .execution_options(synchronize_session=False)
        )
    for vm_id in known:
        events.record(db.session, facts.VmChanged(vm_id, now))
    return known
