"""Reviews and corrections: new records that point at an earlier answer, never edits of it."""

from __future__ import annotations

from app.trail.access import Actor, require_compliance
from app.trail.errors import RecordError
from app.trail.record import REVIEW_STATUSES, AnswerRecord
from app.trail.store import StoredRecord, TrailQuery, TrailStore
from ingestion.errors import InputError, PermissionDenied


def review_answer(
    store: TrailStore, record_id: str, *, reviewer: Actor, status: str, note: str
) -> StoredRecord:
    """Append a compliance review of answer ``record_id`` (approved / flagged / escalated).

    The review is its own record (who, role, when, status, note) with ``refers_to`` set to the
    answer's id; the answer itself is never touched. Reviewers cannot review their own answers.

    Raises:
        PermissionDenied: the reviewer is not compliance, or reviews their own answer.
        InputError: unknown status, empty note, or the target is not an answer or correction.
        NotFoundError: no such record.
    """
    require_compliance(reviewer, "review answer records")
    if status not in REVIEW_STATUSES:
        raise InputError(
            f"unknown review status '{status}'", hint=f"use one of {', '.join(REVIEW_STATUSES)}"
        )
    if not note.strip():
        raise InputError("a review needs a note", hint="say why, e.g. --note 'figures check out'")
    original = store.get(record_id)
    if original.record.get("kind") not in ("answer", "correction"):
        raise InputError(
            f"record {original.id} is a {original.record.get('kind')}, not an answer",
            hint="review the answer record itself",
        )
    if original.record.get("user") == reviewer.name:
        raise PermissionDenied(
            f"{reviewer.name} may not review their own answer {original.id}",
            hint="another compliance officer must review it",
        )
    review = AnswerRecord(
        kind="review",
        user=reviewer.name,
        role=reviewer.role,
        status=status,
        refers_to=original.id,
        note=note.strip(),
    )
    return store.append(review)


def correct_answer(
    store: TrailStore,
    record_id: str,
    *,
    author: Actor,
    answer: str,
    note: str,
    status: str = "answered",
) -> StoredRecord:
    """Append a correction of answer ``record_id``: a new answer text, both stay visible.

    Compliance or the answer's own user may correct it; ``note`` says what was wrong.
    """
    original = store.get(record_id)
    if original.record.get("kind") not in ("answer", "correction"):
        raise InputError(f"record {original.id} is not an answer and cannot be corrected")
    if author.role != "compliance" and original.record.get("user") != author.name:
        raise PermissionDenied(
            f"{author.name} ({author.role}) may not correct another user's answer",
            hint="the answer's user or compliance may correct it",
        )
    if not note.strip():
        raise InputError("a correction needs a note saying what was wrong")
    try:
        correction = AnswerRecord(
            kind="correction",
            user=author.name,
            role=author.role,
            status=status,
            refers_to=original.id,
            question=str(original.record.get("question", "")),
            answer=answer,
            note=note.strip(),
        )
    except ValueError as exc:
        raise RecordError(f"not a valid correction: {exc}") from exc
    return store.append(correction)


def follow_ups(store: TrailStore, record_id: str) -> list[StoredRecord]:
    """The reviews and corrections that point at ``record_id``, oldest first."""
    return store.read(TrailQuery(refers_to=record_id))
