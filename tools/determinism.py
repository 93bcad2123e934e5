"""Bit-exact model outputs: run numeric libraries single-threaded while a model computes.

Multi-threaded BLAS/OpenMP kernels split sums by thread count, so an optimizer (GARCH's SLSQP,
the scorecard's L-BFGS) can land on values that differ in the last bits between a process with
one thread and one with sixteen. The answer trail replays tool calls and expects identical
numbers, so every model entry point runs under ``deterministic``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")


def deterministic(func: Callable[P, R]) -> Callable[P, R]:
    """Decorator: run ``func`` with BLAS and OpenMP limited to one thread."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        from threadpoolctl import threadpool_limits  # installed with scikit-learn

        with threadpool_limits(limits=1):
            return func(*args, **kwargs)

    return wrapper
