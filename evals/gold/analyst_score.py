"""Score answers on the analyst generalization set: right, wrong answer, honest miss, degraded.

One outcome per question, from the ``ask --json`` record and the item's gold:

- ``right``: the gold figure (or an accepted convention's) is stated within tolerance, the
  ranking's tickers are the first ones named, or the question is declined when the gold is a
  decline (a right decline is right);
- ``wrong_answer``: shown as an answer (``answered`` or ``flagged``) but the gold figure is not in
  it, or anything shown as an answer when the gold is a decline — the worst failure;
- ``miss``: declined (``refused``) although the data holds the answer — honest, still a miss;
- ``degraded`` (LLM runs only): the LLM failed and the offline planner answered; an LLM miss,
  counted apart (``fallback_right`` says whether the fallback itself was right);
- ``error``: withheld, or the call raised.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from evals.gold.analyst_phrasings import NAMES
from evals.harness.textnum import numbers_in

OUTCOMES = ("right", "wrong_answer", "miss", "degraded", "error")
SHOWN = ("answered", "flagged")
# Dates and window lengths are not figures: "2015-06-30" and "20-day" must not match a gold 20.
_NOT_FIGURES = re.compile(
    r"\d{4}-\d{2}-\d{2}|\b\d{1,3}\s*-?\s*(?:day|d|month|year|trading[- ]day)s?\b|\bQ[1-4]\b"
    r"|\b[1-4]Q\d{2,4}\b|\b(?:19|20)\d{2}\b(?!\.\d)",
    re.IGNORECASE,
)
_INTERPRETED = re.compile(r"^[ \t*_]*Interpreted as:[ \t*_]*(\S.*)$", re.IGNORECASE | re.MULTILINE)


def interpretation_of(record: dict[str, Any]) -> str:
    """The answer's ``interpretation`` field, else its "Interpreted as:" line ("" if none)."""
    value = record.get("interpretation")
    if isinstance(value, str) and value.strip():
        return value.strip()
    if isinstance(value, dict) and value:
        return str(value.get("text") or value)
    match = _INTERPRETED.search(str(record.get("answer") or ""))
    return match.group(1).strip() if match else ""


def names_entities(spec: dict[str, Any], interpretation: str) -> bool | None:
    """Does the interpretation name every ticker / macro series of the question (None: none)?"""
    wanted = [spec[k] for k in ("ticker", "other", "series") if isinstance(spec.get(k), str)]
    if not wanted or not interpretation:
        return None
    low = interpretation.lower()
    return all(w.lower() in low for w in wanted)


def figures(text: str) -> list[tuple[float, float]]:
    """Numbers stated in ``text`` (every unit reading), dates and window lengths left out."""
    return numbers_in(_NOT_FIGURES.sub(" ", text))


def number_matches(gold: dict[str, Any], text: str) -> bool:
    """Some figure in ``text`` equals the gold value or an accepted alternative, in tolerance."""
    targets = [gold["value"], *(a["value"] for a in gold.get("alternatives", []))]
    tol = gold.get("tolerance") or {}
    rel, floor = float(tol.get("rel", 0.001)), float(tol.get("abs", 0.0))
    found = figures(text)
    for target in targets:
        for value, half in found:
            got, want = (abs(value), abs(target)) if gold.get("magnitude") else (value, target)
            # The printed precision counts: "31.2%" for 0.3124, "0.000012" for 1.236e-05 are the
            # gold figure rounded, not another figure. Capped at 20% of the value, so "0%" is
            # not 0.004 and "about 0.4" is not 0.2541.
            allowed = max(rel * abs(want), floor, min(half * 1.01, 0.2 * abs(want)))
            if abs(got - want) <= allowed:
                return True
    return False


def tickers_named(text: str, universe: Sequence[str]) -> list[str]:
    """Tickers (symbols or company names) in order of first mention."""
    spots: list[tuple[int, str]] = []
    for ticker in universe:
        forms = [ticker, *NAMES.get(ticker, [])]
        for form in forms:
            pattern = rf"(?<![\w^]){re.escape(form)}(?![\w])"
            hit = re.search(pattern, text) if form.isupper() else re.search(pattern, text, re.I)
            if hit:
                spots.append((hit.start(), ticker))
    ordered: list[str] = []
    for _, ticker in sorted(spots):
        if ticker not in ordered:
            ordered.append(ticker)
    return ordered


def content_right(gold: dict[str, Any], record: dict[str, Any], barred: Sequence[str] = ()) -> bool:
    """Does the shown text carry the gold answer (number, tickers or phrases)?

    For rankings the tickers the asker may not see (``barred``) are not counted as named: an
    answer may say it left them out.
    """
    text = str(record.get("answer") or "")
    kind = gold.get("answer")
    if kind == "number":
        ok = number_matches(gold, text)
    elif kind == "tickers":
        universe = [t for t in NAMES if not t.startswith("^") and t not in barred]
        named = tickers_named(text, universe)
        ok = set(named[: len(gold["tickers"])]) == set(gold["tickers"])
    else:
        ok = True
    phrases = gold.get("phrases") or []
    return ok and all(p.lower() in text.lower() for p in phrases)


def score(item: dict[str, Any], record: dict[str, Any], *, llm_run: bool) -> dict[str, Any]:
    """The outcome of one answer record against its item (see the module docstring)."""
    gold = item["gold"]
    barred = tuple(item["spec"].get("barred", ()))
    status = str(record.get("status") or "error")
    wants_decline = gold.get("answer") == "decline"
    fallback_right = None
    if status == "degraded" and llm_run:
        fallback_right = (not wants_decline) and content_right(gold, record, barred)
        outcome = "degraded"
    elif status in (*SHOWN, "degraded"):
        right = not wants_decline and content_right(gold, record, barred)
        outcome = "right" if right else "wrong_answer"
    elif status == "refused":
        outcome = "right" if wants_decline else "miss"
    else:
        outcome = "error"
    interpretation = interpretation_of(record)
    tokens = record.get("tokens") or {}
    out: dict[str, Any] = {
        "id": item["id"],
        "split": item["split"],
        "family": item["family"],
        "kind": item["spec"]["kind"],
        "question": item["question"],
        "user": item.get("user", "analyst"),
        "status": status,
        "outcome": outcome,
        "passed": outcome == "right",
        "expected": _expected(gold),
        "interpretation": interpretation or None,
        "interpretation_names_entities": names_entities(item["spec"], interpretation),
        "shown": status in (*SHOWN, "degraded"),
        "prompt_tokens": int(tokens.get("prompt", 0) or 0) if isinstance(tokens, dict) else 0,
        "completion_tokens": (
            int(tokens.get("completion", 0) or 0) if isinstance(tokens, dict) else 0
        ),
    }
    if fallback_right is not None:
        out["fallback_right"] = fallback_right
    if gold.get("doc"):
        out["citation_ok"] = gold["doc"] in [
            c.get("doc_name") for c in record.get("citations") or []
        ]
    return out


def _expected(gold: dict[str, Any]) -> Any:
    if gold.get("answer") == "number":
        return gold["value"]
    if gold.get("answer") == "tickers":
        return gold["tickers"]
    if gold.get("answer") == "decline":
        return f"decline ({gold.get('reason', '')})"
    return gold.get("phrases")


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def summarize(cases: list[dict[str, Any]], prefix: str = "") -> dict[str, float | int | None]:
    """Outcome rates of ``cases`` (one split, or all), metric names prefixed with ``prefix``."""
    n = len(cases)
    count = {o: sum(c["outcome"] == o for c in cases) for o in OUTCOMES}
    shown = [c for c in cases if c["shown"]]
    declines = [c for c in cases if str(c["expected"]).startswith("decline")]
    answerable = [c for c in cases if c not in declines]
    degraded = [c for c in cases if c["outcome"] == "degraded"]
    named = [c for c in shown if c.get("interpretation_names_entities") is not None]
    metrics: dict[str, float | int | None] = {
        "questions": n,
        "right": count["right"],
        "accuracy": _rate(count["right"], n),
        "wrong_answers": count["wrong_answer"],
        "wrong_answer_rate": _rate(count["wrong_answer"], n),
        "miss_rate": _rate(count["miss"], n),
        "degraded_rate": _rate(count["degraded"], n),
        "error_rate": _rate(count["error"], n),
        "answerable_accuracy": _rate(sum(c["passed"] for c in answerable), len(answerable)),
        "decline_accuracy": _rate(sum(c["passed"] for c in declines), len(declines)),
        "interpretation_coverage": _rate(sum(bool(c["interpretation"]) for c in shown), len(shown)),
        "interpretation_entity_rate": _rate(
            sum(c.get("interpretation_names_entities") is True for c in named), len(named)
        ),
        "fallback_accuracy": _rate(
            sum(bool(c.get("fallback_right")) for c in degraded), len(degraded)
        ),
        "mean_prompt_tokens": _mean([c["prompt_tokens"] for c in cases]),
        "mean_completion_tokens": _mean([c["completion_tokens"] for c in cases]),
        "seconds_per_question": _mean([c.get("seconds", 0.0) for c in cases], 3),
    }
    return {f"{prefix}{k}": v for k, v in metrics.items()}


def _mean(values: list[float], places: int = 1) -> float | None:
    return round(sum(values) / len(values), places) if values else None


def per_family(cases: list[dict[str, Any]]) -> dict[str, float]:
    """Accuracy per split and family, for the report's bar chart."""
    out: dict[str, float] = {}
    for key in sorted({(c["split"], c["family"]) for c in cases}):
        rows = [c for c in cases if (c["split"], c["family"]) == key]
        out[f"{key[0]}:{key[1]}"] = round(sum(c["passed"] for c in rows) / len(rows), 4)
    return out
