"""Per-user API tokens for ``sightline serve``: random secrets, stored only as their hash.

A token reads ``slt_<id>_<secret>``: the id names it (shown in lists, used to revoke it), the
secret is 32 random bytes that only the holder has. ``tokens.json`` in the data dir keeps the
id, the user, who created it and when, and ``sha256(secret)`` — a fast hash is enough for a
secret of 256 random bits (nothing to guess), and the file never holds a usable token. A
revoked token stays listed with who revoked it and when.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ingestion.errors import NotFoundError, PermissionDenied
from ingestion.jsonfile import locked, write_atomic

FILE_NAME = "tokens.json"
TOKEN = re.compile(r"^slt_([0-9a-f]{12})_([A-Za-z0-9_\-]{43})$")


class InvalidToken(PermissionDenied):
    """A request's token is missing, malformed, unknown or revoked."""


@dataclass(frozen=True)
class TokenEntry:
    """One token as stored (no secret)."""

    id: str
    user: str
    created_at: str
    created_by: str
    sha256: str
    revoked_at: str | None = None
    revoked_by: str | None = None

    def public(self) -> dict[str, Any]:
        """The entry without its hash (what `tokens list` shows)."""
        return {k: v for k, v in asdict(self).items() if k != "sha256"}


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class TokenStore:
    """The tokens file in the data dir."""

    def __init__(self, home: Path) -> None:
        """The store at ``home/tokens.json`` (created on first write)."""
        self.path = Path(home) / FILE_NAME

    def create(self, user: str, *, by: str) -> tuple[TokenEntry, str]:
        """A new token for ``user``: its entry and the token text (shown once, never stored)."""
        token_id = secrets.token_hex(6)
        secret = secrets.token_urlsafe(32)
        entry = TokenEntry(token_id, user, _now(), by, _digest(secret))
        with locked(self.path):
            data = self._read()
            data[token_id] = entry
            self._write(data)
        return entry, f"slt_{token_id}_{secret}"

    def revoke(self, token_id: str, *, by: str) -> TokenEntry:
        """Mark a token revoked (NotFoundError for an unknown id)."""
        with locked(self.path):
            data = self._read()
            if token_id not in data:
                raise NotFoundError(
                    f"no token with id '{token_id}'", hint="list them with `sightline tokens list`"
                )
            old = data[token_id]
            if old.revoked_at:
                return old
            entry = TokenEntry(**(asdict(old) | {"revoked_at": _now(), "revoked_by": by}))
            data[token_id] = entry
            self._write(data)
        return entry

    def get(self, token_id: str) -> TokenEntry:
        """The entry of ``token_id`` (NotFoundError when unknown)."""
        data = self._read()
        if token_id not in data:
            raise NotFoundError(f"no token with id '{token_id}'")
        return data[token_id]

    def list(self) -> list[TokenEntry]:
        """Every token, oldest first."""
        return sorted(self._read().values(), key=lambda e: (e.created_at, e.id))

    def verify(self, token: str) -> TokenEntry:
        """The entry of a presented token, or InvalidToken (same message whatever was wrong)."""
        match = TOKEN.match(token or "")
        entry = self._read().get(match.group(1)) if match else None
        # compare_digest runs even for an unknown id, so timing does not tell ids apart
        expected = entry.sha256 if entry else "0" * 64
        good = hmac.compare_digest(expected, _digest(match.group(2) if match else ""))
        if entry is None or not good or entry.revoked_at:
            raise InvalidToken(
                "invalid or revoked API token",
                hint="send 'Authorization: Bearer TOKEN' (a token from `sightline tokens create`)",
            )
        return entry

    def _read(self) -> dict[str, TokenEntry]:
        if not self.path.exists():
            return {}
        raw = json.loads(self.path.read_text(encoding="utf-8"))
        return {t["id"]: TokenEntry(**t) for t in raw["tokens"]}

    def _write(self, data: dict[str, TokenEntry]) -> None:
        write_atomic(self.path, {"tokens": [asdict(e) for e in data.values()]})
