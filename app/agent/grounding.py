"""The grounding check: every number in an answer must trace to the evidence; citations must exist.

A number is grounded when some number in the evidence (tool outputs and arguments, feature values,
the passages the answer cites, the question itself) rounds to it at the precision it is written
with, allowing for display units: a fraction shown as a percentage (0.3124 -> 31.2%), USD
millions shown in billions (1,234 -> 1.2bn), basis points, signs of losses (-0.35 -> "35%"). Dates
are checked as dates. Small counts (0-10) written without a unit are not checked: "3 tickers",
"1-day" carry no claim a reader could be misled by.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from app.agent.evidence import Evidence

_NUMBER = re.compile(
    r"(?<![\w.])(?P<sign>[-−–])?\s?(?P<cur>\$|USD\s?|US\$)?"
    r"(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)(?P<exp>[eE][-+]?\d{1,3})?"
    r"(?:\s?(?P<unit>%|percent\b|per cent\b|pp\b|percentage points?\b|bps\b|basis points?\b"
    r"|bn\b|billion\b|b\b|mn\b|million\b|m\b|k\b|thousand\b|x\b|trillion\b|tn\b))?",
    re.IGNORECASE,
)
_DATE = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")
# Names, not figures: index names, window and form names ("S&P 500", "252-day", "10-K", "Q2").
_VOCABULARY = re.compile(
    r"S&P\s?500|\b\d{1,3}-(?:day|month|year|quarter|bar|quote)s?\b|\b10-[KQ]\b|\bQ[1-4]\b"
    r"|\bZ''|\bX[1-5]\b|\bv\d+\b|@\w+|\b[0-9a-f]{12,64}\b",
    re.IGNORECASE,
)
_CITATION = re.compile(r"\[(\d{1,3})\]")
_EVIDENCE_NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?")

# How a stored number may be displayed: shown = stored * factor.
_FACTORS: dict[str, tuple[float, ...]] = {
    "%": (100.0, 1.0),
    "pp": (1.0, 100.0),
    "bps": (1e4, 1.0),
    "bn": (1e-3, 1e-9, 1.0),
    "tn": (1e-6, 1e-12, 1.0),
    "mn": (1.0, 1e-6),
    "k": (1e-3, 1.0),
    "x": (1.0,),
    "": (1.0,),
}
_UNIT_ALIASES = {
    "percent": "%",
    "per cent": "%",
    "percentage point": "pp",
    "percentage points": "pp",
    "basis point": "bps",
    "basis points": "bps",
    "billion": "bn",
    "b": "bn",
    "trillion": "tn",
    "million": "mn",
    "m": "mn",
    "thousand": "k",
}


@dataclass(frozen=True)
class Claim:
    """A number as written in the answer."""

    text: str
    value: float
    decimals: int
    unit: str
    exponent: int = 0


@dataclass
class GroundingReport:
    """What the check found: ungrounded numbers and citations, and whether the answer passes."""

    ungrounded: list[str] = field(default_factory=list)
    bad_citations: list[int] = field(default_factory=list)
    checked: int = 0

    @property
    def ok(self) -> bool:
        """True when every number and citation traced to the evidence."""
        return not self.ungrounded and not self.bad_citations

    def feedback(self) -> str:
        """A message telling the model what to fix (used for the one retry)."""
        parts = []
        if self.ungrounded:
            parts.append(
                "these numbers are not in any tool output or cited passage: "
                + ", ".join(self.ungrounded)
            )
        if self.bad_citations:
            parts.append(
                "these citations point at no retrieved passage: "
                + ", ".join(f"[{n}]" for n in self.bad_citations)
            )
        return "; ".join(parts)


def claims(text: str) -> list[Claim]:
    """The numbers written in ``text`` (citation markers and dates excluded)."""
    cleaned = _CITATION.sub(" ", text)
    cleaned = _DATE.sub(" ", cleaned)
    cleaned = _VOCABULARY.sub(" ", cleaned)
    out = []
    for m in _NUMBER.finditer(cleaned):
        raw = m.group("num")
        exponent = int(m.group("exp")[1:]) if m.group("exp") else 0
        value = float(raw.replace(",", "")) * 10.0**exponent
        if m.group("sign"):
            value = -value
        unit = (m.group("unit") or "").lower()
        unit = _UNIT_ALIASES.get(unit, unit)
        decimals = len(raw.split(".")[1]) if "." in raw else 0
        out.append(Claim(m.group(0).strip(), value, decimals, unit, exponent))
    return out


def evidence_numbers(evidence: Evidence, question: str, cited: Iterable[int]) -> list[float]:
    """Every number the answer may quote: tool args and results, features, cited passages."""
    numbers: list[float] = []
    for call in evidence.calls:
        _walk(call.args, numbers)
        result = call.result
        if call.tool == "search_documents" and isinstance(result, dict):
            result = {k: v for k, v in result.items() if k != "passages"}
        _walk(result, numbers)
    for feature in evidence.features:
        _walk(feature, numbers)
    for n in cited:
        passage = evidence.passage(n)
        if passage is not None:
            _walk({k: passage.get(k) for k in ("text", "page_start", "page_end")}, numbers)
    _walk(question, numbers)
    return numbers


def evidence_dates(evidence: Evidence, question: str) -> set[str]:
    """Every ISO date in the evidence (and the question)."""
    found = {m.group(0) for m in _DATE.finditer(question)}
    texts: list[str] = []
    for call in evidence.calls:
        _strings(call.args, texts)
        _strings(call.result, texts)
    for feature in evidence.features:
        texts.append(str(feature.get("as_of")))
    for t in texts:
        found.update(m.group(0) for m in _DATE.finditer(t))
    return found


def check(text: str, evidence: Evidence, question: str = "") -> GroundingReport:
    """Check every number and citation in ``text`` against ``evidence``."""
    report = GroundingReport()
    cited = sorted({int(n) for n in _CITATION.findall(text)})
    report.bad_citations = [n for n in cited if evidence.passage(n) is None]
    pool = evidence_numbers(evidence, question, cited)
    for claim in claims(text):
        small_count = not (claim.unit or claim.decimals or claim.exponent)
        if small_count and abs(claim.value) <= 10:
            continue
        report.checked += 1
        if not grounded(claim, pool):
            report.ungrounded.append(claim.text)
    dates = evidence_dates(evidence, question)
    for m in _DATE.finditer(_CITATION.sub(" ", text)):
        report.checked += 1
        if m.group(0) not in dates:
            report.ungrounded.append(m.group(0))
    return report


def grounded(claim: Claim, pool: Iterable[float]) -> bool:
    """True when some evidence number displays as ``claim`` (rounding, unit, sign of losses)."""
    tolerance = 0.5 * 10.0 ** (claim.exponent - claim.decimals)
    shown = abs(claim.value)
    factors = _FACTORS.get(claim.unit, (1.0,))
    for stored in pool:
        for factor in factors:
            candidate = abs(stored) * factor
            # The slack only absorbs float noise in the multiplication, never a real difference.
            if abs(candidate - shown) <= tolerance * (1 + 1e-9) + 1e-12 * shown:
                return True
    return False


def _walk(value: Any, out: list[float]) -> None:
    if isinstance(value, bool) or value is None:
        return
    if isinstance(value, int | float):
        if math.isfinite(value):
            out.append(float(value))
        return
    if isinstance(value, str):
        # Numbers inside text (passages, SQL, feature names such as realized_vol_20d).
        for m in _EVIDENCE_NUMBER.finditer(value.replace(",", "")):
            try:
                out.append(float(m.group(0)))
            except ValueError:
                continue
        return
    if isinstance(value, dict):
        for item in value.values():
            _walk(item, out)
    elif isinstance(value, list | tuple):
        for item in value:
            _walk(item, out)


def _strings(value: Any, out: list[str]) -> None:
    if isinstance(value, str):
        out.append(value)
    elif isinstance(value, dict):
        for item in value.values():
            _strings(item, out)
    elif isinstance(value, list | tuple):
        for item in value:
            _strings(item, out)
