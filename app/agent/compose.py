"""Writing answers from tool outputs: number formats, chart specs, extractive passage summaries.

Every figure the offline planner writes goes through ``fmt`` from a tool output, so the grounding
check can always trace it. Charts are declarative specs (plain dicts), never code (SECURITY.md 12).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Mapping
from typing import Any

from app.agent.evidence import INJECTION_PATTERNS, Evidence

FEATURE_LABELS = {
    "log_return_1d": "1-day log return",
    "realized_vol_20d": "20-day realized volatility (annualized)",
    "realized_vol_60d": "60-day realized volatility (annualized)",
    "ewma_vol": "EWMA volatility (lambda 0.94, annualized)",
    "max_drawdown_252d": "maximum drawdown over 252 days",
    "beta_252d": "252-day beta to the S&P 500",
    "amihud_illiquidity_20d": "20-day Amihud illiquidity",
    "adv_usd_20d": "20-day average daily dollar volume",
    "quoted_spread_bps": "quoted spread",
    "quoted_depth": "quoted depth",
    "leverage": "leverage (total liabilities / total assets)",
    "altman_z_double_prime": "Altman Z'' score",
    "credit_spread_baa_aaa": "BAA-AAA credit spread",
    "term_spread": "term spread (AAA minus 3-month T-bill, a proxy)",
    "price": "adjusted close",
}
ITEM_LABELS = {
    "total_assets": "total assets",
    "total_liabilities": "total liabilities",
    "net_income": "net income",
    "operating_income": "operating income",
    "current_assets": "current assets",
    "current_liabilities": "current liabilities",
    "retained_earnings": "retained earnings",
    "total_equity": "total equity",
    "shares_outstanding": "shares outstanding",
    "cash_and_equivalents": "cash and cash equivalents",
    "revenue": "revenue",
}


class _DefinitionUnits(Mapping[str, str]):
    """Feature -> unit, read from ``features.definitions`` (the one place units are declared)."""

    def _table(self) -> dict[str, str]:
        if not _UNIT_TABLE:
            from features.definitions import all_features

            _UNIT_TABLE.update({d.name: d.unit for d in all_features()})
        return _UNIT_TABLE

    def __getitem__(self, name: str) -> str:
        return self._table()[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._table())

    def __len__(self) -> int:
        return len(self._table())


_UNIT_TABLE: dict[str, str] = {}
UNITS: Mapping[str, str] = _DefinitionUnits()


def label(feature: str) -> str:
    """Analyst wording of a feature or line item."""
    return FEATURE_LABELS.get(feature) or ITEM_LABELS.get(feature) or feature.replace("_", " ")


def fmt(value: Any, kind: str = "number") -> str:
    """A number for the answer text, in the display form its kind calls for."""
    if value is None:
        return "n/a"
    v = float(value)
    if kind in ("annualized fraction", "fraction", "pct"):
        return f"{v * 100:.1f}%"
    if kind == "prob":
        # Tiny PDs keep two significant digits instead of collapsing to 0.00%.
        pct = v * 100
        if pct == 0 or pct >= 0.01:
            return f"{pct:.2f}%"
        if pct >= 1e-6:
            return f"{pct:.{1 - math.floor(math.log10(pct))}f}%"
        return f"{pct:.1e}%"
    if kind in ("log return", "pct2"):
        return f"{v * 100:.2f}%"
    if kind == "price":
        return f"{v:,.2f}"
    if kind in ("ratio", "score"):
        return f"{v:.2f}"
    if kind == "percentage points":
        return f"{v:.2f} percentage points"
    if kind == "USD":
        return f"USD {v / 1e6:,.1f} million"
    if kind == "usd":
        return f"USD {v:,.0f}"
    if kind == "USD millions":
        return f"USD {v:,.0f} million"
    if kind == "bps":
        return f"{v:.1f} bps"
    if kind in ("shares", "int"):
        return f"{v:,.0f}"
    if kind == "|return| per USD million":
        return f"{v:.6f}"
    if abs(v) >= 1000:
        return f"{v:,.0f}"
    return f"{v:,.2f}"


def line_chart(title: str, points: list[list[Any]], y_title: str) -> dict[str, Any]:
    """A line chart spec over (date, value) points."""
    return {
        "type": "line",
        "title": title,
        "x": {"field": "as_of", "type": "temporal", "title": "date"},
        "y": {"field": "value", "type": "quantitative", "title": y_title},
        "data": [{"as_of": d, "value": v} for d, v in points],
    }


def bar_chart(title: str, rows: list[tuple[str, float]], y_title: str) -> dict[str, Any]:
    """A bar chart spec over (label, value) rows."""
    return {
        "type": "bar",
        "title": title,
        "x": {"field": "label", "type": "nominal", "title": ""},
        "y": {"field": "value", "type": "quantitative", "title": y_title},
        "data": [{"label": k, "value": v} for k, v in rows],
    }


_STOP = frozenset(
    "the a an of to in on and or for what which who how does did do is are was were say says "
    "about from with by its it their this that as at be has have had any according filing "
    "report 10-k 10k 10-q document documents note tell me please".split()
)


def split_sentences(text: str) -> list[str]:
    """Sentences of ``text``, by llama-index-core's sentence splitting over NLTK punkt.

    llama-index-core's ``split_by_sentence_tokenizer_internal`` cuts at the spans of a punkt
    tokenizer; ours knows filing abbreviations (Inc., U.S., No.) so they do not end a sentence.
    Nothing is downloaded: punkt needs no data when its parameters are given.
    """
    from llama_index.core.node_parser.text.utils import split_by_sentence_tokenizer_internal

    pieces = split_by_sentence_tokenizer_internal(text, _punkt())
    return [p.strip() for p in pieces if p.strip()]


_PUNKT: dict[str, Any] = {}
_ABBREVIATIONS = (
    "inc co corp ltd llc plc no nos vs e.g i.e u.s u.k mr ms mrs dr st jan feb mar apr jun jul "
    "aug sep sept oct nov dec approx fig est"
).split()


def _punkt() -> Any:
    if "tokenizer" not in _PUNKT:
        from nltk.tokenize.punkt import PunktParameters, PunktSentenceTokenizer

        params = PunktParameters()
        params.abbrev_types = set(_ABBREVIATIONS)
        _PUNKT["tokenizer"] = PunktSentenceTokenizer(params)
    return _PUNKT["tokenizer"]


def keywords(question: str) -> list[str]:
    """The content words of a question (for extractive summaries)."""
    words = re.findall(r"[a-z0-9][a-z0-9&\-']+", question.lower())
    return [w for w in words if w not in _STOP and (len(w) > 2 or w in ("ai", "ev", "uk"))]


def best_sentences(
    passage: dict[str, Any], words: list[str], limit: int = 2, *, figures: bool = False
) -> list[str]:
    """The passage sentences that share most words with the question (injected text skipped).

    Only sentences carrying at least one of the question's key terms are quoted; with
    ``figures`` (the question asks for an amount or a percent) they must carry a figure too.
    """
    text = " ".join(passage["text"].split())
    sentences = [
        s.strip()
        for s in split_sentences(text)
        if 30 <= len(s.strip()) <= 600 and not s.strip()[0].islower()  # skip cut-off fragments
    ]
    scored = []
    for i, s in enumerate(sentences):
        if INJECTION_PATTERNS.search(s):
            continue  # instructions inside documents are never repeated, let alone followed
        if sum(ch.isdigit() for ch in s) > 0.25 * len(s):
            continue  # table rows read badly as prose; figures come from the filing tools
        if figures and not re.search(r"\d", s):
            continue
        low = s.lower()
        score = sum(1 for w in words if w in low)
        scored.append((score, -i, s))
    scored.sort(reverse=True)
    return [s for score, _, s in scored[:limit] if score > 0]


_ASKS_FIGURE = re.compile(
    r"\bhow (much|many)\b|\bwhat (percent|percentage|amount|number|share)\b|\bby what\b"
    r"|\bwhat (was|is|were) the (value|amount|number|total)\b|\bmarket value\b",
    re.I,
)


def extractive_passages(question: str, evidence: Evidence, limit: int = 3) -> list[str]:
    """One bullet per top passage: its best sentences and its [n] marker (none: nothing fits)."""
    words = keywords(question)
    figures = bool(_ASKS_FIGURE.search(question))
    texts = [p["text"].lower() for p in evidence.passages]
    # A word found in nearly every passage (the company's name) tells them apart poorly.
    telling = [w for w in set(words) if 0 < sum(w in t for t in texts) < max(2, 0.8 * len(texts))]

    def hits(p: dict[str, Any]) -> int:
        return sum(1 for w in telling if w in p["text"].lower())

    # Passages that share most telling words with the question first; retrieval order next.
    ranked = sorted(evidence.passages, key=lambda p: (-hits(p), p["n"]))
    best = hits(ranked[0]) if ranked else 0
    if best:
        ranked = [p for p in ranked if hits(p) * 2 >= best]
    bullets = []
    for p in ranked[:limit]:
        # the company's name is in every sentence: quote those with the question's own terms
        sentences = best_sentences(p, telling or words, figures=figures)
        if sentences:
            source = f"{p['doc_name']}, p. {p['page_start']}"
            bullets.append(f"- {' '.join(sentences)} [{p['n']}] ({source})")
    return bullets


def extractive(question: str, evidence: Evidence) -> str:
    """An answer made only of what the tools returned (the fallback when an answer fails checks)."""
    lines = ["The tools returned the following (shown as retrieved, without interpretation):"]
    for call in evidence.calls:
        result = call.result if isinstance(call.result, dict) else {}
        if "error" in result:
            lines.append(f"- {call.tool}: {result['error']}")
            continue
        if call.tool in ("get_features",):
            for v in result.get("values", [])[:12]:
                unit = UNITS.get(v["feature"], "number")
                lines.append(
                    f"- {v['entity']} {label(v['feature'])} as of {v['as_of']}: "
                    f"{fmt(v['value'], unit)}"
                )
        elif call.tool in ("risk_metrics", "default_probability"):
            values = result.get("values", {})
            shown = [
                f"{k} {values[k]:.4f}" if abs(values[k]) < 1 else f"{k} {values[k]:,.2f}"
                for k in list(values)[:6]
                if isinstance(values[k], int | float) and not isinstance(values[k], bool)
            ]
            lines.append(f"- {call.tool} ({result.get('model')}): " + ", ".join(shown))
        elif call.tool == "query_features":
            cols = result.get("columns", [])
            for row in result.get("rows", [])[:5]:
                lines.append("- " + ", ".join(f"{c} {v}" for c, v in zip(cols, row, strict=False)))
        elif call.tool == "get_feature_history":
            s = result.get("summary", {})
            if s.get("count"):
                unit = UNITS.get(result["feature"], "number")
                lines.append(
                    f"- {result['entity']} {label(result['feature'])}: "
                    f"{fmt(s['first']['value'], unit)} on {s['first']['as_of']} to "
                    f"{fmt(s['last']['value'], unit)} on {s['last']['as_of']}"
                )
    lines.extend(extractive_passages(question, evidence))
    if len(lines) == 1:
        return "I could not find evidence to answer this question from the data I can access."
    return "\n".join(lines)
