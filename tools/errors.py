"""Errors raised by the agent tools, as finer names in Sightline's error tree.

ingestion.errors.InputError
└── ToolInputError            a tool was called with arguments it cannot use
    ├── GuardError            the SQL guard refused a statement (before it ran)
    ├── InsufficientData      too little history, or fundamentals missing for a model input
    └── LifecycleError        a model status change that the lifecycle does not allow
ingestion.errors.NotFoundError
├── UnknownEntity             a ticker, portfolio or issuer the warehouse does not hold
└── ModelNotFound             an unknown model or version, or no approved version to serve
ingestion.errors.PermissionDenied
├── GovernanceError           maker-checker or role rules refuse a model lifecycle step
└── BarrierError              a restricted ticker the user may not see (information barrier)
ingestion.errors.StoreError
└── QueryError                a guarded query failed, timed out or was interrupted
"""

from __future__ import annotations

from ingestion.errors import InputError, NotFoundError, PermissionDenied, StoreError


class ToolInputError(InputError):
    """A tool was called with arguments it cannot use (the message says what to fix)."""


class GuardError(ToolInputError):
    """The SQL guard refused a statement before it reached the database."""


class QueryError(StoreError):
    """A guarded query failed while running (error, timeout, interrupt)."""


class InsufficientData(ToolInputError):
    """A model input is missing or too short (history, fundamentals) for the requested figure."""


class LifecycleError(ToolInputError):
    """A model status change the lifecycle draft -> validated -> approved -> retired forbids."""


class UnknownEntity(NotFoundError):
    """A ticker, portfolio or issuer that the warehouse does not hold."""


class ModelNotFound(NotFoundError):
    """An unknown model or version, or a model with no approved version to serve."""


class GovernanceError(PermissionDenied):
    """Maker-checker or role rules refuse a model lifecycle step (e.g. approving own model)."""


class BarrierError(PermissionDenied):
    """A request names or returns a restricted ticker the user is not entitled to (SECURITY 9).

    The message says what was refused, never why it is restricted.
    """
