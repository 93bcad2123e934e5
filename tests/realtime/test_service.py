"""The inference service: tokens, roles and barriers, recorded predictions that replay, e2e."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from app.cli import cli
from app.service import create_app
from app.tokens import TokenStore
from tests.realtime.conftest import free_port

ROOT = Path(__file__).parents[2]
DEMO_EVENTS = ROOT / "ingestion" / "demo_data" / "synthetic_top_of_book.csv"


def token_for(home: Path, user: str) -> tuple[str, str]:
    entry, token = TokenStore(home).create(user, by="admin")
    return entry.id, token


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def client(demo_runtime) -> TestClient:  # noqa: ANN001
    return TestClient(create_app(demo_runtime))


def test_tokens_are_stored_hashed_and_refused_without_or_after_revoke(
    demo_runtime,  # noqa: ANN001
    client: TestClient,
) -> None:
    home = demo_runtime.settings.home
    runner = CliRunner()
    out = runner.invoke(cli, ["tokens", "create", "analyst", "--user", "admin"])
    assert out.exit_code == 0, out.output
    token = out.output.strip().splitlines()[-1].split()[-1]
    token_id = token.split("_")[1]
    stored = (home / "tokens.json").read_text()
    assert token not in stored and token.split("_", 2)[2] not in stored
    assert client.post("/v1/predict/pd", json={"loan_id": 7}).status_code == 401
    assert (
        client.post("/v1/predict/pd", json={"loan_id": 7}, headers=bearer("nope")).status_code
        == 401
    )
    forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    assert (
        client.post("/v1/predict/pd", json={"loan_id": 7}, headers=bearer(forged)).status_code
        == 401
    )
    assert (
        client.post("/v1/predict/pd", json={"loan_id": 7}, headers=bearer(token)).status_code == 200
    )
    # a token speaks for its own user only
    other = {**bearer(token), "X-Sightline-User": "analyst_private"}
    assert client.post("/v1/predict/pd", json={"loan_id": 7}, headers=other).status_code == 401
    # only an admin or the owner may revoke
    out = runner.invoke(cli, ["tokens", "revoke", token_id, "--user", "researcher"])
    assert out.exit_code == 1 and "may not manage" in out.output
    out = runner.invoke(cli, ["tokens", "revoke", token_id, "--user", "analyst"])
    assert out.exit_code == 0, out.output
    assert (
        client.post("/v1/predict/pd", json={"loan_id": 7}, headers=bearer(token)).status_code == 401
    )
    listed = json.loads(runner.invoke(cli, ["tokens", "list", "--user", "admin", "--json"]).output)
    assert listed[0]["revoked_by"] == "analyst" and "sha256" not in listed[0]


def test_only_admins_create_tokens_for_others(demo_runtime) -> None:  # noqa: ANN001
    out = CliRunner().invoke(cli, ["tokens", "create", "compliance", "--user", "analyst"])
    assert out.exit_code == 1 and "may not manage tokens of compliance" in out.output


def test_a_pd_prediction_is_answered_recorded_and_replayed(
    demo_runtime,  # noqa: ANN001
    client: TestClient,
) -> None:
    _, token = token_for(demo_runtime.settings.home, "analyst")
    got = client.post("/v1/predict/pd", json={"loan_id": 7}, headers=bearer(token))
    assert got.status_code == 200, got.text
    body = got.json()
    assert body["model"].startswith("pd@")
    assert 0 < body["values"]["probability_of_default"] < 1
    assert {f["feature"] for f in body["feature_values"]} >= {"duration_months", "credit_amount"}
    record = demo_runtime.trail.get(body["id"]).record
    assert record["kind"] == "prediction" and record["user"] == "analyst"
    assert record["versions"]["pd_model"] == body["model"]
    assert record["tool_calls"][0]["tool"] == "default_probability"
    assert record["details"]["request"] == {"loan_id": 7}
    runner = CliRunner()
    listed = json.loads(
        runner.invoke(
            cli, ["trail", "list", "--kind", "prediction", "--json", "--user", "analyst"]
        ).output
    )
    assert [r["kind"] for r in listed] == ["prediction"]
    replay = runner.invoke(cli, ["trail", "replay", body["id"], "--json", "--user", "compliance"])
    assert replay.exit_code == 0, replay.output
    assert json.loads(replay.output)["ok"] is True


def test_applicant_fields_at_the_top_level_or_nested_give_one_answer(
    demo_runtime,  # noqa: ANN001
    client: TestClient,
) -> None:
    _, token = token_for(demo_runtime.settings.home, "analyst")
    with demo_runtime.warehouse.reader() as con:
        frame = con.execute("SELECT * FROM loans WHERE loan_id = 7").df()
    from tools import scorecard

    fields = {f: frame.iloc[0][f].item() if hasattr(frame.iloc[0][f], "item") else frame.iloc[0][f]
              for f in scorecard.FIELDS}  # fmt: skip
    by_id = client.post("/v1/predict/pd", json={"loan_id": 7}, headers=bearer(token)).json()
    flat = client.post("/v1/predict/pd", json=fields, headers=bearer(token)).json()
    nested = client.post("/v1/predict/pd", json={"loan": fields}, headers=bearer(token)).json()
    pd7 = by_id["values"]["probability_of_default"]
    assert flat["values"]["probability_of_default"] == pytest.approx(pd7, rel=1e-12)
    assert nested["values"]["probability_of_default"] == pytest.approx(pd7, rel=1e-12)
    bad = client.post("/v1/predict/pd", json={"loan_id": 7, "issuer": "KO"}, headers=bearer(token))
    assert bad.status_code == 422 and "exactly one" in bad.json()["error"]


def test_restricted_tickers_are_refused_for_public_side_users_and_logged(
    demo_runtime,  # noqa: ANN001
    client: TestClient,
) -> None:
    home = demo_runtime.settings.home
    _, public = token_for(home, "analyst")
    _, private = token_for(home, "analyst_private")
    refused = client.post("/v1/predict/pd", json={"issuer": "BBY"}, headers=bearer(public))
    assert refused.status_code == 403 and "restricted" in refused.json()["error"]
    record = demo_runtime.trail.get(refused.json()["id"]).record
    assert record["status"] == "refused" and record["details"]["barrier_events"]
    assert (
        client.post("/v1/risk", json={"ticker": "BBY"}, headers=bearer(public)).status_code == 403
    )
    assert client.get("/v1/features/BBY", headers=bearer(public)).status_code == 403
    allowed = client.post("/v1/risk", json={"ticker": "BBY"}, headers=bearer(private))
    assert allowed.status_code == 200 and allowed.json()["model"].startswith("risk@")


def test_ask_and_search_apply_the_callers_entitlements(
    demo_runtime,  # noqa: ANN001
    client: TestClient,
) -> None:
    home = demo_runtime.settings.home
    _, public = token_for(home, "analyst")
    _, private = token_for(home, "analyst_private")
    query = {"q": "deal team memo Best Buy", "k": 20}
    seen_public = client.get("/v1/search", params=query, headers=bearer(public)).json()
    seen_private = client.get("/v1/search", params=query, headers=bearer(private)).json()
    memo = "deal_team_memo"
    assert memo not in {p["doc_name"] for p in seen_public}
    assert memo in {p["doc_name"] for p in seen_private}
    asked = client.post("/v1/ask", json={"question": "What was KO's 20-day volatility?"},
                        headers=bearer(public))  # fmt: skip
    assert asked.status_code == 200 and asked.json()["answer"]
    assert client.get("/v1/search", params=query).status_code == 401


def test_openapi_is_published(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    assert {"/v1/predict/pd", "/v1/risk", "/v1/features/{entity}", "/v1/ask", "/v1/search"} <= set(
        schema["paths"]
    )


def test_end_to_end_broker_features_service_trail(
    broker_url: str,
    demo_runtime,  # noqa: ANN001
) -> None:
    """The docs/realtime.md scenario: events replayed, features live, a prediction recorded
    with its live values and sequence over a real uvicorn server, then replayed from the trail."""
    runner = CliRunner()
    published = runner.invoke(cli, ["broker", "publish", str(DEMO_EVENTS), "--json"])
    assert published.exit_code == 0, published.output
    quotes_seq = json.loads(published.output)["last_sequence"]["QUOTES"]
    assert runner.invoke(cli, ["features", "serve", "--idle-exit", "1"]).exit_code == 0
    out = runner.invoke(cli, ["tokens", "create", "analyst", "--user", "admin"])
    token = out.output.strip().splitlines()[-1].split()[-1]
    port = free_port()
    env = {**os.environ, "SIGHTLINE_HOME": str(demo_runtime.settings.home)}
    server = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 90
        while True:
            try:
                httpx.get(f"{base}/v1/health", timeout=2)
                break
            except httpx.TransportError:
                assert server.poll() is None and time.monotonic() < deadline, "server did not start"
                time.sleep(0.3)
        assert httpx.post(f"{base}/v1/predict/pd", json={"loan_id": 7}).status_code == 401
        got = httpx.post(f"{base}/v1/predict/pd", json={"issuer": "KO"}, headers=bearer(token),
                         timeout=60)  # fmt: skip
        assert got.status_code == 200, got.text
        body = got.json()
        live = [f for f in body["feature_values"] if f.get("sequence") is not None]
        assert {f["feature"] for f in live} >= {"quoted_spread_bps", "quoted_depth"}
        assert {f["sequence"] for f in live} == {quotes_seq}
        features = httpx.get(f"{base}/v1/features/KO", headers=bearer(token), timeout=30).json()
        assert features["sequence"]["QUOTES"] == quotes_seq
        # concurrent requests (uvicorn's thread pool): every one answered and recorded, chain intact
        from concurrent.futures import ThreadPoolExecutor

        def one(i: int) -> int:
            r = httpx.post(f"{base}/v1/predict/pd", json={"loan_id": 1 + i},
                           headers=bearer(token), timeout=120)  # fmt: skip
            return r.status_code

        with ThreadPoolExecutor(6) as pool:
            assert list(pool.map(one, range(12))) == [200] * 12
    finally:
        server.terminate()
        server.wait(timeout=30)
    listed = json.loads(runner.invoke(cli, ["trail", "list", "--json", "--user", "analyst"]).output)
    assert [r["kind"] for r in listed] == ["prediction"] * 13 and listed[0]["id"] == body["id"]
    assert demo_runtime.trail.verify().ok
    record = demo_runtime.trail.get(body["id"]).record
    assert any(f.get("sequence") == quotes_seq for f in record["feature_values"])
    replay = runner.invoke(cli, ["trail", "replay", body["id"], "--json", "--user", "compliance"])
    assert replay.exit_code == 0 and json.loads(replay.output)["ok"] is True
