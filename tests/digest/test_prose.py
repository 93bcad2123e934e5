"""LLM digest prose (scripted model): each sentence kept only when grounded in the item it cites."""

from __future__ import annotations

from app.digest import run_digest
from app.digest_prose import PROMPT_ID
from app.llm.scripted import default_script
from app.runtime import Runtime
from app.settings import Settings
from app.trail.store import TrailQuery


def test_grounded_sentences_kept_ungrounded_dropped(acme_runtime) -> None:  # noqa: ANN001
    offline = run_digest(acme_runtime, acme_runtime.user("pub"), issuer="ACME")
    titles = [i["title"] for i in offline["items"]]
    earnings = 1 + next(n for n, t in enumerate(titles) if t.startswith("Net earnings"))
    revenue = 1 + next(n for n, t in enumerate(titles) if t.startswith("Revenue"))
    rt = Runtime(Settings(home=acme_runtime.settings.home, llm="scripted"))
    model = default_script()
    model.queue.clear()
    good = f"Net earnings fell from 1,000 to 400 million [{earnings}]."
    model.enqueue(f"{good} Revenue rose to 99,999 million [{revenue}]. Margins looked healthy.")
    result = run_digest(rt, rt.user("pub"), issuer="ACME")
    assert result["prose"] == [good]
    assert result["status"] == "answered" and len(result["warnings"]) == 2
    assert "99,999" in result["warnings"][0]
    assert result["items"] == offline["items"]  # prose summarises; the items do not change
    # The items reach the model as delimited data, and the record names the model and prompt.
    sent = model.requests[-1][-1]["content"]
    assert sent.startswith("<items>") and "[1]" in sent
    (record,) = [r.record for r in rt.trail.read(TrailQuery(kind="digest")) if r.id == result["id"]]
    assert record["answer"].startswith(good)
    assert record["versions"]["llm"] == "scripted" and record["versions"]["prompt"] == PROMPT_ID


def test_model_down_is_degraded_with_the_extractive_digest(acme_runtime) -> None:  # noqa: ANN001
    rt = Runtime(Settings(home=acme_runtime.settings.home, llm="scripted"))
    default_script().queue.clear()  # no reply queued: the scripted model is unavailable
    result = run_digest(rt, rt.user("pub"), issuer="ACME")
    assert result["status"] == "degraded" and result["prose"] == []
    assert result["items"] and "Catastrophic events" in result["text"]
    (record,) = [r.record for r in rt.trail.read(TrailQuery(kind="digest")) if r.id == result["id"]]
    assert record["status"] == "degraded" and "LLM unavailable" in record["warnings"][0]
