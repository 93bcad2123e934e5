"""Errors for document uploads: a rejected file says why, in words a researcher can act on."""

from __future__ import annotations

from ingestion.errors import InputError


class DocumentRejected(InputError):
    """A document was refused (type, size, pages, encryption, parse failure or empty text).

    ``reason`` is a short machine-readable code (``too_large``, ``bad_type``, ``too_many_pages``,
    ``encrypted``, ``parse_failed``, ``parse_timeout``, ``parse_killed``, ``empty_text``,
    ``entities``, ``no_groups``), recorded with the quarantined copy.
    """

    def __init__(self, message: str, *, reason: str, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.reason = reason
