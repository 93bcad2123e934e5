"""``sightline eval --compare RUN_A RUN_B``: shared metrics side by side, regressions marked."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from evals.harness.metrics import lower_is_better
from evals.harness.model import Run

# Changes smaller than this (absolute) are noise from rounding, not movement.
TOLERANCE = 1e-9


@dataclass(frozen=True)
class MetricChange:
    """One metric in both runs."""

    suite: str
    metric: str
    a: float | int | None
    b: float | int | None
    delta: float | None
    verdict: str  # regressed | improved | same | new | gone | n/a

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return dict(self.__dict__)


def _verdict(metric: str, a: Any, b: Any) -> tuple[float | None, str]:
    if a is None and b is None:
        return None, "n/a"
    if a is None:
        return None, "new"
    if b is None:
        return None, "gone"
    delta = float(b) - float(a)
    if abs(delta) <= TOLERANCE:
        return 0.0, "same"
    worse = delta > 0 if lower_is_better(metric) else delta < 0
    return round(delta, 6), "regressed" if worse else "improved"


def compare_runs(a: Run, b: Run) -> dict[str, Any]:
    """Line run ``b`` up against run ``a`` (the baseline).

    Returns:
        {"a": id, "b": id, "a_model", "b_model", "changes": [MetricChange dicts],
         "regressions": [...], "status_changes": [...]}.
    """
    changes: list[MetricChange] = []
    status_changes = []
    for suite in sorted(set(a.suites) | set(b.suites)):
        ra, rb = a.suites.get(suite), b.suites.get(suite)
        sa = ra.status if ra else "absent"
        sb = rb.status if rb else "absent"
        if sa != sb:
            status_changes.append({"suite": suite, "a": sa, "b": sb})
        ma = ra.metrics if ra else {}
        mb = rb.metrics if rb else {}
        for metric in sorted(set(ma) | set(mb)):
            va, vb = ma.get(metric), mb.get(metric)
            if not _numeric(va) or not _numeric(vb):
                continue
            delta, verdict = _verdict(metric, va, vb)
            changes.append(MetricChange(suite, metric, va, vb, delta, verdict))
    return {
        "a": a.run_id,
        "b": b.run_id,
        "a_model": a.model,
        "b_model": b.model,
        "changes": [c.as_dict() for c in changes],
        "regressions": [c.as_dict() for c in changes if c.verdict == "regressed"],
        "status_changes": status_changes,
    }


def _numeric(value: Any) -> bool:
    return value is None or (isinstance(value, int | float) and not isinstance(value, bool))


def format_comparison(result: dict[str, Any]) -> str:
    """A plain-text table; regressions first and marked ``!!``."""
    lines = [f"A: {result['a']} ({result['a_model']})", f"B: {result['b']} ({result['b_model']})"]
    order = {"regressed": 0, "improved": 1, "new": 2, "gone": 3, "same": 4, "n/a": 5}
    rows = sorted(result["changes"], key=lambda c: (order[c["verdict"]], c["suite"], c["metric"]))
    lines.append(f"{'':2} {'suite':10} {'metric':34} {'A':>12} {'B':>12} {'delta':>10}  verdict")
    for c in rows:
        mark = "!!" if c["verdict"] == "regressed" else "  "
        delta = "" if c["delta"] is None else f"{c['delta']:+.4g}"
        lines.append(
            f"{mark} {c['suite']:10} {c['metric']:34} {_fmt(c['a']):>12} {_fmt(c['b']):>12} "
            f"{delta:>10}  {c['verdict']}"
        )
    for s in result["status_changes"]:
        lines.append(f"!! suite {s['suite']}: {s['a']} -> {s['b']}")
    n = len(result["regressions"])
    lines.append(f"{n} regression(s)" if n else "no regressions")
    return "\n".join(lines)


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)
