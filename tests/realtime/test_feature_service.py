"""The feature service on a real JetStream: order, event policy, resume, parity with batch."""

from __future__ import annotations

import json
import random
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from features.events import Bar, Quote
from features.service import MANIFEST, FeatureService
from features.streaming import StreamingEngine
from ingestion.events.schemas import MalformedEvent, decode_event, subject_for
from tests.features.parity import batch_values, warehouse_with
from tests.features.test_parity import arrival_order, clean_events
from tests.realtime.events import (
    bars_and_quotes,
    batch_latest,
    consume,
    differences,
    latest_map,
    publish,
    publish_raw,
    wipe,
    wire,
    with_repeats,
)

T0 = datetime(2022, 12, 29, 9, 30)


def quote(ticker: str, seconds: int, bid: float = 10.0, ask: float = 10.02) -> Quote:
    return Quote(ticker, T0 + timedelta(seconds=seconds), bid, ask, 100.0, 200.0)


def test_events_go_to_one_stream_per_kind_with_subjects_by_ticker(broker_url: str) -> None:
    events = [
        wire(quote("KO", 1)),
        {"kind": "trade", "ticker": "KO", "ts": T0.isoformat(), "price": 10.01, "size": 300},
        wire(Bar("BRK.B", date(2022, 12, 29), 300.0, 300.0, 1e6)),
        wire(quote("PEP", 2)),
    ]
    assert publish(broker_url, events) == {"QUOTES": 2, "TRADES": 1, "BARS": 1}
    assert subject_for("bar", "BRK.B") == "sightline.bars.BRK_B"

    import asyncio

    from ingestion.events.broker import JetStreamBroker

    async def subjects() -> list[str]:
        b = await JetStreamBroker(broker_url).connect()
        try:
            return [(await b.js.get_msg("QUOTES", seq)).subject for seq in (1, 2)]
        finally:
            await b.close()

    assert asyncio.run(subjects()) == ["sightline.quotes.KO", "sightline.quotes.PEP"]


@pytest.mark.parametrize(
    "payload, problem",
    [
        (b"not json", "not JSON"),
        (b"[1, 2]", "JSON object"),
        (b'{"kind": "order", "ticker": "KO"}', "unknown event kind"),
        (b'{"kind": "quote", "ticker": "KO", "ts": "2022-12-29T09:30:00", "bid": 1}', "missing"),
        (
            b'{"kind": "quote", "ticker": "KO", "ts": "yesterday", "bid": 1, "ask": 2, '
            b'"bid_size": 1, "ask_size": 1}',
            "not a datetime",
        ),  # fmt: skip
        (b'{"kind": "bar", "ticker": "KO", "date": "2022-12-29", "adj_close": "x"}', "not a float"),
        (
            b'{"kind": "bar", "ticker": "KO", "date": "2022-12-29", "adj_close": 1, "pe": 3}',
            "unknown field",
        ),  # fmt: skip
        (
            b'{"kind": "bar", "ticker": "not a ticker", "date": "2022-12-29", "adj_close": 1}',
            "not a ticker",
        ),  # fmt: skip
    ],
)
def test_malformed_messages_are_named(payload: bytes, problem: str) -> None:
    with pytest.raises(MalformedEvent, match=problem):
        decode_event(payload)


def test_bad_events_follow_the_policy_and_are_counted(broker_url: str, tmp_path: Path) -> None:
    good = [quote("KO", s, 10.0 + s / 100, 10.02 + s / 100) for s in range(10)]
    publish(broker_url, [wire(q) for q in good[:5]])
    publish_raw(
        broker_url,
        [
            ("sightline.quotes.KO", b"not json"),
            ("sightline.quotes.KO", b'{"kind": "quote", "ticker": "KO"}'),
            ("sightline.bars.KO", b'{"kind": "bar", "ticker": "KO", "date": "x", "adj_close": 1}'),
        ],
    )
    publish(
        broker_url,
        [
            wire(good[4]),  # exact duplicate of the last quote
            wire(quote("KO", 2)),  # late: older than KO's last quote
            wire(quote("PEP", 3, 10.05, 10.0)),  # crossed: invalid
            {"kind": "trade", "ticker": "KO", "ts": T0.isoformat(), "price": 10.0, "size": 100},
            *[wire(q) for q in good[5:]],  # the stream is not blocked by any of the above
        ],
    )
    service = consume(broker_url, tmp_path / "svc")
    counts = service.counters()
    assert counts["malformed"] == 3
    assert counts["duplicate"] == 1
    assert counts["late"] == 1
    assert counts["invalid"] == 1
    assert counts["trades"] == 1
    assert counts["accepted"] == 10
    reference = StreamingEngine()
    reference.process(good)
    assert differences(latest_map(service.engine), latest_map(reference)) == []
    manifest = json.loads((tmp_path / "svc" / MANIFEST).read_text())
    assert manifest["covered"] == {"QUOTES": 15, "BARS": 1, "TRADES": 1}
    reasons = [r["reason"] for r in manifest["rejected"]]
    assert len(reasons) == 3 and "not JSON" in reasons[0]


@settings(
    max_examples=4,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(seed=st.integers(0, 10_000), restart=st.floats(0.1, 0.9), every=st.integers(7, 400))
def test_streaming_through_the_broker_equals_batch(
    broker_url: str, tmp_path_factory: pytest.TempPathFactory, seed: int, restart: float,
    every: int,
) -> None:  # fmt: skip
    wipe(broker_url)  # a clean slate per example (the fixture wipes once per test)
    rng = random.Random(seed)
    clean = bars_and_quotes(clean_events(seed, 120, 0.05, 0.02))
    arrived = with_repeats(arrival_order(clean, rng), rng, 10)
    cut = int(len(arrived) * restart)
    directory = tmp_path_factory.mktemp("svc")
    publish(broker_url, [wire(e) for e in arrived[:cut]])
    consume(broker_url, directory, snapshot_every=every)  # stops; a new service resumes
    publish(broker_url, [wire(e) for e in arrived[cut:]])
    service = consume(broker_url, directory, snapshot_every=every)
    service.engine.flush()
    batch = batch_latest(batch_values(warehouse_with(clean)))
    assert differences(latest_map(service.engine), batch) == []
    assert service.counters()["accepted"] == len(clean)


def test_cli_publishes_the_demo_file_and_serves_features(broker_url: str, runtime) -> None:  # noqa: ANN001
    from app.cli import cli

    demo = Path(__file__).parents[2] / "ingestion" / "demo_data" / "synthetic_top_of_book.csv"
    runner = CliRunner()
    out = runner.invoke(cli, ["broker", "publish", str(demo), "--json"])
    assert out.exit_code == 0, out.output
    published = json.loads(out.output)
    assert (
        published["events"]
        == published["last_sequence"]["QUOTES"] + published["last_sequence"]["TRADES"]
    )
    out = runner.invoke(cli, ["features", "serve", "--idle-exit", "1"])
    assert out.exit_code == 0, out.output
    out = runner.invoke(cli, ["features", "online", "KO", "--json"])
    assert out.exit_code == 0, out.output
    names = {v["feature"] for v in json.loads(out.output)}
    assert {"quoted_spread_bps", "quoted_depth"} <= names
    # a second run resumes after the snapshot: nothing is applied twice
    out = runner.invoke(cli, ["features", "serve", "--idle-exit", "1"])
    assert out.exit_code == 0
    service = FeatureService.open(runtime.settings.home / "online" / "service")
    assert service.counters()["accepted"] == published["last_sequence"]["QUOTES"]


def test_a_bad_row_refuses_the_file_with_its_line(broker_url: str, runtime, tmp_path: Path) -> None:  # noqa: ANN001
    from app.cli import cli

    bad = tmp_path / "events.csv"
    bad.write_text(
        "kind,ticker,ts,bid,ask,bid_size,ask_size\n"
        "quote,KO,2022-12-29T09:30:00,1,1.1,100,100\n"
        "quote,KO,not-a-time,1,1.1,100,100\n",
        encoding="utf-8",
    )
    out = CliRunner().invoke(cli, ["broker", "publish", str(bad)])
    assert out.exit_code == 1
    assert "line 3" in out.output and "Traceback" not in out.output


def test_an_unreachable_broker_is_a_clear_error(runtime, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: ANN001
    from app.cli import cli
    from tests.realtime.conftest import free_port

    monkeypatch.setenv("SIGHTLINE_NATS_URL", f"nats://127.0.0.1:{free_port()}")
    out = CliRunner().invoke(cli, ["broker", "status"])
    assert out.exit_code == 1
    assert "error: NATS JetStream" in out.output and "nats-server" in out.output


@settings(max_examples=200, deadline=None)
@given(
    ts=st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2100, 1, 1)),
    numbers=st.lists(
        st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-10, 10**6)),
        min_size=4,
        max_size=4,
    ),
    source=st.one_of(st.none(), st.text(max_size=5)),
    drop=st.sampled_from([None, "bid", "ts", "ticker"]),
)
def test_the_fast_quote_path_agrees_with_the_checked_one(ts, numbers, source, drop) -> None:  # noqa: ANN001
    data = {"kind": "quote", "ticker": "KO", "ts": ts.isoformat(), "bid": numbers[0],
            "ask": numbers[1], "bid_size": numbers[2], "ask_size": numbers[3]}  # fmt: skip
    if source is not None:
        data["source"] = source
    if drop:
        del data[drop]
    payload = json.dumps(data).encode()
    from ingestion.events.schemas import check_event

    try:
        expected = check_event(json.loads(payload))
    except MalformedEvent:
        with pytest.raises(MalformedEvent):
            decode_event(payload)
        return
    got = decode_event(payload)
    assert got.keys() == expected.keys()
    for key in got:
        a, b = got[key], expected[key]
        assert a == b or (isinstance(a, float) and a != a and b != b), key


def test_a_recreated_stream_is_refused_not_resumed_past(broker_url: str, runtime) -> None:  # noqa: ANN001
    """A stream deleted and made again restarts at 1: resuming after the old sequence would skip."""
    from app.cli import cli

    events = [wire(quote("KO", s, 10.0, 10.02)) for s in range(20)]
    publish(broker_url, events)
    runner = CliRunner()
    assert runner.invoke(cli, ["features", "serve", "--idle-exit", "1"]).exit_code == 0
    wipe(broker_url)
    publish(broker_url, [wire(quote("KO", 100 + s, 10.0, 10.02)) for s in range(30)])
    out = runner.invoke(cli, ["features", "serve", "--idle-exit", "1"])
    assert out.exit_code == 1
    assert "QUOTES stream is not the one the feature snapshot covers" in out.output
    assert "remove" in out.output and "Traceback" not in out.output
