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
