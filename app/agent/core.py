"""``answer()``: one question in, one checked, cited, recorded answer out.

Order of work: resolve the user -> build the question's ToolContext -> let the LLM (or the
offline planner) gather evidence and write -> check grounding -> build the record -> append it to
the answer trail -> only then return. If the trail append fails, the answer is withheld.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from app.agent import compose, grounding, loop, planner
from app.agent.coverage import check_tool_args
from app.agent.evidence import Evidence
from app.agent.request import Catalog, describe, parse_question
from app.agent.result import Answer, Draft, citations, code_version, embedding_version, to_record
from app.agent.toolbox import context_for
from app.llm import ChatModel, LLMUnavailable, chat_model
from app.trail.record import new_record_id
from tools.agent_tools import known_entities

WITHHELD = (
    "The answer was withheld: it could not be written to the answer trail ({reason}). Nothing is "
    "shown that is not on record; try again, and tell compliance if this persists."
)
OFFLINE_PROMPT = "offline-templates@1"
UNVERIFIED = (
    "I could not trace every figure of the answer to the data it came from, so I show none. "
    "The attempt is on record for review; please rephrase or ask for one quantity at a time."
)


def answer(
    rt: Any,
    question: str,
    user: Any = None,
    *,
    history: list[dict[str, Any]] | None = None,
    llm: ChatModel | None = None,
    on_text: Callable[[str], None] | None = None,
) -> Answer:
    """Answer ``question`` for ``user`` and record it in the answer trail before returning.

    Args:
        rt: the ``app.runtime.Runtime``.
        question: the analyst's question.
        user: a ``User``, a user name, or None for the ``SIGHTLINE_USER`` setting.
        history: earlier answers of this conversation (``Answer.to_json()`` dicts), oldest first;
            used for "why" follow-ups and as LLM context.
        llm: a chat model to use instead of the one ``SIGHTLINE_LLM`` selects.
        on_text: called with pieces of the final answer text as they are ready (streaming).

    Returns:
        The Answer (status answered, degraded, flagged, refused or withheld).
    """
    started = time.perf_counter()
    person = user if hasattr(user, "groups") else rt.user(user)
    question = " ".join(str(question).split())[:2000]
    model = (
        llm
        if llm is not None
        else chat_model(rt.settings.llm, timeout_s=rt.settings.llm_timeout_s, settings=rt.settings)
    )
    ctx = context_for(rt, person)
    evidence = Evidence()
    try:
        limited = _rate_limited(rt, person)
        if limited:
            draft = Draft(text=limited, status="refused", llm="offline", prompt=OFFLINE_PROMPT)
            draft.details["rate_limited"] = True
        else:
            draft = _draft(rt, question, ctx, evidence, model, history)
    finally:
        ctx.close()
    if evidence.barrier_events:
        # The barrier event: found by `sightline trail list --barrier` (details.barrier_events).
        draft.details["barrier_events"] = evidence.barrier_events
        draft.warnings.append(
            f"information barrier: {len(evidence.barrier_events)} request(s) for restricted data "
            "refused"
        )
    report = grounding.check(draft.text, evidence, question)
    draft.details.setdefault("grounding", {})
    draft.details["grounding"].update(
        {"final_ok": report.ok, "final_ungrounded": report.ungrounded}
    )
    if not report.ok and draft.status in ("answered", "degraded"):
        # Belt and braces: templated text should always trace; if not, do not show it as is.
        draft.warnings.append(f"final grounding check failed: {report.feedback()}")
        if draft.llm.startswith("offline"):
            # A templated answer that does not trace is a planner defect: show no figure at all
            # rather than raw tool output that may answer something else.
            draft.text = UNVERIFIED
            draft.status = "refused"
            draft.details["interpretation"] = "declined (a figure could not be traced)"
        else:
            draft.text = compose.extractive(question, evidence)
            draft.status = "flagged"
    result = _assemble(question, draft, evidence, started, rt.settings.embedding_backend)
    record = to_record(result, evidence, draft, user=person, question=question)
    try:
        stored = rt.trail.append(record)
    except Exception as exc:  # noqa: BLE001 - any failure to record withholds the answer
        return _withheld(result, exc)
    result.trail_seq = getattr(stored, "seq", None)
    if not draft.details.get("rate_limited"):
        _count_answer(rt, person)
    if on_text:
        streamed = draft.stream if "".join(draft.stream) == result.answer else []
        for piece in streamed or _pieces(result.answer):
            on_text(piece)
    return result


_RECENT: dict[tuple[str, str], deque[float]] = {}
_RECENT_LOCK = threading.Lock()


def _rate_limited(rt: Any, person: Any) -> str | None:
    """A refusal message when ``person`` asked too many questions in the last minute.

    The window lives in this process, seeded once per user from the trail (so a fresh CLI process
    still sees the last minute's answers) and then kept up to date as answers are recorded;
    reading the trail on every question would cost more than the answer's own bookkeeping.
    """
    limit = rt.settings.rate_limit_per_minute
    now = time.time()
    key = (str(rt.settings.home), person.name)
    with _RECENT_LOCK:
        window = _RECENT.get(key)
        if window is None:
            window = _RECENT[key] = deque(_recorded_times(rt, person.name, limit, now))
        while window and window[0] < now - 60:
            window.popleft()
        if len(window) < limit:
            return None
    return (
        f"You have asked {len(window)} questions in the last minute, the most allowed "
        "(SIGHTLINE_RATE_LIMIT_PER_MINUTE). Please wait a moment and ask again."
    )


def _recorded_times(rt: Any, user: str, limit: int, now: float) -> list[float]:
    from datetime import UTC, datetime, timedelta

    from app.trail.store import TrailQuery

    since = datetime.fromtimestamp(now, UTC) - timedelta(seconds=60)
    try:
        recent = rt.trail.read(
            TrailQuery(user=user, kind="answer", start=since, limit=limit, newest_first=True)
        )
    except Exception:  # noqa: BLE001 - an unreadable trail is caught (and withheld) at append
        return []
    times = []
    for stored in recent:
        if stored.record.get("status") == "withheld" or stored.record.get("details", {}).get(
            "rate_limited"
        ):
            continue
        stamp = str(stored.record.get("time", "")).replace("Z", "+00:00")
        try:
            times.append(datetime.fromisoformat(stamp).timestamp())
        except ValueError:
            continue
    return sorted(times)


def _count_answer(rt: Any, person: Any) -> None:
    with _RECENT_LOCK:
        window = _RECENT.setdefault((str(rt.settings.home), person.name), deque())
        window.append(time.time())


def _draft(
    rt: Any,
    question: str,
    ctx: Any,
    evidence: Evidence,
    model: ChatModel | None,
    history: list[dict[str, Any]] | None,
) -> Draft:
    if model is None:
        draft = planner.plan_and_answer(question, ctx, evidence, history)
        draft.prompt = OFFLINE_PROMPT
        return draft
    try:
        draft = loop.run(
            model,
            question,
            ctx,
            evidence,
            max_tool_calls=rt.settings.max_tool_calls,
            token_budget=rt.settings.token_budget,
            history=history,
        )
        hold_to_question(question, ctx, evidence, draft)
        return draft
    except LLMUnavailable as exc:
        # Degrade: the offline planner answers from scratch; the LLM's partial calls stay logged.
        reason = exc.message
        draft = planner.plan_and_answer(question, ctx, evidence, history)
        draft.prompt = OFFLINE_PROMPT
        draft.llm = f"offline (fallback from {model.name})"
        summary = getattr(exc, "summary", "LLM unavailable")
        draft.warnings.append(f"{summary}, answered by the offline planner: {reason}")
        draft.details["degraded_reason"] = reason
        if draft.status == "answered":
            draft.status = "degraded"
        return draft


def hold_to_question(question: str, ctx: Any, evidence: Evidence, draft: Draft) -> None:
    """The coverage check on the LLM path: each tool call's arguments against the question.

    The question is parsed with the same rules as offline; a call for another ticker, day or
    window than the question names is a warning on the answer and ``details.coverage`` in the
    trail. The parsed request's one-line interpretation is recorded when the LLM gave none.
    """
    req = parse_question(question, Catalog.from_names(known_entities(ctx)))
    problems = [p for c in evidence.calls for p in check_tool_args(req, c.tool, c.args)]
    draft.details.setdefault("interpretation", describe(req))
    if problems:
        draft.details["coverage"] = {"mismatches": problems}
        draft.warnings.append("coverage check: " + "; ".join(dict.fromkeys(problems)))


def _assemble(
    question: str, draft: Draft, evidence: Evidence, started: float, embedding_backend: str
) -> Answer:
    versions = {
        "llm": draft.llm if draft.llm != "offline" else planner.PLANNER_VERSION,
        "prompt": draft.prompt,
        "embedding": embedding_version(evidence, embedding_backend),
        "risk_model": evidence.models.get("risk_model"),
        "pd_model": evidence.models.get("pd_model"),
        "code": code_version(),
    }
    return Answer(
        id=new_record_id(),
        question=question,
        answer=draft.text,
        status=draft.status,
        citations=citations(draft.text, evidence),
        tool_calls=[c.to_json() for c in evidence.calls],
        feature_values=list(evidence.features),
        versions=versions,
        chart=draft.chart,
        tokens={"prompt": draft.prompt_tokens, "completion": draft.completion_tokens},
        latency_ms=round((time.perf_counter() - started) * 1000, 3),
        warnings=[*evidence.warnings, *draft.warnings],
        interpretation=draft.details.get("interpretation"),
    )


def _withheld(result: Answer, exc: Exception) -> Answer:
    reason = getattr(exc, "message", None) or f"{type(exc).__name__}: {exc}"
    return Answer(
        id=result.id,
        question=result.question,
        answer=WITHHELD.format(reason=reason),
        status="withheld",
        citations=[],
        tool_calls=[],
        feature_values=[],
        versions=result.versions,
        chart=None,
        tokens=result.tokens,
        latency_ms=result.latency_ms,
        warnings=[f"answer trail append failed: {reason}"],
    )


def _pieces(text: str) -> list[str]:
    import re

    return re.findall(r"\S+\s*|\s+", text)
