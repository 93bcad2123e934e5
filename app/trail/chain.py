"""The hash chain: how a record's hash is computed, and how a whole chain is checked.

``hash = sha256(prev_hash || canonical_json(record))`` where ``prev_hash`` is the previous
record's hash as 64 lowercase hex characters (the first record uses 64 zeros) and the hashed JSON
is the stored body: the record plus its ``seq`` and ``appended_at``. Anyone can recompute it with
``hashlib`` from an export; nothing here depends on the store.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

GENESIS_HASH = "0" * 64


def chain_hash(prev_hash: str | bytes, body: bytes) -> str:
    """The hash of a record whose canonical body is ``body``, following ``prev_hash``."""
    prev = prev_hash.encode("ascii") if isinstance(prev_hash, str) else prev_hash
    return hashlib.sha256(prev + body).hexdigest()


@dataclass(frozen=True)
class ChainBase:
    """Where the stored chain starts: after ``seq`` with hash ``hash`` (0 and zeros, or a purge)."""

    seq: int = 0
    hash: str = GENESIS_HASH


@dataclass(frozen=True)
class Head:
    """The chain head: how many records are stored, the last ``seq`` and its hash."""

    count: int
    seq: int
    hash: str
    id: str | None = None


@dataclass(frozen=True)
class Break:
    """The first record where the chain does not hold: its position, id (if readable), why."""

    seq: int
    id: str | None
    reason: str


@dataclass
class VerifyResult:
    """Outcome of ``verify_chain``: ``ok``, what was checked, and the first break if any."""

    ok: bool
    checked: int
    head: Head
    first_break: Break | None = None
    anchor: dict[str, Any] | None = None
    problems: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """The result as plain JSON (the ``trail verify --json`` shape)."""
        return {
            "ok": self.ok,
            "checked": self.checked,
            "head": asdict(self.head),
            "first_break": asdict(self.first_break) if self.first_break else None,
            "anchor": self.anchor,
            "problems": self.problems,
        }


def _record_id(body: bytes) -> str | None:
    try:
        value = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None
    return value.get("id") if isinstance(value, dict) else None


def verify_chain(
    rows: Iterable[tuple[int, bytes, bytes, bytes]], base: ChainBase = ChainBase()
) -> VerifyResult:
    """Check every link of a chain given as ``(seq, prev_hash, hash, body)`` rows in seq order.

    A row breaks the chain when its seq is not the next one (a record is missing), its
    ``prev_hash`` is not the previous row's hash (deleted, swapped or reordered records), or its
    hash is not ``sha256(prev_hash || body)`` (an edited byte). Stops at the first break.
    """
    sha256 = hashlib.sha256
    expected_seq = base.seq + 1
    prev = base.hash.encode("ascii")
    checked = 0
    last_seq = base.seq
    for seq, stored_prev, stored_hash, body in rows:
        problem = None
        if seq != expected_seq:
            problem = (
                f"record at position {expected_seq} is missing (next stored position is {seq})"
            )
        elif stored_prev != prev:
            problem = "its prev_hash does not match the previous record's hash"
        elif sha256(prev + body).hexdigest().encode("ascii") != stored_hash:
            problem = "its content does not match its hash (the record was altered)"
        if problem is not None:
            bad_seq = expected_seq if seq != expected_seq else seq
            return VerifyResult(
                ok=False,
                checked=checked,
                head=Head(count=checked, seq=last_seq, hash=prev.decode("ascii")),
                first_break=Break(seq=bad_seq, id=_record_id(body), reason=problem),
            )
        prev = stored_hash
        last_seq = seq
        expected_seq = seq + 1
        checked += 1
    return VerifyResult(
        ok=True, checked=checked, head=Head(count=checked, seq=last_seq, hash=prev.decode("ascii"))
    )


def check_anchor(
    result: VerifyResult, anchor: dict[str, Any], hash_at: str | None, base: ChainBase = ChainBase()
) -> None:
    """Compare a verified chain with an anchor; mark ``result`` failed when they disagree.

    ``hash_at`` is the stored hash at the anchor's seq (None when no such record is stored). The
    chain must still contain the anchored record with the anchored hash: a truncated tail or an
    older copy of the file fails here even though its own links are intact. An anchor older than
    a recorded purge (``base``) cannot be compared and is reported as unchecked (``ok: None``).
    """
    seq, expected = int(anchor["seq"]), str(anchor["hash"])
    result.anchor = {"seq": seq, "hash": expected, "ok": True}
    if seq < base.seq:
        # The anchored record was removed by a purge that the chain itself records (verify
        # checks that): this anchor is older than the purge and can no longer be compared.
        result.anchor["ok"] = None
        result.anchor["note"] = (
            f"the anchored record was purged (the trail now starts after position {base.seq}); "
            "take a new anchor"
        )
        return
    problem = None
    if result.head.seq < seq:
        problem = (
            f"the trail ends at position {result.head.seq} but the anchor was taken at position "
            f"{seq}: records were removed from the end or an older copy was restored"
        )
    elif hash_at is None:
        problem = f"the anchored record at position {seq} is no longer stored"
    elif hash_at != expected:
        problem = f"the record at position {seq} does not have the anchored hash"
    if problem:
        result.anchor["ok"] = False
        result.ok = False
        result.problems.append(problem)
        if result.first_break is None:
            result.first_break = Break(seq=min(seq, result.head.seq + 1), id=None, reason=problem)


@dataclass(frozen=True)
class RangeCheck:
    """``verify_chain`` over the positions ``lo < seq <= hi`` only, trusting its first link.

    ``first_seq``/``first_prev`` are the first row read (None when the range held no rows);
    ``stitch_ranges`` checks that link against the previous range's last hash.
    """

    lo: int
    hi: int
    first_seq: int | None
    first_prev: str | None
    result: VerifyResult


def check_range(rows: Iterable[tuple[int, bytes, bytes, bytes]], lo: int, hi: int) -> RangeCheck:
    """Verify one range of a chain on its own (see ``RangeCheck``)."""
    iterator = iter(rows)
    first = next(iterator, None)
    if first is None:
        empty = verify_chain((), ChainBase(seq=lo))
        return RangeCheck(lo=lo, hi=hi, first_seq=None, first_prev=None, result=empty)
    first_prev = first[1].decode("ascii", errors="replace")
    result = verify_chain(itertools.chain([first], iterator), ChainBase(seq=lo, hash=first_prev))
    return RangeCheck(lo=lo, hi=hi, first_seq=first[0], first_prev=first_prev, result=result)


def stitch_ranges(parts: Sequence[RangeCheck], base: ChainBase) -> VerifyResult:
    """Join consecutive range checks into the result ``verify_chain`` gives for the whole chain.

    Each range must link to the previous one (its first ``prev_hash`` is the previous range's last
    hash), hold no break, and be complete; the first failure in position order is reported.
    """
    expected, checked, last_seq = base.hash, 0, base.seq

    def failed(seq: int, reason: str, record_id: str | None = None) -> VerifyResult:
        return VerifyResult(
            ok=False,
            checked=checked,
            head=Head(count=checked, seq=last_seq, hash=expected),
            first_break=Break(seq=seq, id=record_id, reason=reason),
        )

    for part in parts:
        if part.first_seq == part.lo + 1 and part.first_prev != expected:
            return failed(part.lo + 1, "its prev_hash does not match the previous record's hash")
        bad = part.result.first_break
        if part.result.checked:  # what verified before a break inside this range still counts
            expected, last_seq = part.result.head.hash, part.result.head.seq
        if bad is not None:
            checked += part.result.checked
            return failed(bad.seq, bad.reason, bad.id)
        if part.result.checked < part.hi - part.lo:
            checked += part.result.checked
            return failed(
                part.lo + part.result.checked + 1,
                f"record at position {part.lo + part.result.checked + 1} is missing",
            )
        checked += part.result.checked
    return VerifyResult(ok=True, checked=checked, head=Head(checked, last_seq, expected))
