"""Fixtures for the batch tests: a private copy of the demo, whose books include their history.

The demo's ``positions`` table holds the 2022-12-28 DEMO book plus ``positions_history.csv``:
month-end DEMO holdings of 2019-2020 and a small INCOME book (with IBM, whose prices end in 2013).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from app.cli import cli
from app.runtime import Runtime

HISTORY = Path(__file__).resolve().parents[2] / "ingestion" / "demo_data" / "positions_history.csv"


@pytest.fixture
def book(demo_runtime: Runtime) -> Runtime:
    """The demo runtime; loading the history file again is a no-op (identical content)."""
    from ingestion.tables import load_table

    load_table(demo_runtime.warehouse, "positions", HISTORY, loaded_by="test")
    return demo_runtime


def sightline(*args: str) -> Result:
    """Run the CLI in-process (SIGHTLINE_HOME comes from the fixture's environment)."""
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)
