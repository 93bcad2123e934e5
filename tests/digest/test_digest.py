"""Digest on generated filings in a real index: items, citations on both sides, barrier, trail."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from app.digest import run_digest
from app.trail.store import TrailQuery
from ingestion.errors import SightlineError


def _kinds(items: list[dict]) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for item in items:
        out.setdefault(item["kind"], []).append(item)
    return out


def test_public_digest_compares_the_two_public_filings(acme_runtime) -> None:  # noqa: ANN001
    result = run_digest(acme_runtime, acme_runtime.user("pub"), issuer="ACME")
    assert result["filings"] == ["ACME_2022_10K", "ACME_2023_10K"]
    kinds = _kinds(result["items"])
    (new,) = kinds["new_risk_factor"]
    assert "Catastrophic events" in new["title"]
    (removed,) = kinds["removed_risk_factor"]
    assert "mainframe vendor" in removed["title"]
    figures = {i["title"].split(" (")[0]: i for i in kinds["figure_change"]}
    assert "Net earnings" in figures and "Revenue" in figures
    assert "1,000 -> 400" in figures["Net earnings"]["title"]
    # Every item is cited in both filings, on the page that holds it (page 2 risks, 4 figures).
    for item in result["items"]:
        roles = {(c["role"], c["doc_name"]) for c in item["citations"]}
        assert roles == {("current", "ACME_2023_10K"), ("previous", "ACME_2022_10K")}
    assert {c["page"] for c in new["citations"]} == {2}
    assert {c["page"] for c in figures["Revenue"]["citations"]} == {4}
    assert any(i["kind"] == "mdna_shift" and "marketplace" in i["title"] for i in result["items"])


def test_barrier_private_filing_never_read_by_a_public_user(acme_runtime) -> None:  # noqa: ANN001
    public = run_digest(acme_runtime, acme_runtime.user("pub"), issuer="ACME")
    text = json.dumps(public)
    assert "ACME_2024_10K" not in text and "Globex" not in text
    # The same request by a deal-team analyst reaches the private 10-K: the barrier, not the data,
    # is what kept it out above.
    private = run_digest(acme_runtime, acme_runtime.user("deal"), issuer="ACME")
    assert private["filings"][-1] == "ACME_2024_10K"
    assert any("Globex" in i["title"] for i in private["items"])
    # Asking for the private document by name as a public user finds nothing to compare.
    with pytest.raises(SightlineError, match="no two comparable filings"):
        run_digest(acme_runtime, acme_runtime.user("pub"), issuer="ACME", docs=("ACME_2024_10K",))
    stored = acme_runtime.trail.read(TrailQuery(kind="digest"))
    public_records = [r.record for r in stored if r.record["user"] == "pub"]
    assert public_records and all("Globex" not in json.dumps(r) for r in public_records)


def test_digest_recorded_in_trail_with_cited_chunks(acme_runtime) -> None:  # noqa: ANN001
    result = run_digest(acme_runtime, acme_runtime.user("pub"), issuer="ACME")
    stored = acme_runtime.trail.read(TrailQuery(kind="digest"))
    (record,) = [r.record for r in stored if r.id == result["id"]]
    assert record["kind"] == "digest" and record["user"] == "pub"
    assert record["status"] == "answered" and record["question"] == "digest --issuer ACME"
    (call,) = record["tool_calls"]
    assert call["tool"] == "digest" and call["result"]["items"] == result["items"]
    cited = {(c["doc_name"], c["page_start"]) for c in record["citations"]}
    wanted = {(c["doc_name"], c["page"]) for i in result["items"] for c in i["citations"]}
    assert cited == wanted
    ids = [c["chunk_id"] for c in record["citations"]]
    passages = acme_runtime.documents.resolve(ids, groups=["public"])
    assert {p.chunk_id for p in passages} == set(ids)
    assert acme_runtime.trail.verify().ok


def test_cli_json_shape(acme_runtime) -> None:  # noqa: ANN001
    from app.cli import cli

    out = CliRunner().invoke(cli, ["digest", "--issuer", "ACME", "--json", "--user", "pub"])
    assert out.exit_code == 0, out.output
    payload = json.loads(out.output)
    assert payload["items"] and all(
        {"doc_name", "page"} <= set(c) for i in payload["items"] for c in i["citations"]
    )
    bad = CliRunner().invoke(cli, ["digest", "--issuer", "NOPE", "--user", "pub"])
    assert bad.exit_code == 1 and "no two comparable filings of NOPE" in bad.output
    assert "Traceback" not in bad.output


def test_collection_digest_ranks_across_issuers(acme_runtime) -> None:  # noqa: ANN001
    result = run_digest(acme_runtime, acme_runtime.user("deal"), since="2023-01-01")
    # Only 2023 and 2024 are on or after the date: the collection compares that pair.
    assert result["filings"] == ["ACME_2023_10K", "ACME_2024_10K"]
    assert result["items"][0]["score"] > 0
    assert all(i["citations"] for i in result["items"])
