"""The Reports and Monitoring pages under Streamlit's AppTest, over a demo copy with batch runs."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from app.batch.run import run_batch
from app.runtime import Runtime

APP = Path(__file__).resolve().parents[2] / "app" / "ui" / "streamlit_app.py"


@pytest.fixture
def app(book: Runtime, monkeypatch: pytest.MonkeyPatch):  # noqa: ANN201
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("SIGHTLINE_UI_WARM_UP", "false")
    assert run_batch(book, date(2020, 3, 16), user="admin", say=lambda _m: None).exit_code == 0
    return AppTest.from_file(str(APP), default_timeout=180)


def _open(app, name: str, page: str):  # noqa: ANN001, ANN202
    app.run()
    app.text_input(key="sign_in_name").input(name)
    app.text_input(key="sign_in_password").input("sightline-demo")
    app.button(key="FormSubmitter:sign_in-Sign in").click().run()
    app.query_params["page"] = page
    app.run()
    assert not app.exception, app.exception
    return app


def test_reports_page_lists_runs_and_generates_the_report(app, book: Runtime) -> None:  # noqa: ANN001
    _open(app, "compliance", "reports")
    runs = app.dataframe[0].value
    assert list(runs["status"]) == ["succeeded"] and bool(runs["current"].iloc[0])
    app.button(key="report_make").click().run()
    assert not app.exception
    assert any("sha256 recorded" in str(s.value) for s in app.success)
    assert list((book.settings.home / "reports").glob("*.pdf"))


def test_monitoring_page_shows_drift_and_alerts(app) -> None:  # noqa: ANN001
    _open(app, "validator", "monitoring")
    inputs = app.dataframe[0].value
    assert "psi" in inputs.columns and len(inputs) == 22
    # 2020-03-16: the COVID window's volatility is far outside the 1990s development sample.
    assert any("realized_vol_60d" in str(e.value) for e in app.error)


def test_analyst_is_refused_the_monitoring_page(app) -> None:  # noqa: ANN001
    app.run()
    app.text_input(key="sign_in_name").input("analyst")
    app.text_input(key="sign_in_password").input("sightline-demo")
    app.button(key="FormSubmitter:sign_in-Sign in").click().run()
    app.query_params["page"] = "monitoring"
    app.run()
    assert not app.dataframe  # nothing of the page was read
