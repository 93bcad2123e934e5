"""The CI gate: a run's metrics held to the thresholds kept in ``evals/thresholds.json``.

Each threshold is ``{"min": x}`` or ``{"max": x}`` with a ``note``. A suite that did not run
(unavailable, skipped) is reported as unchecked, never as passed, so the gate says what it could
not see.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from evals.harness.model import Run
from ingestion.errors import ConfigError

THRESHOLDS_FILE = Path(__file__).resolve().parents[1] / "thresholds.json"


def load_thresholds(path: Path = THRESHOLDS_FILE) -> dict[str, dict[str, dict[str, Any]]]:
    """Suite -> metric -> {"min"|"max": value, "note": why}.

    Raises:
        ConfigError: the file is missing or malformed.
    """
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        thresholds = data["thresholds"]
    except (OSError, ValueError, KeyError) as exc:
        raise ConfigError(f"cannot read eval thresholds {path}: {exc}") from exc
    for suite, metrics in thresholds.items():
        for metric, rule in metrics.items():
            if not ({"min", "max"} & set(rule)) or not rule.get("note"):
                raise ConfigError(
                    f"threshold {suite}.{metric} needs 'min' or 'max' and a 'note'",
                    hint="every gate value says why it is what it is",
                )
    return thresholds


def check_gate(
    run: Run, thresholds: dict[str, dict[str, dict[str, Any]]] | None = None
) -> dict[str, Any]:
    """Compare a run with the thresholds.

    Returns:
        {"passed": bool, "failures": [...], "unchecked": [...], "checked": n}; a failure is
        {suite, metric, value, rule, bound}; unchecked lists suites that did not run, with why.
    """
    thresholds = load_thresholds() if thresholds is None else thresholds
    failures: list[dict[str, Any]] = []
    unchecked: list[dict[str, str]] = []
    checked = 0
    for suite, metrics in thresholds.items():
        result = run.suites.get(suite)
        if result is None:
            continue  # not selected in this run
        if result.status == "error":
            # A crashed suite measured nothing: that must fail the gate, not pass it unseen.
            failures.append(
                {
                    "suite": suite,
                    "metric": "status",
                    "value": result.message,
                    "rule": "ok",
                    "bound": "ok",
                }
            )
            continue
        if result.status != "ok":
            unchecked.append({"suite": suite, "status": result.status, "why": result.message})
            continue
        for metric, rule in metrics.items():
            value = result.metrics.get(metric)
            if value is None and "unavailable" in result.message:
                # The part of the suite that measures this has not landed yet: say so.
                unchecked.append(
                    {
                        "suite": f"{suite}.{metric}",
                        "status": "unavailable",
                        "why": result.message.removeprefix("unavailable: "),
                    }
                )
                continue
            checked += 1
            for kind in ("min", "max"):
                if kind not in rule:
                    continue
                bound = rule[kind]
                bad = (
                    value is None
                    or (kind == "min" and value < bound)
                    or (kind == "max" and value > bound)
                )
                if bad:
                    failures.append(
                        {
                            "suite": suite,
                            "metric": metric,
                            "value": value,
                            "rule": kind,
                            "bound": bound,
                        }
                    )
    return {
        "passed": not failures,
        "failures": failures,
        "unchecked": unchecked,
        "checked": checked,
    }
