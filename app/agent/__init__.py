"""The agent: answers analyst questions with tools, citations and grounded numbers.

Public entry point (stable; the evals and the Streamlit app call it)::

    answer(rt, question, user=None, *, history=None, llm=None, on_text=None) -> Answer

The answer is appended to the answer trail before it is returned; ``Answer.to_json()`` is the
``sightline ask --json`` object. See docs/agent.md.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from app.agent.result import Answer
    from app.llm.base import ChatModel

__all__ = ["answer"]


def answer(
    rt: Any,
    question: str,
    user: Any = None,
    *,
    history: list[dict[str, Any]] | None = None,
    llm: ChatModel | None = None,
    on_text: Callable[[str], None] | None = None,
) -> Answer:
    """Answer ``question`` for ``user``; recorded in the trail before it is returned.

    See ``app.agent.core.answer`` for the arguments.
    """
    from app.agent.core import answer as run

    return run(rt, question, user, history=history, llm=llm, on_text=on_text)
