"""The LLM-path tests share the agent tests' demo runtime."""

from tests.agent.conftest import agent_rt  # noqa: F401 - the fixture, re-exported
