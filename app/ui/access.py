"""Who may open which page and run which action in the app (SECURITY.md row 21).

The navigation shows only the pages a role may open, but hiding is not the control: every page
calls :func:`authorize` before it reads anything, and every button calls it again before it acts,
with the user re-read from the users file on each run. A crafted URL (``?page=trail``) or session
state therefore reaches the same refusal as a direct call. The backends (trail, registry) check
roles again themselves.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.users import ROLES, User
from ingestion.errors import PermissionDenied

ALL_ROLES = frozenset(ROLES)

# action -> roles allowed. Actions are named "<page>.<verb>"; "<page>.view" opens the page.
ACTIONS: dict[str, frozenset[str]] = {
    "chat.view": ALL_ROLES,
    "chat.ask": ALL_ROLES,
    "documents.view": frozenset({"researcher", "admin"}),
    "documents.upload": frozenset({"researcher", "admin"}),
    "documents.delete": frozenset({"researcher", "admin"}),
    # Only compliance reads other users' answer records and reviews them.
    "trail.view": frozenset({"compliance"}),
    "trail.verify": frozenset({"compliance"}),
    "trail.review": frozenset({"compliance"}),
    "trail.export": frozenset({"compliance"}),
    "models.view": frozenset({"model_owner", "validator", "compliance", "admin"}),
    # Mirrors tools.registry (REGISTER_ROLES, CHECKER_ROLES, RETIRE_ROLES), which checks again.
    "models.train": frozenset({"model_owner", "admin"}),
    "models.validate": frozenset({"validator"}),
    "models.approve": frozenset({"validator"}),
    "models.retire": frozenset({"model_owner", "validator", "admin"}),
    "data.view": ALL_ROLES,
    # Batch runs and morning reports (docs/batch.md); monitoring of models and data.
    "reports.view": frozenset({"analyst", "compliance", "model_owner", "validator", "admin"}),
    "reports.generate": frozenset({"analyst", "compliance", "admin"}),
    "monitoring.view": frozenset({"model_owner", "validator", "compliance", "admin"}),
    "monitoring.record": frozenset({"model_owner", "validator", "admin"}),
    # Digests read only the documents the user's groups may see (docs/digest.md).
    "digest.view": frozenset({"analyst", "researcher", "compliance", "admin"}),
    "digest.run": frozenset({"analyst", "researcher", "compliance", "admin"}),
}


@dataclass(frozen=True)
class PageInfo:
    """A page of the app: its key (used in the URL), title and icon."""

    key: str
    title: str
    icon: str
    what: str  # one line shown in a refusal: what the page is for


PAGES: tuple[PageInfo, ...] = (
    PageInfo("chat", "Ask", ":material/chat:", "questions answered with citations"),
    PageInfo("documents", "Documents", ":material/description:", "research document upload"),
    PageInfo("trail", "Answer trail", ":material/fact_check:", "the answer trail"),
    PageInfo("models", "Models", ":material/model_training:", "the model registry"),
    PageInfo("data", "Data", ":material/table:", "warehouse tables and features"),
    PageInfo("reports", "Reports", ":material/summarize:", "batch runs and morning reports"),
    PageInfo("monitoring", "Monitoring", ":material/monitor_heart:", "model and data drift"),
    PageInfo("digest", "Digest", ":material/difference:", "what changed across filings"),
)
PAGE_KEYS = tuple(p.key for p in PAGES)


def allowed(user: User, action: str) -> bool:
    """True when ``user``'s role may perform ``action`` (unknown actions: never)."""
    return user.role in ACTIONS.get(action, frozenset())


def authorize(user: User, action: str) -> None:
    """Raise PermissionDenied unless ``user``'s role may perform ``action``."""
    if not allowed(user, action):
        roles = ", ".join(sorted(ACTIONS.get(action, ()))) or "no role"
        raise PermissionDenied(
            f"{user.name} ({user.role}) may not {action.replace('.', ': ')}",
            hint=f"this is open to: {roles}; ask an administrator if you need access",
        )


def visible_pages(user: User) -> list[PageInfo]:
    """The pages ``user`` may open, in menu order."""
    return [page for page in PAGES if allowed(user, f"{page.key}.view")]


def page_info(key: str) -> PageInfo | None:
    """The page called ``key``, or None."""
    return next((p for p in PAGES if p.key == key), None)
