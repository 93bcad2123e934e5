"""The offline planner's entry point, kept where the LLM path imports it (``app.agent.offline``)."""

from __future__ import annotations

from app.agent.offline import PLANNER_VERSION, Declined, plan_and_answer

__all__ = ["PLANNER_VERSION", "Declined", "plan_and_answer"]
