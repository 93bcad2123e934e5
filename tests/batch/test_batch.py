"""The overnight batch on the demo: lineage, identical reruns, failures, reconciliation."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pandas as pd
import pytest
from filelock import FileLock

from app.batch.run import EXIT_LOCKED, EXIT_STEP_FAILED, run_batch
from app.batch.schedule import next_runs, previous_business_day
from app.runtime import Runtime
from ingestion.tables import load_table
from tests.batch.conftest import sightline
from tools import batch_store
from tools.credit import default_probability
from tools.risk import risk_metrics

D13, D16 = date(2020, 3, 13), date(2020, 3, 16)


def _quiet(_msg: str) -> None:
    pass


def _rows(rt: Runtime, table: str, run: str) -> list[dict]:
    with rt.warehouse.reader() as con:
        return batch_store.result_rows(con, table, run)


def test_run_rerun_is_identical_and_current_stays(book: Runtime) -> None:
    first = sightline("batch", "run", "--as-of", "2020-03-13", "--user", "admin", "--json")
    assert first.exit_code == 0, first.output
    a = json.loads(first.stdout)
    assert a["status"] == "succeeded"
    again = sightline("batch", "run", "--as-of", "2020-03-13", "--user", "admin")
    assert again.exit_code == 0
    assert "identical rerun" in again.stdout and a["run_id"] in again.stdout
    listing = json.loads(sightline("batch", "list", "--json").stdout)
    assert [r["status"] for r in listing] == ["succeeded", "succeeded"]
    assert [r["current"] for r in listing] == [False, True]
    assert listing[0]["identical_to"] == a["run_id"]
    assert listing[0]["results_sha256"] == listing[1]["results_sha256"]
    shown = json.loads(sightline("batch", "show", a["run_id"], "--json").stdout)
    lineage = shown["lineage"]
    assert set(lineage["tables"]) == {"prices", "positions", "loans", "fundamentals", "macro"}
    assert all(len(t["sha256"]) == 64 for t in lineage["tables"].values())
    assert lineage["tables"]["prices"]["last"] == "2020-03-13"  # nothing after the as-of date
    assert lineage["models"]["risk"].startswith("risk@")
    assert lineage["models"]["pd"].startswith("pd@")
    assert lineage["features"] and lineage["code"]["batch"]
    assert shown["result_rows"]["batch_pd"] == 1000
    assert shown["result_rows"] == lineage["result_rows"]
    assert set(shown["stages_s"]) >= {"features", "lineage", "risk", "backtest", "credit"}
    text = sightline("batch", "show", a["run_id"]).stdout
    assert "input prices" in text and "model risk" in text


def test_numbers_equal_the_tools_run_on_request(book: Runtime) -> None:
    outcome = run_batch(book, D16, user="admin", say=_quiet)
    assert outcome.exit_code == 0, outcome.message
    risk = {
        (r["portfolio"], r["confidence"], r["metric"]): r["value"]
        for r in _rows(book, "batch_risk", outcome.run_id)
    }
    with book.warehouse.reader() as con:
        for conf in (0.95, 0.99):
            asked = risk_metrics(
                con, book.registry,
                {"portfolio": "DEMO", "as_of": D16, "confidence": conf, "lookback_days": 1000},
            )  # fmt: skip
            for metric in ("var_historical_usd", "es_historical_usd", "market_value_usd"):
                assert risk[("DEMO", conf, metric)] == asked["values"][metric]
        pds = {r["loan_id"]: r["pd"] for r in _rows(book, "batch_pd", outcome.run_id)}
        for loan_id in (1, 2, 17, 500, 1000):
            on_request = default_probability(con, book.registry, {"loan_id": loan_id})
            assert pds[loan_id] == pytest.approx(
                on_request["values"]["probability_of_default"], abs=1e-12
            )
    exposures = _rows(book, "batch_exposures", outcome.run_id)
    demo_tickers = [e for e in exposures if e["portfolio"] == "DEMO" and e["kind"] == "ticker"]
    sectors = [e for e in exposures if e["portfolio"] == "DEMO" and e["kind"] == "sector"]
    assert len(demo_tickers) == 20
    assert sum(s["weight"] for s in sectors) == pytest.approx(1.0)
    assert sum(s["market_value_usd"] for s in sectors) == pytest.approx(
        risk[("DEMO", 0.99, "market_value_usd")]
    )


def test_failed_step_keeps_previous_good_run_current(book: Runtime) -> None:
    good = run_batch(book, D16, user="admin", say=_quiet)
    mv = book.registry.approved("pd")
    artefact = book.registry.artefacts / mv.name / f"{mv.version}.json"
    artefact.write_bytes(artefact.read_bytes() + b" ")  # tampered: the registry refuses it
    result = sightline("batch", "run", "--as-of", "2020-03-16", "--user", "admin")
    assert result.exit_code == EXIT_STEP_FAILED
    assert "failed in step 'credit'" in result.stdout
    with book.warehouse.reader() as con:
        assert batch_store.current_run_id(con, D16) == good.run_id
        failed = batch_store.list_runs(con)[0]
    assert failed.status == "failed" and failed.failed_step == "credit"
    assert "does not match its registered sha256" in (failed.error or "")
    assert sum(_count(book, failed.run_id).values()) == 0  # nothing of it was published


def _count(rt: Runtime, run: str) -> dict[str, int]:
    with rt.warehouse.reader() as con:
        return batch_store.result_counts(con, run)


def test_reconciliation_exceptions(book: Runtime, tmp_path) -> None:  # noqa: ANN001
    # A book holding GOOG before its first price (2004-08-19): a missing price.
    extra = pd.DataFrame(
        {"portfolio": ["NEWCO", "NEWCO"], "ticker": ["GOOG", "KO"], "quantity": [100.0, 50.0],
         "as_of": [date(2004, 6, 1), date(2004, 6, 1)]}
    )  # fmt: skip
    load_table(book.warehouse, "positions", extra, loaded_by="test", source_name="newco")
    early = run_batch(book, date(2004, 6, 4), user="admin", say=_quiet)
    assert early.exit_code == 0, early.message
    found = _rows(book, "batch_exceptions", early.run_id)
    kinds = {(e["kind"], e["portfolio"], e["ticker"]) for e in found}
    assert ("missing_price", "NEWCO", "GOOG") in kinds
    assert ("no_holdings", "DEMO", None) in kinds  # DEMO's first holdings are dated 2019
    risk = _rows(book, "batch_risk", early.run_id)
    assert not [r for r in risk if r["portfolio"] == "NEWCO"]  # not measured with a price missing

    feb = run_batch(book, date(2020, 2, 28), user="admin", say=_quiet)
    mar = run_batch(book, D13, user="admin", say=_quiet)
    assert feb.exit_code == mar.exit_code == 0
    found = _rows(book, "batch_exceptions", mar.run_id)
    changes = [e for e in found if e["kind"] == "quantity_change" and e["portfolio"] == "DEMO"]
    assert len(changes) == 20 and all(feb.run_id in e["detail"] for e in changes)
    stale = [e for e in found if e["kind"] == "stale_price"]
    # IBM's prices end in 2013, GOOG's too: both books hold a stale price in 2020.
    assert {(e["portfolio"], e["ticker"]) for e in stale} == {("INCOME", "IBM"), ("NEWCO", "GOOG")}


def test_later_data_does_not_change_an_old_run(book: Runtime) -> None:
    first = run_batch(book, D13, user="admin", say=_quiet)
    later = pd.DataFrame(
        {"portfolio": ["DEMO"], "ticker": ["KO"], "quantity": [1.0], "as_of": [date(2021, 6, 1)]}
    )
    load_table(book.warehouse, "positions", later, loaded_by="test", source_name="later")
    again = run_batch(book, D13, user="admin", say=_quiet)
    assert again.status == "identical" and again.identical_to == first.run_id


def test_a_second_run_while_one_holds_the_lock_exits_4(book: Runtime) -> None:
    with FileLock(str(book.settings.home / "batch.lock")):
        outcome = run_batch(book, D13, user="admin", say=_quiet)
    assert outcome.exit_code == EXIT_LOCKED and outcome.run_id is None


def test_unknown_user_and_bad_date_are_clear_errors(book: Runtime) -> None:
    result = sightline("batch", "run", "--as-of", "1980-01-02", "--user", "admin")
    assert result.exit_code == EXIT_STEP_FAILED
    assert "no price on or before 1980-01-02" in result.stdout
    result = sightline("batch", "run", "--as-of", "2020-03-16", "--user", "nobody")
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert sightline("batch", "show", "no-such-run").exit_code == 1


def test_schedule_runs_for_the_previous_business_day() -> None:
    friday_noon = datetime(2020, 3, 13, 12, 0, tzinfo=UTC)
    fires = next_runs("30 1 * * 1-5", 3, now=friday_noon)
    assert [f.isoformat() for f, _ in fires] == [
        "2020-03-16T01:30:00+00:00", "2020-03-17T01:30:00+00:00", "2020-03-18T01:30:00+00:00",
    ]  # fmt: skip
    assert [d for _, d in fires] == [D13, D16, date(2020, 3, 17)]
    assert previous_business_day(datetime(2020, 3, 16, 1, 30)) == D13
    result = sightline("batch", "schedule", "--cron", "30 1 * * 1-5", "--next", "2")
    assert result.exit_code == 0 and "as of" in result.stdout
    bad = sightline("batch", "schedule", "--cron", "every night", "--next", "1")
    assert bad.exit_code == 1 and "crontab" in bad.output


def test_the_scheduled_job_runs_the_previous_business_day(book: Runtime) -> None:
    from app.batch.schedule import scheduled_job

    messages: list[str] = []
    assert scheduled_job(book, "admin", messages.append) == 0
    expected = previous_business_day(datetime.now(UTC))
    with book.warehouse.reader() as con:
        assert batch_store.current_run_id(con, expected) is not None
    assert any("succeeded" in m for m in messages)
