"""Reading batch runs back: the list (with abandoned runs told apart) and one run in full."""

from __future__ import annotations

import os
import socket
from dataclasses import replace
from typing import Any

from app.runtime import Runtime
from tools import batch_store


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _shown(row: batch_store.RunRow) -> batch_store.RunRow:
    """A ``running`` row whose process is gone (killed, crashed) is shown as ``abandoned``."""
    if row.status == "running" and row.host == socket.gethostname() and not _alive(row.pid):
        return replace(row, status="abandoned")
    return row


def runs(rt: Runtime, limit: int = 200) -> list[batch_store.RunRow]:
    """Batch runs, newest first."""
    with rt.warehouse.reader() as con:
        return [_shown(r) for r in batch_store.list_runs(con, limit)]


def run_detail(rt: Runtime, run_id: str) -> dict[str, Any]:
    """One run: its row, lineage, stage times and how many result rows it published."""
    with rt.warehouse.reader() as con:
        row = _shown(batch_store.get_run(con, run_id))
        counts = batch_store.result_counts(con, run_id)
        payload = batch_store.run_payload(con, run_id)
    detail = row.to_dict()
    detail["result_rows"] = counts
    detail["payload"] = payload
    return detail


def run_tables(rt: Runtime, run_id: str) -> dict[str, list[dict[str, Any]]]:
    """A run's headline results as plain rows (the app shows them next to the report files)."""
    headline = {"market_value_usd", "var_historical_usd", "es_historical_usd"}
    with rt.warehouse.reader() as con:
        risk = [
            r for r in batch_store.result_rows(con, "batch_risk", run_id) if r["metric"] in headline
        ]
        exceptions = batch_store.result_rows(con, "batch_exceptions", run_id)
        payload = batch_store.run_payload(con, run_id)
    limits = [
        {"portfolio": p, **row}
        for p, part in sorted(payload.get("risk", {}).items())
        for row in part.get("limits", [])
    ]
    return {"risk": risk, "limits": limits, "exceptions": exceptions}
