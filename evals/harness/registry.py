"""The suite registry: a name -> ``Suite`` dict, filled lazily so importing costs nothing."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from evals.harness.model import EvalContext, SuiteResult
from ingestion.errors import InputError


@dataclass(frozen=True)
class Suite:
    """A named evaluation.

    Attributes:
        name: the ``--suite`` name.
        description: one line for ``--help`` and the report.
        run: scores the suite in an ``EvalContext``.
        offline: True when it needs no LLM and belongs to the default run and the CI gate.
    """

    name: str
    description: str
    run: Callable[[EvalContext], SuiteResult]
    offline: bool = True


_SUITES: dict[str, Suite] = {}
_BUILTINS = (
    "evals.harness.suite_analyst",
    "evals.harness.suite_retrieval",
    "evals.harness.suite_security",
    "evals.harness.suite_sql",
)


def register(suite: Suite) -> Suite:
    """Add (or replace) a suite by name; returns it so modules can register at definition."""
    _SUITES[suite.name] = suite
    return suite


def _load_builtins() -> None:
    import importlib

    for module in _BUILTINS:
        importlib.import_module(module)


def suite_names() -> list[str]:
    """Every registered suite, built-in ones first in a fixed order."""
    _load_builtins()
    return list(_SUITES)


def get_suite(name: str) -> Suite:
    """The suite called ``name``.

    Raises:
        InputError: no such suite.
    """
    _load_builtins()
    try:
        return _SUITES[name]
    except KeyError:
        raise InputError(
            f"unknown eval suite {name!r}", hint=f"choose from: {', '.join(_SUITES)}"
        ) from None
