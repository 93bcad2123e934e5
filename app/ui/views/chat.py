"""Ask page: questions in plain language, cited answers with charts, per-user conversation history.

The answer appears after the agent has written its record to the answer trail (SECURITY.md row 4):
while it works, a status box shows progress; the text is then shown whole, never half-recorded.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import streamlit as st

from app.runtime import Runtime
from app.ui.answer_view import as_dict, render_answer, render_markdown
from app.ui.guard import require
from app.ui.sanitize import escape_markdown
from app.users import User
from ingestion.errors import SightlineError

EXAMPLES = (
    "What is the 20-day realized volatility of JPM?",
    "Compare the 60-day volatility of AAPL and MSFT over 2020",
    "What is the 99% 10-day VaR of the portfolio?",
    "What does Microsoft's 10-K say about cloud revenue?",
)


def _conversation(user: User) -> list[dict[str, Any]]:
    # Keyed by user name: a second person signing in on the same browser never sees these.
    return st.session_state.setdefault(f"conversation:{user.name}", [])


def _pick() -> None:
    st.session_state["pending_question"] = st.session_state.get("example")
    st.session_state["example"] = None


def _page_text(rt: Runtime, user: User):  # noqa: ANN202
    """A function giving a citation's full chunk text, read through the user's entitlements."""

    def page_text(citation: dict[str, Any]) -> str | None:
        try:
            passages = rt.documents.resolve(  # type: ignore[attr-defined]
                [str(citation["chunk_id"])], groups=user.groups
            )
        except (SightlineError, KeyError):
            return None
        return passages[0].text if passages else None

    return page_text


def ask(
    rt: Runtime, user: User, question: str, on_text: Callable[[str], None] | None = None
) -> dict[str, Any]:
    """Ask the agent as ``user`` (role checked here, entitlements by the agent).

    ``on_text`` receives the answer text in pieces; the agent calls it only after the record is
    durably in the trail, so nothing unrecorded is ever on screen (SECURITY.md row 4).
    """
    require(user, "chat.ask")
    from app.agent import answer

    conversation = _conversation(user)
    history = [turn["answer"] for turn in conversation[-6:]]
    return as_dict(answer(rt, question, user, history=history, on_text=on_text))


def render(rt: Runtime, user: User) -> None:
    """Render the Ask page for ``user``."""
    require(user, "chat.view")
    st.header("Ask")
    conversation = _conversation(user)
    page_text = _page_text(rt, user)
    if conversation:
        st.button(
            "New conversation",
            icon=":material/add_comment:",
            on_click=lambda: conversation.clear(),
        )
    else:
        st.caption("Ask about prices, volatility, risk, default probability or a filing. Try:")
        st.pills("Examples", EXAMPLES, key="example", label_visibility="collapsed", on_change=_pick)
    for n, turn in enumerate(conversation):
        with st.chat_message("user"):
            st.text(turn["question"])
        with st.chat_message("assistant"):
            render_answer(turn["answer"], key=f"turn-{n}", page_text=page_text)
    question = st.chat_input("Ask a question", key="question")
    question = question or st.session_state.pop("pending_question", None)
    if not question:
        return
    with st.chat_message("user"):
        st.text(question)
    with st.chat_message("assistant"):
        started = time.perf_counter()
        streamed = st.empty()
        pieces: list[str] = []

        def show(piece: str) -> None:
            pieces.append(piece)
            with streamed.container():
                render_markdown("".join(pieces))

        with st.status("Planning, calling tools, recording the answer…") as status:
            try:
                result = ask(rt, user, question, on_text=show)
            except SightlineError as exc:
                status.update(label="No answer", state="error")
                st.error(f"error: {escape_markdown(str(exc))}")
                return
            status.update(
                label=f"Answered and recorded in {time.perf_counter() - started:.1f} s",
                state="complete",
                expanded=False,
            )
        streamed.empty()
        render_answer(result, key=f"turn-{len(conversation)}", page_text=page_text)
    conversation.append({"question": question, "answer": result})
