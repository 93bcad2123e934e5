"""The typed request a question becomes, and the rule-based parser that fills it offline.

``QuestionRequest`` is the one shape both brains produce: the offline parser below fills it with
rules, an LLM fills it under ``request_json_schema()``. Besides the typed fields it carries
``constraints``: every constraint the parser *saw* in the text (an entity, a metric, a date, a
window, a period, an aggregation, a ranking, arithmetic between quantities), including the ones it
could not map. The executor must consume each of them, or the answer is a decline that names the
ones left over (``app.agent.coverage``) — never an answer to a different question.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from app.agent import entities as ent
from app.agent import vocabulary as vocab

Granularity = Literal["day", "month", "quarter", "year"]
ConstraintKind = Literal[
    "entity",
    "metric",
    "date",
    "window",
    "period",
    "fiscal_year",
    "aggregation",
    "ranking",
    "arithmetic",
    "comparison",
    "lookback",
    "personal_info",
]
# Quantities the history tools compute over any window the data covers (tools/history.py).
WindowMetric = Literal[
    "price",
    "return",
    "max_drawdown",
    "volatility",
    "volume",
    "dollar_volume",
    "correlation",
    "beta",
    "high",
    "low",
    "worst_day",
    "best_day",
]
Aggregation = Literal["value", "mean", "max", "min", "sum", "count", "first", "last"]
ArithmeticOp = Literal["minus", "ratio", "change", "growth", "spread"]


class DateWindow(BaseModel):
    """A closed date interval the question names (both ends inclusive)."""

    model_config = ConfigDict(extra="forbid")

    start: date = Field(description="first day, YYYY-MM-DD")
    end: date = Field(description="last day, YYYY-MM-DD")
    granularity: Granularity = Field(
        "day", description="what the question named: a day range, a month, a quarter or a year"
    )
    label: str = Field("", description="the period as written, e.g. 'Q3 2019' or '2021'")


class Ranking(BaseModel):
    """Order entities by a quantity and keep the first ``count``."""

    model_config = ConfigDict(extra="forbid")

    direction: Literal["highest", "lowest"] = Field("highest")
    count: int | None = Field(None, ge=1, le=50, description="how many to list (None: 5)")


class Arithmetic(BaseModel):
    """Arithmetic between two quantities (series, items or tickers) the question names."""

    model_config = ConfigDict(extra="forbid")

    op: ArithmeticOp = Field(
        description="minus/spread: left - right; ratio: left / right; "
        "change/growth: the same quantity at the window's end vs its start"
    )
    left: str | None = Field(None, description="first operand (series, item or ticker)")
    right: str | None = Field(None, description="second operand (series, item or ticker)")


class Constraint(BaseModel):
    """One constraint seen in the question text, mapped or not."""

    model_config = ConfigDict(extra="forbid")

    kind: ConstraintKind
    text: str = Field(description="the words of the question that carry it")
    value: str = Field("", description="what it was mapped to ('' when not understood)")
    understood: bool = Field(True, description="False: seen but not mappable to data")


class QuestionRequest(BaseModel):
    """A question as a typed request: what to compute, for whom, over which dates."""

    model_config = ConfigDict(extra="forbid")

    question: str = Field("", description="the question as asked")
    tickers: list[str] = Field(default_factory=list, description="tickers, e.g. ['AAPL']")
    unknown_tickers: list[str] = Field(default_factory=list)
    macro_series: list[str] = Field(default_factory=list, description="e.g. ['baa', 'aaa']")
    items: list[str] = Field(
        default_factory=list, description="fundamentals items, e.g. ['current_assets']"
    )
    features: list[str] = Field(
        default_factory=list, description="stored features named, e.g. ['realized_vol_20d']"
    )
    metric: WindowMetric | None = Field(
        None, description="a quantity computed from price history over a window"
    )
    as_of: date | None = Field(None, description="the single day asked about")
    window: DateWindow | None = Field(None, description="the period asked about")
    lookback_days: int | None = Field(
        None, ge=2, le=5000, description="N trading days ending at as_of ('30-day volatility')"
    )
    fiscal_years: list[int] = Field(default_factory=list)
    aggregation: Aggregation | None = Field(None)
    ranking: Ranking | None = Field(None)
    comparison: bool = Field(False, description="several entities compared on one quantity")
    arithmetic: Arithmetic | None = Field(None)
    portfolio: str | None = Field(None)
    loan_id: int | None = Field(None)
    confidence: float | None = Field(None)
    horizon_days: int | None = Field(None)
    personal_info: bool = Field(False, description="asks for a person's personal details")
    constraints: list[Constraint] = Field(default_factory=list)

    def not_understood(self) -> list[Constraint]:
        """Constraints seen in the text that map to nothing the data holds."""
        return [c for c in self.constraints if not c.understood]


def describe(req: QuestionRequest) -> str:
    """The request in one line a compliance reviewer can hold against the question."""
    parts = []
    what = req.metric or ", ".join(req.features or req.items or req.macro_series) or "the question"
    if req.arithmetic is not None:
        what = f"{req.arithmetic.op} of {req.arithmetic.left} and {req.arithmetic.right}"
    parts.append(what)
    if req.tickers:
        parts.append("for " + ", ".join(req.tickers))
    if req.ranking is not None:
        parts.append(f"ranked {req.ranking.direction} first")
    if req.window is not None:
        parts.append(f"over {req.window.label or f'{req.window.start} to {req.window.end}'}")
    elif req.as_of is not None:
        parts.append(f"on {req.as_of}")
    if req.fiscal_years:
        parts.append("fiscal " + ", ".join(map(str, req.fiscal_years)))
    if req.aggregation:
        parts.append(f"({req.aggregation})")
    return " ".join(parts)


def request_json_schema() -> dict[str, Any]:
    """The JSON schema an LLM fills in plan mode (no regex patterns; enums for choices)."""
    return QuestionRequest.model_json_schema()


@dataclass(frozen=True)
class Catalog:
    """The names the parser recognises, read from the warehouse (vocabulary, not evidence)."""

    tickers: frozenset[str] = frozenset()
    portfolios: frozenset[str] = frozenset()
    macro_series: frozenset[str] = frozenset()
    issuers: frozenset[str] = frozenset()
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_names(cls, names: dict[str, list[str]]) -> Catalog:
        """From ``tools.agent_tools.known_entities`` output."""
        return cls(
            tickers=frozenset(names.get("tickers", ())),
            portfolios=frozenset(names.get("portfolios", ())),
            macro_series=frozenset(names.get("macro_series", ())),
            issuers=frozenset(names.get("issuers", ())),
        )


# -- metric words -------------------------------------------------------------------------------


def parse_question(text: str, catalog: Catalog) -> QuestionRequest:
    """Parse ``text`` into a typed request with every constraint it saw (rules only).

    Args:
        text: the analyst's question.
        catalog: the names the warehouse holds (tickers, portfolios, macro series, issuers).

    Returns:
        The request; ``constraints`` lists what was seen, ``understood=False`` for the rest.
    """
    q = " ".join(text.split())
    low = q.lower()
    e = ent.extract(q, set(catalog.tickers), set(catalog.portfolios))
    req = QuestionRequest(
        question=q,
        tickers=e.tickers,
        unknown_tickers=e.unknown_tickers,
        macro_series=e.macro,
        items=e.items,
        features=e.features,
        portfolio=e.portfolio,
        loan_id=e.loan_id,
        confidence=e.confidence,
        horizon_days=e.horizon_days,
    )
    cons = req.constraints
    for t in e.tickers:
        cons.append(Constraint(kind="entity", text=t, value=t))
    # "NASDAQ Composite": a capitalised company name already mapped is not an unknown ticker.
    req.unknown_tickers = [
        t for t in e.unknown_tickers
        if t.lower() not in ent.COMPANY_NAMES and not vocab.FISCAL.fullmatch(t)
    ]  # fmt: skip
    for t in req.unknown_tickers:
        cons.append(Constraint(kind="entity", text=t, understood=False))
    for s in e.macro:
        cons.append(Constraint(kind="entity", text=s, value=f"macro:{s}"))
    _metric_into(low, req)
    _dates_into(q, low, e, req)
    _arithmetic_into(low, req)
    _aggregation_into(low, req)
    if vocab.PERSONAL.search(q):
        req.personal_info = True
        cons.append(Constraint(kind="personal_info", text=vocab.PERSONAL.search(q).group(0)))  # type: ignore[union-attr]
    if len(req.tickers) >= 2 and re.search(
        r"\bcompare|\bversus\b|\bvs\.?\b|\bor\b|higher|lower"
        r"|\bbetter\b|\bworse\b|\bmore\b|\bless\b",
        low,
    ):
        req.comparison = True
    return req


def _dates_into(q: str, low: str, e: ent.Entities, req: QuestionRequest) -> None:
    """Dates, windows, periods, fiscal years and relative periods."""
    cons = req.constraints
    for m in vocab.FISCAL.finditer(q):
        year = int(m.group(1))
        year = year + 2000 if year < 100 else year
        req.fiscal_years.append(year)
        cons.append(Constraint(kind="fiscal_year", text=m.group(0), value=str(year)))
    window = _named_period(q)
    explicit_days = bool(ent._ISO.search(q) or ent._MDY.search(q) or ent._DMY.search(q))
    if e.period and (window is None or explicit_days):
        start, end = e.period
        gran: Granularity = (
            "year" if (start.month, start.day, end.month, end.day) == (1, 1, 12, 31) else "day"
        )
        label = (
            f"{start} to {end}"
            if gran == "day"
            else (str(start.year) if start.year == end.year else f"{start.year} to {end.year}")
        )
        window = DateWindow(start=start, end=end, granularity=gran, label=label)
    if window is not None and not req.fiscal_years:
        req.window = window
        cons.append(
            Constraint(kind="window", text=window.label, value=f"{window.start}..{window.end}")
        )
        cons.append(Constraint(kind="period", text=window.label, value=window.granularity))
    elif e.dates and not (req.fiscal_years and _only_year_dates(e)):
        req.as_of = e.dates[-1]
        cons.append(Constraint(kind="date", text=str(e.dates[-1]), value=str(e.dates[-1])))
        if len(e.dates) >= 2:
            # Two days without "from/between": the parser cannot tell which one is meant.
            cons.append(
                Constraint(kind="date", text=", ".join(map(str, e.dates[:-1])), understood=False)
            )
    back = vocab.LOOKBACK.search(low)
    if back and req.metric is None and not req.features:
        back = None  # "3-month T-bill", "12 month loan": a name, not a window
    if back and back.group(2).lower() in ("day", "session"):
        n = int(back.group(1))
        if 2 <= n <= 5000:
            req.lookback_days = n
            cons.append(Constraint(kind="lookback", text=back.group(0), value=str(n)))
    elif back:
        cons.append(Constraint(kind="lookback", text=back.group(0), understood=False))
    if req.window is None and req.as_of is None and not req.fiscal_years:
        for y in re.finditer(r"(?<!\d)(1[89]\d\d|20\d\d)(?!\d)", q):
            # a year the date rules could not place ("1932-05", "3Q 11"): never silently dropped
            cons.append(Constraint(kind="date", text=y.group(0), understood=False))
    for r in vocab.RELATIVE.finditer(q):
        if req.window is None and req.as_of is None and not req.fiscal_years:
            cons.append(Constraint(kind="window", text=r.group(0), understood=False))


def _only_year_dates(e: ent.Entities) -> bool:
    return all((d.month, d.day) == (12, 31) for d in e.dates)


def _quarters(q: str) -> list[DateWindow]:
    out = []
    for m in vocab.QUARTER_ANY.finditer(q):
        g = m.groups()
        if g[0]:
            quarter, year = int(g[0]), int(g[1])
        elif g[2]:
            quarter, year = int(g[3]), int(g[2])
        elif g[4]:
            quarter, year = int(g[4]), int(g[5])
        else:
            quarter, year = vocab.ORDINAL[g[6].lower()], int(g[7])
        end_month = quarter * 3
        out.append(DateWindow(
            start=date(year, end_month - 2, 1),
            end=date(year, end_month, calendar.monthrange(year, end_month)[1]),
            granularity="quarter",
            label=f"Q{quarter} {year}",
        ))  # fmt: skip
    return out


def _months(q: str) -> list[DateWindow]:
    found: list[tuple[int, int, int]] = []
    for m in vocab.YEAR_MONTH.finditer(q):
        found.append((m.start(), int(m.group(1)), int(m.group(2))))
    if not (ent._ISO.search(q) or ent._MDY.search(q) or ent._DMY.search(q) or ent._MID.search(q)):
        for m in ent._MY.finditer(q):
            if re.match(r"end", m.group(0), re.I):
                continue
            if re.search(r"(end of|end-|as of|at the end of)\s*$", q[: m.start()], re.I):
                continue
            found.append((m.start(), int(m.group(2)), ent._MONTHS[m.group(1).lower()]))
    return [
        DateWindow(
            start=date(year, month, 1),
            end=date(year, month, calendar.monthrange(year, month)[1]),
            granularity="month",
            label=f"{calendar.month_name[month]} {year}",
        )
        for _, year, month in sorted(found)
    ]


def _named_period(q: str) -> DateWindow | None:
    """A month or quarter the question names as a whole period, or a span between two of them."""
    for periods in (_quarters(q), _months(q)):
        if len(periods) >= 2 and re.search(r"\bfrom\b|\bbetween\b|\bto\b|\bthrough\b", q, re.I):
            first, last = periods[0], periods[-1]
            return DateWindow(start=first.start, end=last.end, granularity="day",
                              label=f"{first.label} to {last.label}")  # fmt: skip
        if periods:
            return periods[0]
    return None


def _metric_into(low: str, req: QuestionRequest) -> None:
    cons = req.constraints
    found: list[tuple[int, WindowMetric, str]] = []
    for pattern, metric in vocab.METRICS:
        m = re.search(pattern, low)
        if m:
            found.append((m.start(), metric, m.group(0)))
    found.sort()
    names = [f[1] for f in found]
    chosen: WindowMetric | None = None
    for preferred in (
        "worst_day",
        "best_day",
        "correlation",
        "max_drawdown",
        "beta",
        "dollar_volume",
        "volume",
        "volatility",
        "return",
    ):
        if preferred in names:
            chosen = preferred  # type: ignore[assignment]
            break
    if chosen is None and names:
        chosen = "high" if "high" in names else "low" if "low" in names else names[0]
    if (
        chosen == "return"
        and re.search(r"log return|daily return|1[- ]day return", low)
        and not re.search(r"\b(total|cumulative|simple)\b", low)
    ):
        chosen = None  # the stored 1-day log return feature
    req.metric = chosen
    if chosen is not None:
        text = next(t for _, n, t in found if n == chosen)
        cons.append(Constraint(kind="metric", text=text.strip(), value=chosen))
    for pattern, (a, b) in vocab.RATIOS:
        m = re.search(pattern, low)
        if m:
            req.items = list(dict.fromkeys([*req.items, a, b]))
            req.arithmetic = Arithmetic(op="ratio", left=a, right=b)
            cons.append(Constraint(kind="arithmetic", text=m.group(0), value=f"{a}/{b}"))
    for m in vocab.UNMAPPED_METRICS.finditer(low):
        cons.append(Constraint(kind="metric", text=m.group(0), understood=False))


def _arithmetic_into(low: str, req: QuestionRequest) -> None:
    if req.arithmetic is not None:
        return
    if len(req.items) == 2:
        a, b = req.items
        if vocab.SHARE_OF.search(low):
            # "what fraction of total assets was cash": the part over the whole
            req.arithmetic = Arithmetic(op="ratio", left=b, right=a)
        elif vocab.ITEM_RELATION.search(low) and not re.search(r"\b(and|both|each)\b", low):
            req.arithmetic = Arithmetic(op="ratio", left=a, right=b)
        if req.arithmetic is not None:
            req.constraints.append(Constraint(kind="arithmetic", text=f"{a} / {b}",
                                              value=f"{req.arithmetic.left}/"
                                              f"{req.arithmetic.right}"))  # fmt: skip
            return
    for pattern, op in vocab.ARITHMETIC:
        m = re.search(pattern, low)
        if not m:
            continue
        operands = _operands(req)
        left, right = (operands + [None, None])[:2]
        if op == "change" and re.search(r"\bpercent(age)?\b(?! points?\b)|%|\bpct\b", low):
            op = "growth"  # "how much did M1 increase, in percent": a growth rate
        if op in ("growth", "change"):
            right = None
        elif right is None:
            # "ratio of" / "difference between" with one quantity: seen, not understood.
            req.constraints.append(Constraint(kind="arithmetic", text=m.group(0), understood=False))
            return
        req.arithmetic = Arithmetic(op=op, left=left, right=right)
        req.constraints.append(
            Constraint(kind="arithmetic", text=m.group(0), value=f"{op}({left}, {right})")
        )
        return
    if req.arithmetic is not None and req.arithmetic.left == "baa" and not req.macro_series:
        req.macro_series = ["baa", "aaa"]
        return
    if re.search(r"\bspread\b", low) and len(req.macro_series) >= 2:
        a, b = req.macro_series[:2]
        req.arithmetic = Arithmetic(op="spread", left=a, right=b)
        req.constraints.append(Constraint(kind="arithmetic", text="spread", value=f"{a}-{b}"))


def _operands(req: QuestionRequest) -> list[str]:
    if "credit_spread_baa_aaa" in req.features and not req.macro_series:
        req.macro_series = ["baa", "aaa"]  # the spread asked in words: computed from both series
        req.features = [f for f in req.features if f != "credit_spread_baa_aaa"]
    if len(req.macro_series) >= 2:
        return req.macro_series[:2]
    if len(req.items) >= 2:
        return req.items[:2]
    if len(req.tickers) >= 2:
        return req.tickers[:2]
    return (req.macro_series or req.items or req.tickers)[:1]


def _aggregation_into(low: str, req: QuestionRequest) -> None:
    ranked = bool(vocab.RANK_WORDS.search(low)) and len(req.tickers) != 1 and not req.macro_series
    if ranked and req.metric in ("high", "low") and req.window is None:
        # "which tickers had the highest close on a day": a ranking by price, not a window high
        descending = req.metric == "high"
        req.metric = "price"
        for c in req.constraints:
            if c.kind == "metric" and c.value in ("high", "low"):
                c.value = "price"
        count, _ = ent._count(low)
        if count is None and re.search(r"\bwhich (stock|ticker|name|company|issuer)\b(?!s)", low):
            count = 1
        req.ranking = Ranking(direction="highest" if descending else "lowest", count=count)
        req.constraints.append(
            Constraint(
                kind="ranking",
                text="highest" if descending else "lowest",
                value=req.ranking.direction,
            )
        )
        return
    if ranked and (req.metric or req.features):
        count, descending = ent._count(low)
        if count is None and re.search(r"\bwhich (stock|ticker|name|company|issuer)\b(?!s)", low):
            count = 1  # "which stock had ...": the one
        if req.metric == "return" and re.search(r"\bworst\b|\bweakest\b|\bpoorest\b", low):
            descending = False
        req.ranking = Ranking(direction="highest" if descending else "lowest", count=count)
        word = vocab.RANK_WORDS.search(low)
        assert word is not None
        req.constraints.append(
            Constraint(kind="ranking", text=word.group(0), value=req.ranking.direction)
        )
    for pattern, agg in vocab.AGGREGATIONS:
        m = re.search(pattern, low)
        if m:
            if agg in ("max", "min") and req.metric in ("high", "low", "max_drawdown"):
                continue  # "highest price" is the metric itself
            if agg in ("max", "min") and req.ranking is not None:
                continue  # "highest return among..." is the ranking
            req.aggregation = agg
            req.constraints.append(Constraint(kind="aggregation", text=m.group(0), value=agg))
            return
