"""Errors of the answer trail, as finer names under the shared tree in ``ingestion.errors``.

StoreError
└── TrailError                 the answer trail failed or refused
    ├── TrailWriteError        a record could not be made durable (disk full, I/O error, lock):
    │                          nothing was written and the answer must be withheld
    └── AppendOnlyError        something tried to edit or delete a record
InputError
└── RecordError                a record does not fit the answer-record schema
"""

from __future__ import annotations

from ingestion.errors import InputError, StoreError


class TrailError(StoreError):
    """The answer trail failed underneath us or refused an operation."""


class TrailWriteError(TrailError):
    """A record could not be written durably; nothing of it was stored.

    The agent must withhold the answer when it sees this error: an answer is shown only after its
    record is durable (SECURITY.md row 4).
    """


class AppendOnlyError(TrailError):
    """An edit or delete of a stored record was attempted (refused by the store and by SQL)."""


class RecordError(InputError):
    """A record does not fit the answer-record schema (the message names the field)."""
