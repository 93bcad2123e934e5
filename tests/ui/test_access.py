"""SECURITY.md row 21 at the app layer: which role may open which page and run which action."""

from __future__ import annotations

import pytest

from app.ui import access
from app.users import ROLES, User
from ingestion.errors import PermissionDenied


def user(role: str) -> User:
    return User(name=f"u-{role}", role=role)


def test_only_compliance_opens_or_acts_on_the_trail() -> None:
    for role in ROLES:
        for action in ("trail.view", "trail.verify", "trail.review", "trail.export"):
            assert access.allowed(user(role), action) is (role == "compliance"), (role, action)


@pytest.mark.parametrize(
    "role,pages",
    [
        ("analyst", ["chat", "data", "reports", "digest"]),
        ("researcher", ["chat", "documents", "data", "digest"]),
        ("compliance", ["chat", "trail", "models", "data", "reports", "monitoring", "digest"]),
        ("validator", ["chat", "models", "data", "reports", "monitoring"]),
        ("model_owner", ["chat", "models", "data", "reports", "monitoring"]),
        ("admin", ["chat", "documents", "models", "data", "reports", "monitoring", "digest"]),
    ],
)
def test_menu_per_role(role: str, pages: list[str]) -> None:
    assert [p.key for p in access.visible_pages(user(role))] == pages


def test_authorize_refuses_with_a_hint_and_unknown_actions_are_refused() -> None:
    with pytest.raises(PermissionDenied) as refused:
        access.authorize(user("analyst"), "trail.view")
    assert "compliance" in (refused.value.hint or "")
    access.authorize(user("compliance"), "trail.view")
    with pytest.raises(PermissionDenied):
        access.authorize(user("admin"), "anything.else")


def test_models_approval_is_for_validators_only() -> None:
    assert [r for r in ROLES if access.allowed(user(r), "models.approve")] == ["validator"]
    assert [r for r in ROLES if access.allowed(user(r), "models.train")] == ["model_owner", "admin"]


def test_model_roles_match_the_registry() -> None:
    from tools.registry import CHECKER_ROLES, REGISTER_ROLES, RETIRE_ROLES

    assert access.ACTIONS["models.train"] == REGISTER_ROLES
    assert access.ACTIONS["models.approve"] == CHECKER_ROLES
    assert access.ACTIONS["models.retire"] == RETIRE_ROLES
