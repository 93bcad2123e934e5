"""verify_chain fails after any single-byte change of any record (hypothesis)."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.trail.chain import GENESIS_HASH, chain_hash, verify_chain
from app.trail.record import canonical_json


def build_chain(n: int) -> list[tuple[int, bytes, bytes, bytes]]:
    rows, prev = [], GENESIS_HASH
    for seq in range(1, n + 1):
        body = canonical_json({"seq": seq, "answer": f"figure {seq * 1.5}", "user": "ana"})
        digest = chain_hash(prev, body)
        rows.append((seq, prev.encode(), digest.encode(), body))
        prev = digest
    return rows


def test_intact_chain_verifies() -> None:
    result = verify_chain(build_chain(20))
    assert result.ok and result.checked == 20 and result.head.seq == 20


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_any_single_byte_change_is_caught_at_its_record(data) -> None:
    rows = build_chain(12)
    index = data.draw(st.integers(0, len(rows) - 1))
    column = data.draw(st.sampled_from([1, 2, 3]))  # prev_hash, hash or body
    value = bytearray(rows[index][column])
    pos = data.draw(st.integers(0, len(value) - 1))
    value[pos] = data.draw(st.integers(0, 255).filter(lambda b: b != value[pos]))
    row = list(rows[index])
    row[column] = bytes(value)
    rows[index] = tuple(row)  # type: ignore[assignment]
    result = verify_chain(rows)
    assert not result.ok
    assert result.first_break is not None
    # A changed stored hash is noticed at its own record (it no longer matches) — or, never later
    # than the next record, whose prev_hash no longer matches it.
    assert result.first_break.seq == index + 1
    assert result.checked == index


def test_missing_and_reordered_records_are_named() -> None:
    rows = build_chain(10)
    missing = verify_chain(rows[:4] + rows[5:])
    assert not missing.ok and missing.first_break.seq == 5
    assert "missing" in missing.first_break.reason
    swapped = rows[:]
    swapped[3], swapped[6] = swapped[6], swapped[3]
    result = verify_chain(swapped)
    assert not result.ok and result.first_break.seq == 4


def split_verify(rows, cuts: list[int], top: int):
    from app.trail.chain import ChainBase, check_range, stitch_ranges

    bounds = list(zip([0, *cuts], [*cuts, top], strict=True))
    parts = [check_range([r for r in rows if lo < r[0] <= hi], lo, hi) for lo, hi in bounds]
    return stitch_ranges(parts, ChainBase())


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_ranges_stitched_together_agree_with_one_pass(data) -> None:
    rows = build_chain(12)
    damage = data.draw(st.sampled_from(["none", "byte", "delete", "swap", "delete_last"]))
    index = data.draw(st.integers(0, len(rows) - 2))
    if damage == "byte":
        seq, prev, digest, body = rows[index]
        flipped = bytearray(body)
        flipped[data.draw(st.integers(0, len(body) - 1))] ^= 0x01
        rows[index] = (seq, prev, digest, bytes(flipped))
    elif damage == "delete":
        del rows[index]
    elif damage == "swap":
        (a, *ra), (b, *rb) = rows[index], rows[index + 1]
        rows[index], rows[index + 1] = (a, *rb), (b, *ra)  # contents change places
    elif damage == "delete_last":
        rows = rows[:-1]
    cuts = sorted(set(data.draw(st.lists(st.integers(1, 11), max_size=4))))
    whole = verify_chain(rows)
    stitched = split_verify(rows, cuts, 12 if damage != "delete_last" else 11)
    assert stitched.ok == whole.ok
    assert stitched.checked == whole.checked
    if not whole.ok:
        assert stitched.first_break.seq == whole.first_break.seq
    else:
        assert stitched.head == whole.head
