"""Answer-trail benchmark: durable append latency and verify throughput, each against its floor.

    python -m evals.bench_trail [--appends 300] [--verify-records 100000] [--record-kb 10]

* Append: ``SqliteTrailStore.append`` of ~10 KB answer records (validation, canonical JSON, hash,
  WAL commit with synchronous=FULL), against the floor for durability: ``write`` + ``fsync`` of
  the same bytes to an append-only file.
* Verify: ``SqliteTrailStore.verify`` over N records, against hashlib.sha256 over the same bytes
  already in memory (the limit: verify must hash every byte once). The 1M-record figure is
  extrapolated linearly from N unless ``--verify-records 1000000`` is given.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sqlite3
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from app.trail import AnswerRecord, Citation, FeatureUse, SqlQuery, Tokens, ToolCall, Versions
from app.trail.chain import GENESIS_HASH, chain_hash
from app.trail.record import canonical_json, iso_utc, utc_now
from app.trail.sqlite import PARALLEL_MIN_RECORDS, SqliteTrailStore


def realistic_record(n: int, size_kb: float) -> AnswerRecord:
    """An answer record with citations, tool calls, SQL and features, padded to ~size_kb."""
    snippet = "Net revenue increased due to higher volumes in the Services segment. " * 3
    record = AnswerRecord(
        user="analyst",
        role="analyst",
        status="answered",
        question=f"What was the 1-day 99% VaR of the demo portfolio on 2022-03-01? ({n})",
        answer="The 1-day 99% VaR was 2.31% (historical simulation, 500 days) [1][2].",
        citations=[
            Citation(
                doc_id=f"doc-{i}",
                doc_name=f"ISSUER_{i}_2022_10K.pdf",
                title="Annual report",
                page_start=10 + i,
                page_end=11 + i,
                chunk_id=f"chunk-{n}-{i}",
                content_sha256=hashlib.sha256(f"{n}-{i}".encode()).hexdigest(),
                snippet=snippet,
            )
            for i in range(4)
        ],
        tool_calls=[
            ToolCall(
                tool="risk_metrics",
                args={"ticker": "PORTFOLIO", "horizon_days": 1, "confidence": 0.99},
                result={"var": 0.0231, "es": 0.0302, "model": "risk@3", "series": []},
                started=utc_now(),
                ms=41.2,
            )
        ],
        sql=[SqlQuery(query="SELECT ticker, weight FROM positions", rows=20)],
        feature_values=[
            FeatureUse(
                entity=f"T{i}",
                feature="realized_vol_20d",
                version="f399e7c5812b",
                as_of="2022-03-01",
                value=0.2 + i / 100,
            )  # fmt: skip
            for i in range(20)
        ],
        versions=Versions(
            llm="offline-planner@1",
            prompt="answer@1",
            embedding="minilm-l6-v2",
            risk_model="risk@3",
            pd_model="pd@2",
            code="0.1.0",
        ),
        tokens=Tokens(prompt=2400, completion=180),
        latency_ms=820.0,
    )
    if size_kb < 4:  # a short answer: one citation, one feature value
        record = record.model_copy(
            update={"citations": record.citations[:1], "feature_values": record.feature_values[:1]}
        )
    pad = max(0, int(size_kb * 1024) - len(canonical_json(record.to_json())))
    return record.model_copy(update={"details": {"grounding": {"evidence": "x" * pad}}})


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def bench_append(folder: Path, count: int, size_kb: float) -> dict[str, Any]:
    store = SqliteTrailStore(folder / "append.sqlite")
    records = [realistic_record(i, size_kb) for i in range(count + 5)]
    for r in records[:5]:  # warm-up: create the file, open the connection
        store.append(r)
    times = []
    start = time.perf_counter()
    for r in records[5:]:
        t0 = time.perf_counter()
        store.append(r)
        times.append(time.perf_counter() - t0)
    total = time.perf_counter() - start
    body_bytes = len(canonical_json(records[5].to_json()))

    # The floor: append the same bytes to a plain file and fsync each time.
    raw = [canonical_json(r.to_json()) for r in records[5:]]
    fd = os.open(folder / "append.raw", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    floor = []
    try:
        for data in raw:
            t0 = time.perf_counter()
            os.write(fd, data)
            os.fsync(fd)
            floor.append(time.perf_counter() - t0)
    finally:
        os.close(fd)
    assert store.verify().ok
    return {
        "records": count,
        "record_bytes": body_bytes,
        "p50_ms": statistics.median(times) * 1000,
        "p95_ms": percentile(times, 0.95) * 1000,
        "appends_per_s": count / total,
        "fsync_p50_ms": statistics.median(floor) * 1000,
        "fsync_p95_ms": percentile(floor, 0.95) * 1000,
        "fsync_per_s": len(floor) / sum(floor),
    }


def build_trail(path: Path, count: int, size_kb: float) -> list[bytes]:
    """A valid chain of ``count`` records written in bulk (building is not what is measured)."""
    store = SqliteTrailStore(path)
    store.head()  # creates the schema
    template = realistic_record(0, size_kb).to_json()
    stamp = iso_utc(utc_now())
    con = sqlite3.connect(path, isolation_level=None)
    con.execute("PRAGMA synchronous = OFF")
    con.execute("BEGIN")
    prev = GENESIS_HASH
    hashed_inputs: list[bytes] = []
    batch = []
    for seq in range(1, count + 1):
        body = canonical_json(
            {**template, "id": uuid.uuid4().hex, "seq": seq, "appended_at": stamp}
        )
        digest = chain_hash(prev, body)
        batch.append((seq, body.decode(), prev, digest))
        if len(hashed_inputs) < 200_000:
            hashed_inputs.append(prev.encode() + body)
        prev = digest
        if len(batch) == 5000:
            con.executemany(
                "INSERT INTO records (seq, body, prev_hash, hash) VALUES (?,?,?,?)", batch
            )
            batch.clear()
    if batch:
        con.executemany("INSERT INTO records (seq, body, prev_hash, hash) VALUES (?,?,?,?)", batch)
    con.execute("COMMIT")
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    return hashed_inputs


def bench_verify(folder: Path, count: int, size_kb: float) -> dict[str, Any]:
    path = folder / f"verify-{size_kb}kb.sqlite"
    t0 = time.perf_counter()
    inputs = build_trail(path, count, size_kb)
    build_s = time.perf_counter() - t0
    store = SqliteTrailStore(path)
    store.verify()  # warm the page cache, as on a server that has the file in memory
    t0 = time.perf_counter()
    result = store.verify()
    verify_s = time.perf_counter() - t0
    assert result.ok and result.checked == count, result.to_json()
    workers = min(os.cpu_count() or 1, 8)
    t0 = time.perf_counter()
    parallel = store.verify(workers=workers) if count >= PARALLEL_MIN_RECORDS else result
    parallel_s = time.perf_counter() - t0 if count >= PARALLEL_MIN_RECORDS else None
    assert parallel.ok and parallel.checked == count

    # The limit: sha256 over the same bytes, already in memory (scaled if only a sample is kept).
    sha = hashlib.sha256
    t0 = time.perf_counter()
    for data in inputs:
        sha(data).hexdigest()
    sha_s = (time.perf_counter() - t0) * count / len(inputs)

    # What reading alone costs (SQLite scan, no hashing).
    con = sqlite3.connect(path)
    con.text_factory = bytes
    t0 = time.perf_counter()
    for _ in con.execute("SELECT seq, prev_hash, hash, body FROM records ORDER BY seq"):
        pass
    read_s = time.perf_counter() - t0
    con.close()
    return {
        "records": count,
        "record_bytes": len(inputs[0]) - 64,
        "db_mb": path.stat().st_size / 1e6,
        "build_s": build_s,
        "verify_s": verify_s,
        "verify_records_per_s": count / verify_s,
        "sha256_s": sha_s,
        "read_only_s": read_s,
        "ratio_vs_sha256": verify_s / sha_s,
        "workers": workers,
        "parallel_s": parallel_s,
        "extrapolated_1m_s": verify_s * 1_000_000 / count,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--appends", type=int, default=300)
    parser.add_argument("--record-kb", type=float, default=10.0)
    parser.add_argument("--verify-records", type=int, default=100_000)
    parser.add_argument("--verify-kb", type=float, nargs="+", default=[1.5, 10.0])
    parser.add_argument("--dir", type=Path, default=None, help="Folder for the files (temp).")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        folder = Path(tmp)
        a = bench_append(folder, args.appends, args.record_kb)
        print(f"durable append, {a['records']} records of {a['record_bytes']:,} bytes")
        print(f"  trail.append      p50 {a['p50_ms']:6.2f} ms  p95 {a['p95_ms']:6.2f} ms  "
              f"{a['appends_per_s']:7.1f}/s")  # fmt: skip
        print(f"  write+fsync floor p50 {a['fsync_p50_ms']:6.2f} ms  "
              f"p95 {a['fsync_p95_ms']:6.2f} ms  {a['fsync_per_s']:7.1f}/s")  # fmt: skip
        print(f"  ratio append/fsync (p50): {a['p50_ms'] / a['fsync_p50_ms']:.2f}x")
        for kb in args.verify_kb:
            v = bench_verify(folder, args.verify_records, kb)
            print(f"verify, {v['records']:,} records of {v['record_bytes']:,} bytes "
                  f"({v['db_mb']:.0f} MB file; built in {v['build_s']:.1f} s)")  # fmt: skip
            print(f"  trail.verify        {v['verify_s']:7.2f} s  "
                  f"{v['verify_records_per_s']:,.0f} records/s")  # fmt: skip
            if v["parallel_s"] is not None:
                print(f"  trail.verify, {v['workers']} processes {v['parallel_s']:7.2f} s  "
                      f"({v['verify_s'] / v['parallel_s']:.2f}x one pass; 1M records: "
                      f"{v['parallel_s'] * 1_000_000 / v['records']:.1f} s)")  # fmt: skip
            print(f"  sha256 same bytes   {v['sha256_s']:7.2f} s  (the limit)")
            print(f"  SQLite read alone   {v['read_only_s']:7.2f} s")
            how = "measured" if v["records"] >= 1_000_000 else "extrapolated"
            print(f"  ratio verify/sha256: {v['ratio_vs_sha256']:.2f}x; 1M records: "
                  f"{v['extrapolated_1m_s']:.1f} s ({how})")  # fmt: skip
            Path(folder / f"verify-{kb}kb.sqlite").unlink()


if __name__ == "__main__":
    main()
