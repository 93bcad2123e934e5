"""Real-time benchmark: event-to-feature latency through NATS JetStream, and PD prediction latency.

    python -m evals.bench_realtime --home DEMO_HOME            # defaults below
    python -m evals.bench_realtime --home DEMO_HOME --seconds 3 --requests 100   # quick

Everything runs on 127.0.0.1, bounded in count and time; a private nats-server (JetStream, temp
dir, free port) is started and stopped by the benchmark.

1. Event-to-feature, side by side at ``--rate`` SYNTHETIC quotes/s (open loop, 1 ms ticks) for
   ``--seconds``:
   a. baseline, in process: quotes handed straight to the streaming engine as they fall due;
      latency = engine call returned - scheduled time.
   b. through the broker: a publisher process publishes each quote when due (JetStream
      publish_async); the feature service (features.service.FeatureService, its own process,
      the same apply + snapshot-then-ack as `sightline features serve`) applies what arrives;
      latency = feature applied (service clock) - publish call (publisher clock), joined by
      stream sequence. Same machine, same clock.
2. PD predictions over HTTP (``sightline serve`` on uvicorn, a copy of ``--home``), ``--requests``
   sequential POST /v1/predict/pd (loan_id and issuer, alternating), side by side:
   a. baseline: the same model call in process (tools.agent_tools.call_tool), no HTTP, no trail;
   b. the service idle;
   c. the service while the broker and feature service take ``--rate`` quotes/s.
Ratios: broker / in-process p99, loaded / idle p99, service / in-process p99. The load average
is printed before and after (the machine is shared).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def pct(values: Any) -> dict[str, float]:
    a = np.asarray(values, dtype=float)
    if not len(a):
        return {"n": 0}
    p50, p99 = (round(float(np.percentile(a, q)), 3) for q in (50, 99))
    return {"n": int(len(a)), "p50_ms": p50, "p99_ms": p99, "max_ms": round(float(a.max()), 3)}


def quotes(rate: float, seconds: float) -> list[Any]:
    from features.events import synthetic_quotes

    return list(synthetic_quotes(200, int(rate * seconds), seed=11, events_per_second=rate))


# ------------------------------------------------------------------ 1a in process
def in_process(events: list[Any], rate: float) -> dict[str, float]:
    from features.streaming import StreamingEngine

    engine = StreamingEngine()
    engine.process(events[:600])  # warm up (imports, first-call paths)
    engine = StreamingEngine()
    lat: list[float] = []
    start = time.perf_counter()
    i = 0
    while i < len(events):
        due = int((time.perf_counter() - start) * rate) + 1
        if due <= i:
            time.sleep(0.0005)
            continue
        batch = events[i:due]
        engine.process(batch)
        done = time.perf_counter() - start
        lat.extend((done - k / rate) * 1000 for k in range(i, i + len(batch)))
        i += len(batch)
    return pct(lat)


# ------------------------------------------------------------------ 1b through the broker
async def publish_paced(url: str, events: list[Any], rate: float) -> np.ndarray:
    """Publish each event when due; return the wall time of each publish call (by order)."""
    from features.events import event_to_dict
    from ingestion.events.broker import JetStreamBroker
    from ingestion.events.schemas import encode_event

    encoded = [encode_event(event_to_dict(e)) for e in events]
    b = await JetStreamBroker(url).connect()
    sent = np.zeros(len(encoded))
    start = time.perf_counter()
    i = 0
    while i < len(encoded):
        due = min(len(encoded), int((time.perf_counter() - start) * rate) + 1)
        if due <= i:
            await asyncio.sleep(0.0005)
            continue
        now = time.time()
        for k in range(i, due):
            # core publish into the stream's subject: JetStream stores it, no per-message ack
            # round trip (publish_async's futures cost more than the 20 us a message has here)
            await b.nc.publish(*encoded[k])
            sent[k] = now
        i = due
    await b.nc.flush()
    stored = sum((await b.last_sequences()).values())
    await b.close()
    if stored < len(encoded):
        raise RuntimeError(f"the broker stored {stored} of {len(encoded)} events")
    return sent


async def service_worker(url: str, directory: Path, out: Path, idle_s: float) -> None:
    """The feature service loop with per-batch timestamps (bench mode of this script)."""
    from features.service import FeatureService
    from ingestion.events.broker import JetStreamBroker

    service = FeatureService.open(directory)
    b = await JetStreamBroker(url).connect()
    source = await b.source("bench", service.covered)
    print("ready", flush=True)
    marks: list[tuple[int, int, float]] = []
    last = time.monotonic()
    last_ckpt = time.monotonic()
    started = time.monotonic()
    # stop once idle for idle_s after the first event (or after 120 s without any: bounded)
    while (time.monotonic() - last < idle_s or not marks) and time.monotonic() - started < 120:
        got = await source.fetch(10_000, timeout=0.1)
        if got:
            service.apply(got)
            marks.append((got[0].sequence, got[-1].sequence, time.time()))
            last = time.monotonic()
        if service.unsnapshotted >= 5_000 or (time.monotonic() - last_ckpt >= 1.0 and got):
            await service.checkpoint(source, None)
            last_ckpt = time.monotonic()
    await service.checkpoint(source, None)
    out.write_text(json.dumps({"marks": marks, "lags_ms": list(service.lags_ms)}))


def through_broker(url: str, events: list[Any], rate: float, work: Path) -> dict[str, Any]:
    work.mkdir(parents=True, exist_ok=True)
    out = work / "marks.json"
    proc = subprocess.Popen(
        [sys.executable, "-m", "evals.bench_realtime", "--service-worker", url, str(work / "svc"),
         str(out)],
        cwd=ROOT, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    t0 = time.monotonic()
    sent = asyncio.run(publish_paced(url, events, rate))
    publish_s = time.monotonic() - t0
    proc.wait(timeout=120)
    data = json.loads(out.read_text())
    lat = []
    for first, last, t in data["marks"]:
        lat.extend((t - sent[first - 1 : last]) * 1000)
    return pct(lat) | {"achieved_rate": round(len(events) / publish_s),
                       "stored_to_feature": pct(data["lags_ms"])}  # fmt: skip


# ------------------------------------------------------------------ 2 predictions
def pd_requests(n: int) -> list[dict[str, Any]]:
    return [{"loan_id": 1 + (7 * i) % 1000} if i % 2 == 0 else {"issuer": "KO"} for i in range(n)]


def in_process_pd(home: Path, n: int) -> dict[str, float]:
    from app.agent.toolbox import context_for
    from app.runtime import Runtime
    from app.settings import Settings
    from tools.agent_tools import call_tool

    rt = Runtime(Settings(home=home))
    user = rt.user("analyst")
    lat = []
    for args in [{"loan_id": 3}, *pd_requests(n)]:
        t = time.perf_counter()
        ctx = context_for(rt, user)
        call_tool(ctx, "default_probability", args)
        ctx.close()
        lat.append((time.perf_counter() - t) * 1000)
    return pct(lat[1:])


def http_pd(base: str, token: str, n: int) -> dict[str, float]:
    import httpx

    lat = []
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}) as c:
        c.post("/v1/predict/pd", json={"loan_id": 3}, timeout=60)  # warm
        for args in pd_requests(n):
            t = time.perf_counter()
            r = c.post("/v1/predict/pd", json=args, timeout=60)
            lat.append((time.perf_counter() - t) * 1000)
            r.raise_for_status()
    return pct(lat)


def start_nats(work: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    binary = shutil.which("nats-server") or "/usr/sbin/nats-server"
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    cmd = [binary, "-js", "-a", "127.0.0.1", "-p", str(port), "-sd", str(work / "js")]
    proc = subprocess.Popen(cmd, **quiet)  # type: ignore[call-overload]
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            time.sleep(0.1)
    return proc, f"nats://127.0.0.1:{port}"


def start_service(home: Path) -> tuple[subprocess.Popen[bytes], str, str]:
    from app.tokens import TokenStore

    _, token = TokenStore(home).create("analyst", by="bench")
    port = free_port()
    env = {**os.environ, "SIGHTLINE_HOME": str(home)}
    cmd = [sys.executable, "-m", "app.cli", "serve", "--port", str(port)]
    proc = subprocess.Popen(
        cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    import httpx

    base = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            httpx.get(f"{base}/v1/health", timeout=1)
            break
        except httpx.TransportError:
            time.sleep(0.2)
    return proc, base, token


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument(
        "--home",
        type=Path,
        default=os.environ.get("SIGHTLINE_HOME"),
        help="a data dir with the demo loaded (copied; PD part skipped without it)",
    )
    p.add_argument("--rate", type=float, default=50_000.0)
    p.add_argument("--seconds", type=float, default=5.0)
    p.add_argument("--requests", type=int, default=300)
    p.add_argument("--service-worker", nargs=3, metavar=("URL", "DIR", "OUT"))
    a = p.parse_args()
    if a.service_worker:
        url, directory, out = a.service_worker
        asyncio.run(service_worker(url, Path(directory), Path(out), idle_s=2.0))
        return
    report: dict[str, Any] = {"load_before": os.getloadavg(), "rate": a.rate, "seconds": a.seconds}
    events = quotes(a.rate, a.seconds)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        nats_proc, url = start_nats(work)
        try:
            report["in_process"] = in_process(events, a.rate)
            report["through_broker"] = through_broker(url, events, a.rate, work / "e2f")
            b, i = report["through_broker"], report["in_process"]
            report["ratio_broker_vs_in_process_p99"] = round(b["p99_ms"] / i["p99_ms"], 2)
            if a.home and (Path(a.home) / "warehouse.duckdb").exists():
                home = work / "home"
                shutil.copytree(a.home, home)
                os.chmod(home, 0o700)
                report["pd_in_process"] = in_process_pd(home, a.requests)
                svc, base, token = start_service(home)
                try:
                    report["pd_service_idle"] = http_pd(base, token, a.requests)
                    (work / "load").mkdir()
                    loader = subprocess.Popen(
                        [sys.executable, "-c", "import sys; from pathlib import Path; "
                         "from evals.bench_realtime import load_forever; "
                         "load_forever(sys.argv[1], Path(sys.argv[2]), float(sys.argv[3]))",
                         url, str(work / "load"), str(a.rate)], cwd=ROOT,
                    )  # fmt: skip
                    time.sleep(3)
                    try:
                        report["pd_service_under_load"] = http_pd(base, token, a.requests)
                    finally:
                        loader.send_signal(signal.SIGTERM)
                        loader.wait(timeout=60)
                finally:
                    svc.terminate()
                    svc.wait(timeout=30)
                idle, loaded = report["pd_service_idle"], report["pd_service_under_load"]
                report["ratio_loaded_vs_idle_p99"] = round(loaded["p99_ms"] / idle["p99_ms"], 2)
                report["ratio_service_vs_in_process_p99"] = round(
                    idle["p99_ms"] / report["pd_in_process"]["p99_ms"], 2
                )
            else:
                report["pd"] = "skipped: pass --home with the demo loaded (sightline demo)"
        finally:
            nats_proc.terminate()
            nats_proc.wait(timeout=10)
    report["load_after"] = os.getloadavg()
    print(json.dumps(report, indent=2))


def load_forever(url: str, work: Path, rate: float, seconds: float = 120.0) -> None:
    """Load for part 2c: a feature service plus a publisher at ``rate`` (stops on SIGTERM)."""
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    proc = subprocess.Popen(
        [sys.executable, "-m", "evals.bench_realtime", "--service-worker", url, str(work / "svc"),
         str(work / "marks.json")], cwd=ROOT, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        from datetime import datetime, timedelta

        from features.events import synthetic_quotes

        start = time.monotonic()
        k = 0
        while time.monotonic() - start < seconds:  # bounded even if never stopped
            t0 = datetime(2030, 1, 1) + timedelta(seconds=k)
            batch = list(synthetic_quotes(200, int(rate), seed=k, events_per_second=rate, start=t0))
            asyncio.run(publish_paced(url, batch, rate))
            k += 1
    finally:
        proc.terminate()


if __name__ == "__main__":
    main()
