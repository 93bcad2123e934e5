"""Reviews and corrections: new records that point at an earlier answer, never edits of it."""

from __future__ import annotations

from typing import Any

from app.trail.access import Actor, require_compliance
from app.trail.errors import RecordError
from app.trail.record import ANSWER_LIKE_KINDS, REVIEW_STATUSES, AnswerRecord
from app.trail.store import StoredRecord, TrailQuery, TrailStore
from ingestion.errors import InputError, PermissionDenied

# A prediction is a model's output, not prose: it is reviewed, never rewritten.
CORRECTABLE_KINDS = ("answer", "correction", "digest")


def _original(
    store: TrailStore, record_id: str, kinds: tuple[str, ...], action: str
) -> StoredRecord:
    original = store.get(record_id)
    kind = original.record.get("kind")
    if kind not in kinds:
        raise InputError(
            f"record {original.id} is a {kind}, not an answer: it cannot be {action}",
            hint=f"only records of kind {', '.join(kinds)} can be {action}",
        )
    return original


def _append_follow_up(
    store: TrailStore, original: StoredRecord, author: Actor, note: str, **fields: Any
) -> StoredRecord:
    """Append a record about ``original`` by ``author`` (kind, status and text in ``fields``)."""
    try:
        follow_up = AnswerRecord(
            user=author.name,
            role=author.role,
            refers_to=original.id,
            note=note.strip(),
            **fields,
        )
    except ValueError as exc:  # pydantic's ValidationError: a bad status for this kind
        raise RecordError(f"not a valid {fields.get('kind')}: {exc}") from exc
    return store.append(follow_up)


def review_answer(
    store: TrailStore, record_id: str, *, reviewer: Actor, status: str, note: str
) -> StoredRecord:
    """Append a compliance review of answer ``record_id`` (approved / flagged / escalated).

    The review is its own record (who, role, when, status, note) with ``refers_to`` set to the
    answer's id; the answer itself is never touched. Answers, corrections, digests and
    predictions can be reviewed. Reviewers cannot review their own answers.

    Raises:
        PermissionDenied: the reviewer is not compliance, or reviews their own answer.
        InputError: unknown status, empty note, or the target is a review or an event.
        NotFoundError: no such record.
    """
    require_compliance(reviewer, "review answer records")
    if status not in REVIEW_STATUSES:
        raise InputError(
            f"unknown review status '{status}'", hint=f"use one of {', '.join(REVIEW_STATUSES)}"
        )
    if not note.strip():
        raise InputError("a review needs a note", hint="say why, e.g. --note 'figures check out'")
    original = _original(store, record_id, ANSWER_LIKE_KINDS, "reviewed")
    if original.record.get("user") == reviewer.name:
        raise PermissionDenied(
            f"{reviewer.name} may not review their own answer {original.id}",
            hint="another compliance officer must review it",
        )
    return _append_follow_up(store, original, reviewer, note, kind="review", status=status)


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

    Compliance or the answer's own user may correct it; ``note`` says what was wrong. Answers,
    corrections and digests can be corrected (a prediction is reviewed, not rewritten).
    """
    original = _original(store, record_id, CORRECTABLE_KINDS, "corrected")
    if author.role != "compliance" and original.record.get("user") != author.name:
        raise PermissionDenied(
            f"{author.name} ({author.role}) may not correct another user's answer",
            hint="the answer's user or compliance may correct it",
        )
    if not note.strip():
        raise InputError("a correction needs a note saying what was wrong")
    question = str(original.record.get("question", ""))
    return _append_follow_up(
        store,
        original,
        author,
        note,
        kind="correction",
        status=status,
        question=question,
        answer=answer,
    )


def follow_ups(store: TrailStore, record_id: str) -> list[StoredRecord]:
    """The reviews and corrections that point at ``record_id``, oldest first."""
    return store.read(TrailQuery(refers_to=record_id))
