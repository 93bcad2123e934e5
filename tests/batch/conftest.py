"""Fixtures for the batch tests: the demo plus the demo book's holdings history (2019-2020).

The demo's ``positions`` table holds only the 2022-12-28 book; ``positions_history.csv`` adds
month-end DEMO holdings and a small INCOME book (with IBM, whose prices end in 2013), loaded the
way a user would (``load_table``), into a private copy of the demo.
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
    """The demo runtime with the holdings history loaded."""
    from ingestion.tables import load_table

    load_table(demo_runtime.warehouse, "positions", HISTORY, loaded_by="test")
    return demo_runtime


def sightline(*args: str) -> Result:
    """Run the CLI in-process (SIGHTLINE_HOME comes from the fixture's environment)."""
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)
