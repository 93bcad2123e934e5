"""Users, their roles and their access groups (information barriers), stored in the data dir.

The store is ``users.json`` (readable, diffable), replaced atomically under a lock. Passwords are
kept only as scrypt hashes. Every command that acts for someone resolves the name here first, so an
unknown user is refused before anything happens.
"""

from __future__ import annotations

import builtins
import contextlib
import hashlib
import hmac
import json
import re
import secrets
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from ingestion.errors import InputError, NotFoundError
from ingestion.jsonfile import locked, write_atomic

ROLES = ("analyst", "researcher", "compliance", "model_owner", "validator", "admin")
NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_.\-]{0,39}$")
GROUP_PATTERN = re.compile(r"^[a-z][a-z0-9\-]{0,39}$")
PUBLIC_GROUP = "public"
DEMO_PASSWORD = "sightline-demo"

# One demo user per role, plus a private-side analyst behind the information barrier.
DEMO_USERS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("analyst", "analyst", (PUBLIC_GROUP,)),
    ("analyst_private", "analyst", (PUBLIC_GROUP, "deal-team")),
    ("researcher", "researcher", (PUBLIC_GROUP, "deal-team")),
    ("compliance", "compliance", (PUBLIC_GROUP,)),
    ("model_owner", "model_owner", (PUBLIC_GROUP,)),
    ("validator", "validator", (PUBLIC_GROUP,)),
    ("admin", "admin", (PUBLIC_GROUP,)),
)


@dataclass(frozen=True)
class User:
    """A person: name, one role, the access groups whose documents they may see."""

    name: str
    role: str
    groups: tuple[str, ...] = (PUBLIC_GROUP,)
    created_at: str = ""
    password_hash: str = field(default="", repr=False)

    def public(self) -> dict[str, object]:
        """The user without the password hash (for listings)."""
        return {
            "name": self.name,
            "role": self.role,
            "groups": list(self.groups),
            "created_at": self.created_at,
        }


def hash_password(password: str, *, salt: bytes | None = None) -> str:
    """Scrypt hash in the form ``scrypt$n$r$p$salt_hex$hash_hex``."""
    salt = salt if salt is not None else secrets.token_bytes(16)
    n, r, p = 2**14, 8, 1
    digest = hashlib.scrypt(password.encode(), salt=salt, n=n, r=r, p=p, dklen=32)
    return f"scrypt${n}${r}${p}${salt.hex()}${digest.hex()}"


def check_password(password: str, stored: str) -> bool:
    """True when ``password`` matches the stored scrypt hash (constant-time compare)."""
    try:
        scheme, n, r, p, salt_hex, hash_hex = stored.split("$")
    except ValueError:
        return False
    if scheme != "scrypt":
        return False
    digest = hashlib.scrypt(
        password.encode(), salt=bytes.fromhex(salt_hex), n=int(n), r=int(r), p=int(p), dklen=32
    )
    return hmac.compare_digest(digest.hex(), hash_hex)


def parse_groups(text: str | None) -> tuple[str, ...]:
    """Parse ``G1,G2`` into validated group names (``public`` when empty)."""
    if not text:
        return (PUBLIC_GROUP,)
    groups = tuple(dict.fromkeys(g.strip() for g in text.split(",") if g.strip()))
    bad = [g for g in groups if not GROUP_PATTERN.fullmatch(g)]
    if bad or not groups:
        raise InputError(
            f"invalid access group(s): {', '.join(bad) or text!r}",
            hint="groups are lower-case words joined by '-', comma-separated: public,deal-team",
        )
    return groups


class UserStore:
    """The users file in the data dir."""

    def __init__(self, home: Path) -> None:
        self.path = Path(home) / "users.json"

    def list(self) -> list[User]:
        """Every user, sorted by name."""
        return sorted(self._read().values(), key=lambda u: u.name)

    def get(self, name: str) -> User:
        """The user called ``name``; NotFoundError when there is none."""
        users = self._read()
        if name not in users:
            raise NotFoundError(
                f"unknown user '{name}'",
                hint="list users with `sightline users list`; add one with `sightline users add`",
            )
        return users[name]

    def add(
        self,
        name: str,
        role: str,
        groups: tuple[str, ...] = (PUBLIC_GROUP,),
        *,
        password: str | None = None,
        exist_ok: bool = False,
    ) -> User:
        """Create a user; refuses duplicates unless ``exist_ok`` (then returns the existing one)."""
        if not NAME_PATTERN.fullmatch(name):
            raise InputError(
                f"invalid user name '{name}'",
                hint="use lower-case letters, digits, '.', '_' or '-', starting with a letter",
            )
        if role not in ROLES:
            raise InputError(f"unknown role '{role}'", hint=f"choose one of: {', '.join(ROLES)}")
        for group in groups:
            if not GROUP_PATTERN.fullmatch(group):
                raise InputError(f"invalid access group '{group}'")
        with self._locked():
            users = self._read()
            if name in users:
                if exist_ok:
                    return users[name]
                raise InputError(f"user '{name}' already exists")
            user = User(
                name=name,
                role=role,
                groups=tuple(groups),
                created_at=datetime.now(UTC).isoformat(timespec="seconds"),
                password_hash=hash_password(password) if password else "",
            )
            users[name] = user
            self._write(users)
        return user

    def authenticate(self, name: str, password: str) -> User | None:
        """The user when name and password match, else None."""
        try:
            user = self.get(name)
        except NotFoundError:
            return None
        if user.password_hash and check_password(password, user.password_hash):
            return user
        return None

    def ensure_demo_users(self) -> builtins.list[str]:
        """Create the demo users that do not exist yet; return the names created."""
        existing = self._read()
        created = []
        for name, role, groups in DEMO_USERS:
            if name not in existing:
                self.add(name, role, groups, password=DEMO_PASSWORD, exist_ok=True)
                created.append(name)
        return created

    def _read(self) -> dict[str, User]:
        if not self.path.exists():
            return {}
        data = json.loads(self.path.read_text(encoding="utf-8"))
        return {
            u["name"]: User(
                name=u["name"],
                role=u["role"],
                groups=tuple(u["groups"]),
                created_at=u.get("created_at", ""),
                password_hash=u.get("password_hash", ""),
            )
            for u in data["users"]
        }

    def _write(self, users: dict[str, User]) -> None:
        payload = {"users": [asdict(u) | {"groups": list(u.groups)} for u in users.values()]}
        write_atomic(self.path, payload)

    def _locked(self) -> contextlib.AbstractContextManager[None]:
        return locked(self.path)
