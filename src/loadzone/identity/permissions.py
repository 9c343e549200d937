"""Who may do what: predicates shared by the API, the UI and the use cases."""

from __future__ import annotations

from dataclasses import dataclass

from loadzone.errors import NotAllowed


@dataclass(frozen=True)
class Actor:
    """The person acting. `admins_configured` is False when LOADZONE_ADMINS is empty."""

    email: str
    is_admin: bool = False
    admins_configured: bool = False

    @property
    def can_manage(self) -> bool:
        """Add, edit and delete VMs and groups: admins, or everyone when no admin is set."""
        return self.is_admin or not self.admins_configured

    def can_change_booking(self, owner: str | None) -> bool:
        """Renew or release: the owner, or an admin."""
        return self.is_admin or (owner is not None and owner == self.email)


def require_manage(actor: Actor) -> None:
    if not actor.can_manage:
        raise NotAllowed("Only administrators may manage VMs and groups.", "admin_only")


def require_admin(actor: Actor) -> None:
    if not actor.is_admin:
        raise NotAllowed("Only administrators may do this.", "admin_only")
