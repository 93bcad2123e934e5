"""LLM backends, chosen by the ``SIGHTLINE_LLM`` setting string.

offline         no LLM: the agent's deterministic planner answers (``chat_model`` returns None)
scripted        ``app.llm.scripted``: replies from a queue (tests, benchmarks)
openai:MODEL    ``app.llm.openai_compat``: any OpenAI-compatible server
                (``OPENAI_BASE_URL``, ``OPENAI_API_KEY``)
"""

from __future__ import annotations

import os
from typing import Any

from app.llm.base import ChatModel, LLMUnavailable, Reply, ToolCall
from ingestion.errors import ConfigError

__all__ = ["ChatModel", "LLMUnavailable", "Reply", "ToolCall", "chat_model"]


def chat_model(setting: str, *, timeout_s: float = 60.0, settings: Any = None) -> ChatModel | None:
    """The chat model for a ``SIGHTLINE_LLM`` value (None for ``offline``).

    ``settings`` (an ``app.settings.Settings``) supplies the request limits of an OpenAI-compatible
    backend: max_tokens, streaming, retries, the server's context size and the mode (tools or plan).

    Raises:
        ConfigError: an unknown backend string.
    """
    if setting == "offline":
        return None
    if setting == "scripted":
        from app.llm.scripted import default_script

        return default_script()
    if setting.startswith("openai:") and setting.removeprefix("openai:").strip():
        from app.llm.openai_compat import OpenAICompatibleChatModel

        options: dict[str, Any] = {}
        if settings is not None:
            timeout_s = settings.llm_timeout_s
            options = {
                "max_tokens": settings.llm_max_tokens,
                "stream": settings.llm_stream,
                "retries": settings.llm_retries,
                "context_tokens": settings.llm_context_tokens,
                "mode": settings.llm_mode,
            }
        # The entry point reads the environment once; OPENAI_* are the SDK's own conventions.
        return OpenAICompatibleChatModel(
            setting.removeprefix("openai:").strip(),
            base_url=os.environ.get("OPENAI_BASE_URL") or None,
            api_key=os.environ.get("OPENAI_API_KEY") or None,
            timeout_s=timeout_s,
            **options,
        )
    raise ConfigError(
        f"SIGHTLINE_LLM: unknown backend {setting!r}",
        hint="use 'offline', 'scripted' or 'openai:MODEL'",
    )
