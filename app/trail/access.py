"""Who may do what with the answer trail (SECURITY.md row 21), checked server-side on every call.

Everyone reads their own records; only compliance reads other users' records, reviews, purges.
Verifying and anchoring show positions and hashes but no content: compliance and admin.
"""

from __future__ import annotations

from typing import Protocol

from ingestion.errors import PermissionDenied

COMPLIANCE = "compliance"
CHAIN_ROLES = (COMPLIANCE, "admin")


class Actor(Protocol):
    """Anyone acting on the trail: a name and a role (``app.users.User`` fits)."""

    @property
    def name(self) -> str:
        """The user's name."""
        ...

    @property
    def role(self) -> str:
        """The user's one role."""
        ...


def reads_everyone(actor: Actor) -> bool:
    """True when ``actor`` may read every user's records."""
    return actor.role == COMPLIANCE


def check_read(actor: Actor, owner: str) -> None:
    """Refuse unless ``actor`` may read records asked by ``owner``."""
    if owner != actor.name and not reads_everyone(actor):
        raise PermissionDenied(
            f"{actor.name} ({actor.role}) may not read answer records of other users",
            hint="only the compliance role reads other users' records",
        )


def require_compliance(actor: Actor, action: str) -> None:
    """Refuse ``action`` unless ``actor`` has the compliance role."""
    if actor.role != COMPLIANCE:
        raise PermissionDenied(
            f"{actor.name} ({actor.role}) may not {action}",
            hint=f"only the compliance role may {action}",
        )


def require_chain_role(actor: Actor, action: str) -> None:
    """Refuse ``action`` (verify/anchor) unless ``actor`` is compliance or admin."""
    if actor.role not in CHAIN_ROLES:
        raise PermissionDenied(
            f"{actor.name} ({actor.role}) may not {action}",
            hint=f"{action} needs the compliance or admin role",
        )
