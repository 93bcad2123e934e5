"""Entity extraction for the offline planner: tickers, dates, metrics, confidence, horizon.

Tickers and company names, dates and periods, metrics, confidence, horizon and counts are read
from the question with rules, no model.

Known tickers come from the warehouse (the planner passes them in), so a new ticker loaded with
``sightline ingest`` is recognised without code changes; company names map through a small table.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass, field
from datetime import date

COMPANY_NAMES: dict[str, str] = {
    "apple": "AAPL",
    "advanced micro devices": "AMD",
    "bank of america": "BAC",
    "best buy": "BBY",
    "bestbuy": "BBY",
    "chevron": "CVX",
    "general electric": "GE",
    "alphabet": "GOOG",
    "google": "GOOG",
    "home depot": "HD",
    "johnson & johnson": "JNJ",
    "johnson and johnson": "JNJ",
    "j&j": "JNJ",
    "jpmorgan chase": "JPM",
    "jpmorgan": "JPM",
    "jp morgan": "JPM",
    "coca-cola": "KO",
    "coca cola": "KO",
    "eli lilly": "LLY",
    "lilly": "LLY",
    "merck": "MRK",
    "microsoft": "MSFT",
    "pepsico": "PEP",
    "pepsi": "PEP",
    "pfizer": "PFE",
    "procter & gamble": "PG",
    "procter and gamble": "PG",
    "range resources": "RRC",
    "unitedhealth": "UNH",
    "walmart": "WMT",
    "wal-mart": "WMT",
    "exxonmobil": "XOM",
    "exxon mobil": "XOM",
    "exxon": "XOM",
    "s&p 500": "^GSPC",
    "s&p500": "^GSPC",
    "sp500": "^GSPC",
    "s&p": "^GSPC",
    "nasdaq": "^IXIC",
}

# Capitalised words that are not tickers even though they look like one.
NOT_TICKERS = frozenset(
    "VAR ES PD EWMA USD GDP CPI VIX WTI ETF CEO CFO AI EBIT SQL US USA UK EU ID OK FY Q1 Q2 Q3 Q4 "
    "K Q DD LGD EAD AUC IPO M&A DM ROE ROA EPS PE P GARCH CVAR NAV AUM OTC ESG IT TV HR API LLM "
    "PDF HTML JSON CSV URL SEC FINRA OCC MD&A BAA AAA II III IV I A AN THE AND OR OF IN ON AT TO "
    "FOR BY WITH WHAT WHICH WHO HOW WHY WHEN IS ARE WAS WERE BE DO DOES DID VS PP BPS BN MN YOY "
    "QOQ YTD MTD RSI ATR MACD IRR NPV DCF".split()
)

FEATURE_WORDS: list[tuple[str, str]] = [
    (
        r"60[- ]?(trading[- ])?d(ay)?\b.{0,25}vol|vol\w*.{0,25}\b60[- ]?(trading[- ])?d(ay)?\b",
        "realized_vol_60d",
    ),
    (r"\bewma\b|exponentially weighted|riskmetrics|lambda 0\.94", "ewma_vol"),
    (r"20[- ]?d(ay)?\b.{0,25}vol|reali[sz]ed vol|volatil|\bvol\b", "realized_vol_20d"),
    (r"draw[- ]?down", "max_drawdown_252d"),
    (r"\bbeta\b", "beta_252d"),
    (r"amihud|illiquidity", "amihud_illiquidity_20d"),
    (r"dollar volume|\badv\b|average daily (dollar )?volume|traded value", "adv_usd_20d"),
    (
        r"\bleverage\b|liabilities (to|over|/|relative to) assets"
        r"|debt[- ](to|over|relative to)[- ]assets|debt relative to (its )?assets",
        "leverage",
    ),
    (r"altman|z[- ]?score|z''", "altman_z_double_prime"),
    (r"credit spread|baa.{0,6}aaa", "credit_spread_baa_aaa"),
    (r"term spread|yield curve slope", "term_spread"),
    (r"log return|daily return|1[- ]day return", "log_return_1d"),
    (r"quoted spread|bid[- ]ask spread", "quoted_spread_bps"),
]

FUNDAMENTAL_WORDS: list[tuple[str, str]] = [
    (r"total assets", "total_assets"),
    (r"total liabilities", "total_liabilities"),
    (r"net (income|earnings|profit)|net loss", "net_income"),
    (r"operating income|operating profit|\bebit\b", "operating_income"),
    (r"current assets", "current_assets"),
    (r"current liabilities", "current_liabilities"),
    (r"retained earnings", "retained_earnings"),
    (r"(total |shareholders'? |stockholders'? )equity|book equity", "total_equity"),
    (r"shares outstanding|share count", "shares_outstanding"),
    (r"cash and (cash )?equivalents|\bcash\b", "cash_and_equivalents"),
    (r"\brevenues?\b|\bsales\b|\bturnover\b", "revenue"),
]

MACRO_WORDS: list[tuple[str, str]] = [
    (r"\bvix\b|volatility index", "vix"),
    (r"\bwti\b|crude|\boil\b", "wti"),
    (r"\bbrent\b", "brent"),
    (r"unemployment", "unemp"),
    (r"core cpi|core inflation|core consumer price", "core_cpi"),
    (r"inflation", "infl"),
    (r"\bcpi\b|consumer price", "cpi"),
    (r"real gdp|\bgdp\b|gross domestic", "realgdp"),
    (r"t-?bill|treasury bill", "tbilrate"),
    (r"real interest rate", "realint"),
    (r"\bm1\b|money supply", "m1"),
    (r"\baaa\b.{0,25}(yield|bond|rate)|yields?.{0,10}\baaa\b", "aaa"),
    (r"\bbaa\b.{0,25}(yield|bond|rate)|yields?.{0,10}\bbaa\b", "baa"),
    (r"real consumption|consumer spending", "realcons"),
    (r"disposable income", "realdpi"),
    (r"real investment", "realinv"),
    (r"government spending", "realgovt"),
    (r"population", "pop"),
]

_MONTHS = {m.lower(): i for i, m in enumerate(calendar.month_name) if m} | {
    m.lower(): i for i, m in enumerate(calendar.month_abbr) if m
}
_MONTH_RE = "|".join(sorted(_MONTHS, key=len, reverse=True))
_ISO = re.compile(r"\b(\d{4})-(\d{1,2})-(\d{1,2})\b")
_MDY = re.compile(rf"\b({_MONTH_RE})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?,?\s+(\d{{4}})\b", re.I)
_DMY = re.compile(rf"\b(\d{{1,2}})(?:st|nd|rd|th)?\s+({_MONTH_RE})\.?,?\s+(\d{{4}})\b", re.I)
_MID = re.compile(rf"\bmid[- ]({_MONTH_RE})\.?\s+(\d{{4}})\b", re.I)
_MY = re.compile(rf"\b(?:end of |end-)?({_MONTH_RE})\.?\s+(\d{{4}})\b", re.I)
_QUARTER = re.compile(r"\bQ([1-4])\s*(\d{4})\b|\b(\d{4})\s*Q([1-4])\b", re.I)
_YEAR_END = re.compile(r"\b(?:end of|year[- ]end|end-)\s*(\d{4})\b", re.I)
_YEAR = re.compile(r"(?<![\d-])(19[5-9]\d|20[0-4]\d)(?![\d-])")


@dataclass
class Entities:
    """What the question names."""

    tickers: list[str] = field(default_factory=list)
    unknown_tickers: list[str] = field(default_factory=list)
    dates: list[date] = field(default_factory=list)
    period: tuple[date, date] | None = None
    years: list[int] = field(default_factory=list)
    features: list[str] = field(default_factory=list)
    items: list[str] = field(default_factory=list)
    macro: list[str] = field(default_factory=list)
    confidence: float | None = None
    horizon_days: int | None = None
    count: int | None = None
    descending: bool = True
    loan_id: int | None = None
    portfolio: str | None = None
    price: bool = False

    @property
    def as_of(self) -> date | None:
        """The single date the question asks about (the end of a period if one is given)."""
        if self.dates:
            return self.dates[-1]
        return self.period[1] if self.period else None


def extract(question: str, known_tickers: set[str], portfolios: set[str] = frozenset()) -> Entities:  # type: ignore[assignment]
    """Read the entities of ``question`` (rules only; deterministic)."""
    q = question.strip()
    low = q.lower()
    e = Entities()
    _tickers(q, low, known_tickers, e)
    _dates(q, e)
    e.features = _matches(low, FEATURE_WORDS)
    e.items = _matches(low, FUNDAMENTAL_WORDS)
    e.macro = _matches(low, MACRO_WORDS)
    if "realized_vol_60d" in e.features and "realized_vol_20d" in e.features:
        if not re.search(r"20[- ]?d", low):
            e.features.remove("realized_vol_20d")
    if "ewma_vol" in e.features and "realized_vol_20d" in e.features:
        if not re.search(r"20[- ]?d|realized|realised", low):
            e.features.remove("realized_vol_20d")
    if "credit_spread_baa_aaa" in e.features:
        e.macro = [m for m in e.macro if m not in ("aaa", "baa")]
    e.price = bool(re.search(r"\b(closing |adjusted |share |stock )?price\b|\bclose[sd]?\b", low))
    e.confidence = _confidence(low)
    e.horizon_days = _horizon(low)
    e.count, e.descending = _count(low)
    m = re.search(r"\bloan(?:_id| id| number| no\.?| #)?\s*#?\s*(\d{1,7})\b", low)
    e.loan_id = int(m.group(1)) if m else None
    for p in portfolios:
        if re.search(rf"\b{re.escape(p.lower())}\b", low):
            e.portfolio = p
    e.unknown_tickers = [t for t in e.unknown_tickers if t not in portfolios]
    return e


def _tickers(q: str, low: str, known: set[str], e: Entities) -> None:
    found: list[tuple[int, str]] = []
    for name, ticker in sorted(COMPANY_NAMES.items(), key=lambda kv: -len(kv[0])):
        for m in re.finditer(rf"(?<![\w&]){re.escape(name)}(?![\w&])", low):
            if ticker in known and not any(s <= m.start() < s + 30 for s, _ in found):
                found.append((m.start(), ticker))
    for m in re.finditer(r"(?<![\w^])(\^?[A-Z][A-Z0-9.\-]{0,9})(?![\w])", q):
        word = m.group(1).rstrip(".-")
        if word in known:
            found.append((m.start(), word))
        elif (
            len(word) >= 2
            and word not in NOT_TICKERS
            and word.isupper()
            and not re.fullmatch(r"\d.*|[A-Z]\d+[A-Z]?|\d+-[A-Z]", word)
            and not word.startswith("^")
        ):
            e.unknown_tickers.append(word)
        elif word.startswith("^") and word not in known:
            e.unknown_tickers.append(word)
    e.tickers = list(dict.fromkeys(t for _, t in sorted(found)))
    e.unknown_tickers = list(dict.fromkeys(e.unknown_tickers))


def _dates(q: str, e: Entities) -> None:
    spans: list[tuple[int, date]] = []
    taken: list[tuple[int, int]] = []

    def add(pos: tuple[int, int], d: date | None) -> None:
        if d is not None and not any(a <= pos[0] < b for a, b in taken):
            spans.append((pos[0], d))
            taken.append(pos)

    for m in _ISO.finditer(q):
        add(m.span(), _safe(int(m.group(1)), int(m.group(2)), int(m.group(3))))
    for m in _MDY.finditer(q):
        add(m.span(), _safe(int(m.group(3)), _MONTHS[m.group(1).lower()], int(m.group(2))))
    for m in _DMY.finditer(q):
        add(m.span(), _safe(int(m.group(3)), _MONTHS[m.group(2).lower()], int(m.group(1))))
    for m in _MID.finditer(q):
        add(m.span(), _safe(int(m.group(2)), _MONTHS[m.group(1).lower()], 15))
    for m in _MY.finditer(q):
        year, month = int(m.group(2)), _MONTHS[m.group(1).lower()]
        add(m.span(), _safe(year, month, calendar.monthrange(year, month)[1]))
    for m in _QUARTER.finditer(q):
        quarter = int(m.group(1) or m.group(4))
        year = int(m.group(2) or m.group(3))
        month = quarter * 3
        add(m.span(), _safe(year, month, calendar.monthrange(year, month)[1]))
    for m in _YEAR_END.finditer(q):
        add(m.span(), date(int(m.group(1)), 12, 31))
    years = []
    for m in _YEAR.finditer(q):
        if not any(a <= m.start() < b for a, b in taken):
            years.append(int(m.group(1)))
    e.years = years
    e.dates = [d for _, d in sorted(spans)]
    low = q.lower()
    if len(e.dates) >= 2 and re.search(r"\bfrom\b|\bbetween\b|\bto\b|\bthrough\b|\buntil\b", low):
        e.period = (e.dates[0], e.dates[-1])
        e.dates = []
    elif len(years) >= 2 and not e.dates:
        e.period = (date(min(years), 1, 1), date(max(years), 12, 31))
    elif len(years) == 1 and not e.dates:
        if re.search(
            r"\b(in|during|over|for|across|through(out)?|full[- ]year|calendar( year)?)\s+"
            r"(the year\s+)?(of\s+)?" + str(years[0]),
            low,
        ):
            e.period = (date(years[0], 1, 1), date(years[0], 12, 31))
        else:
            e.dates = [date(years[0], 12, 31)]


def _safe(y: int, m: int, d: int) -> date | None:
    try:
        return date(y, m, d)
    except ValueError:
        return None


def _matches(low: str, table: list[tuple[str, str]]) -> list[str]:
    found: list[tuple[int, str]] = []
    for pattern, name in table:
        m = re.search(pattern, low)
        if m and name not in [n for _, n in found]:
            found.append((m.start(), name))
    return [n for _, n in sorted(found)]


def _confidence(low: str) -> float | None:
    m = re.search(r"\b(9\d(?:\.\d+)?)\s?(?:%|percent|per cent)", low) or re.search(
        r"\b(9\d(?:\.\d+)?)(?:th)? (?:percentile|confidence|level)", low
    )
    if m:
        return round(float(m.group(1)) / 100, 6)
    m = re.search(r"\b0\.(9\d*)\b", low)
    return float("0." + m.group(1)) if m else None


_WORD_NUMBERS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "ten": 10, "twenty": 20}


def _horizon(low: str) -> int | None:
    m = re.search(
        r"\b(\d{1,3}|one|two|three|five|ten|twenty)[- ](?:trading[- ])?days?\b"
        r"(?![- ]?(?:realized|vol|ewma|moving|average|return|beta|draw))",
        low,
    )
    short = re.search(r"\b(\d{1,3})d\b", low)
    if short and re.search(r"\bvar\b|value[- ]at[- ]risk|shortfall|\bes\b", low):
        return int(short.group(1))  # "5d 99% VaR"
    if m and re.search(r"horizon|holding|var\b|value[- ]at[- ]risk|shortfall|\bes\b|over", low):
        word = m.group(1)
        return int(word) if word.isdigit() else _WORD_NUMBERS[word]
    if re.search(r"\b(one|1)[- ]week|weekly", low):
        return 5
    if re.search(r"\b(one|1)[- ]month|monthly", low):
        return 21
    if re.search(r"\bdaily\b|overnight|one[- ]day|1[- ]day", low):
        return 1
    return None


def _count(low: str) -> tuple[int | None, bool]:
    descending = not re.search(r"\b(lowest|bottom|least|smallest|worst|fewest|minimum)\b", low)
    if re.search(r"\b(lowest|least|smallest)\b.{0,30}\b(draw ?down|drawdown)", low):
        descending = False
    m = (
        re.search(r"\b(?:top|bottom|first)\s+(\d{1,2}|two|three|four|five|ten)\b", low)
        or re.search(
            r"\b(\d{1,2}|two|three|four|five|ten)\s+(?:highest|lowest|most|least|largest|smallest"
            r"|best|worst)",
            low,
        )
        or re.search(
            r"\bwhich (\d{1,2}|two|three|four|five|ten) (?:tickers|stocks|names|compan)", low
        )
    )
    if m:
        word = m.group(1)
        return (int(word) if word.isdigit() else _WORD_NUMBERS[word]), descending
    if re.search(r"\b(highest|lowest|most|least|largest|smallest|rank|ranking)\b", low):
        return None, descending
    return None, descending
