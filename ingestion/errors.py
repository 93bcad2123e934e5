"""Sightline's error tree: every error a user can see is one of these.

    SightlineError                 anything Sightline reports to a user (never a traceback)
    ├── ConfigError                a setting is missing or malformed
    ├── InputError                 the caller gave us something we cannot use
    │   └── ValidationError        a file or frame failed its table schema (lists every problem)
    ├── NotFoundError              an unknown ticker, user, document, model or record
    ├── PermissionDenied           role or entitlement refuses the action
    └── StoreError                 a storage backend (DuckDB, Chroma, SQLite) failed underneath us

Other packages subclass these where they need a finer name (e.g. ``tools.errors.GuardError``).
Errors from duckdb/chromadb/openai are translated into this tree where they enter our code.
Each error carries a ``hint``: what the user should do next.
"""

from __future__ import annotations

from dataclasses import dataclass


class SightlineError(Exception):
    """Base of every error shown to a user."""

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        if self.hint:
            return f"{self.message}\n  hint: {self.hint}"
        return self.message


class ConfigError(SightlineError):
    """A setting is missing or malformed."""


class InputError(SightlineError):
    """The caller gave us input we cannot use."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input file: where (row, column) and what."""

    message: str
    row: int | None = None  # 1-based line number in the file (header = line 1), None = whole file
    column: str | None = None

    def __str__(self) -> str:
        where = []
        if self.row is not None:
            where.append(f"line {self.row}")
        if self.column is not None:
            where.append(f"column '{self.column}'")
        prefix = ", ".join(where)
        return f"{prefix}: {self.message}" if prefix else self.message


class ValidationError(InputError):
    """An input failed its schema; ``problems`` lists every problem found (first 20 shown)."""

    MAX_SHOWN = 20

    def __init__(self, what: str, problems: list[Problem], *, hint: str | None = None) -> None:
        self.what = what
        self.problems = problems
        shown = "\n".join(f"  - {p}" for p in problems[: self.MAX_SHOWN])
        more = len(problems) - self.MAX_SHOWN
        if more > 0:
            shown += f"\n  ... and {more} more"
        super().__init__(
            f"{what}: {len(problems)} problem(s); nothing was written.\n{shown}",
            hint=hint or "fix the listed rows/columns and load the file again",
        )


class NotFoundError(SightlineError):
    """Something named by the user does not exist."""


class PermissionDenied(SightlineError):
    """The user's role or entitlements do not allow this action."""


class StoreError(SightlineError):
    """A storage backend failed underneath us."""
