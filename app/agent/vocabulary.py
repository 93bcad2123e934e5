"""The words the request parser reads: metric, arithmetic, aggregation, ranking and period patterns.

Data, not logic: ``app.agent.request`` applies them. A pattern names what analysts write; the
value it maps to is a field of ``QuestionRequest``.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from app.agent.request import Aggregation, ArithmeticOp, WindowMetric


METRICS: list[tuple[str, WindowMetric]] = [
    (
        r"(largest|biggest|worst|steepest|sharpest|deepest)\s+(one|1|single)?[- ]?(day|daily)\s+"
        r"(percentage\s+)?(fall|drop|decline|loss|move down)|\bworst (trading )?day\b",
        "worst_day",
    ),
    (
        r"(largest|biggest|best|sharpest)\s+(one|1|single)?[- ]?(day|daily)\s+(percentage\s+)?"
        r"(rise|gain|jump|increase|rally)|\bbest (trading )?day\b",
        "best_day",
    ),
    (r"correlat", "correlation"),
    (r"draw[- ]?down|peak[- ]to[- ]trough", "max_drawdown"),
    (r"\bbeta\b", "beta"),
    (
        r"dollar volume|traded value|turnover in (usd|dollars)|in dollars,? traded"
        r"|dollars? (worth )?(of \w+ )?traded",
        "dollar_volume",
    ),
    (
        r"(trading |share |daily |average )?volume\b|shares traded|shares changed hands"
        r"|how heavy was trading|trading activity"
        r"|shares\b.{0,25}\btraded",
        "volume",
    ),
    (
        r"\breturns?\b|\bperformance\b|\bperformed\b|\bgain(ed)?\b|\brose\b|\bfell\b"
        r"|\bhow did .{1,40} do\b|\bmov(e|ed)\b|\bup or down\b"
        r"|\bby what (percent(age)?|%)\b",
        "return",
    ),
    (r"volatil|\bvol\b|standard deviation of .{0,30}returns", "volatility"),
    (r"\b(all[- ]time |52[- ]week )?(high|peak|highest (adjusted )?(close|price))\b", "high"),
    (r"\b(all[- ]time |52[- ]week )?(low|trough|lowest (adjusted )?(close|price))\b", "low"),
    (
        r"\b(closing |adjusted |share |stock )?price\b|\bclose[sd]?\b|\btrading at\b"
        r"|\bclosing (level|value)\b|\bclosed at\b",
        "price",
    ),
]


# Quantities analysts ask for that the data does not hold: seen, named in the decline.
UNMAPPED_METRICS = re.compile(
    r"\bsharpe\b|\bsortino\b|\btreynor\b|information ratio|dividend|\bp/?e\b(?! ratio of)"
    r"|price[- ]to[- ]earnings|earnings per share|\beps\b|ebitda|free cash flow|market cap"
    r"|implied vol|option|open(ing)? price|\bopen(ed)? (at|on)\b|\bintraday\b|short interest"
    r"|credit rating"
    r"|\bgross margin\b|\bcapex\b|book value per share|enterprise value|\bskew(ness)?\b"
    r"|\bkurtosis\b|\bvwap\b|moving average|\brsi\b|\bmacd\b",
    re.I,
)


PERSONAL = re.compile(
    r"(phone|telephone|mobile|cell|e-?mail|home address|address|contact details|contact info"
    r"|date of birth|birthday|social security|passport|salary of|home)"
    r".{0,40}\b(of|for)\b.{0,40}\b(ceo|cfo|chair\w*|founder|director|officer|employee|analyst"
    r"|manager|president|mr|ms|mrs|dr)\b"
    r"|\b(ceo|cfo|chair\w*|founder|director|officer|employee|president)('s|s')?\b.{0,30}"
    r"(phone|telephone|mobile|e-?mail|home address|personal address|contact details|contact info"
    r"|date of birth|birthday|social security|passport)"
    r"|\b(personal|private) (phone|e-?mail|address|contact|details)\b"
    r"|\bhow (can|do) i (reach|contact|call|email)\b.{0,40}\b(ceo|cfo|chair\w*|founder|director"
    r"|president|[A-Z][a-z]+ [A-Z][a-z]+)",
    re.I,
)


# Units an amount is asked in ("by how many dollars", "how many points"): a quantity, not a count.
UNIT_WORDS = r"(dollars?|usd|cents?|points?|percentage points?|basis points?|bps)"


ARITHMETIC: list[tuple[str, ArithmeticOp]] = [
    (r"\bspread between\b|\bspread of\b.{0,30}\bover\b", "spread"),
    (
        r"\bdifference between\b|\bminus\b|\bless\b(?= the)|\bgap between\b|\bexcess of\b"
        r"|\bhow (much|far) (higher|lower|above|below|more|less)\b.{0,60}\bthan\b"
        r"|\bpremium of\b.{0,40}\bover\b",
        "minus",
    ),
    (r"\bratio (of|between)\b|\bdivided by\b|\bas a (share|multiple|fraction) of\b", "ratio"),
    (r"\bgrowth\b|\bgrew\b|\bgrow\b|\bpercent(age)? change\b|\bgrowth rate\b", "growth"),
    (
        r"\bchange(d)? (in|of)\b|\bhow much did\b.{0,80}\b(change|rise|fall|increase|drop)\b"
        r"|\brise or fall\b"
        rf"|\bhow many {UNIT_WORDS}\b.{{0,80}}\b(change|move|rise|fall|increase|drop|climb)",
        "change",
    ),
]


RATIOS: list[tuple[str, tuple[str, str]]] = [
    (r"current ratio|working[- ]capital ratio", ("current_assets", "current_liabilities")),
    (r"debt[- ]to[- ]equity|liabilities[- ]to[- ]equity", ("total_liabilities", "total_equity")),
    (
        r"\b(net|profit) margin\b|net income (to|over|as a share of) revenue",
        ("net_income", "revenue"),
    ),
    (r"operating margin", ("operating_income", "revenue")),
    (r"return on assets|\broa\b", ("net_income", "total_assets")),
    (r"return on equity|\broe\b", ("net_income", "total_equity")),
    (r"cash ratio", ("cash_and_equivalents", "current_liabilities")),
]


AGGREGATIONS: list[tuple[str, Aggregation]] = [
    (r"\baverage\b|\bmean\b|\bavg\b|\btypical\b", "mean"),
    (r"\btotal\b(?! (assets|liabilities|equity|return))|\bsum\b|\bcumulative\b(?! return)", "sum"),
    (
        r"\bhow many\b(?! {UNITS}\b)|(?<!phone )(?<!telephone )\bnumber of\b|\bcount\b".replace(
            "{UNITS}", UNIT_WORDS
        ),
        "count",
    ),  # "how many dollars": an amount, not a count
    (r"\bhighest\b|\b(maximum|max)\b(?! ?draw)|\bpeak\b", "max"),
    (r"\blowest\b|\bminimum\b|\bmin\b", "min"),
]


RANK_WORDS = re.compile(
    r"\btop\b|\bbottom\b|\brank|\bwhich ((\d{1,2}|two|three|four|five|ten) )?(stock|ticker|name"
    r"|company|compan(y|ies)|issuer)s?\b"
    r"|\bbest[- ]performing\b|\bworst[- ]performing\b|\bbest\b|\bworst\b|\bmost\b|\bleast\b",
    re.I,
)


LOOKBACK = re.compile(
    r"\b(\d{1,4})[- ](?:trading[- ])?(day|week|month|session)s?\b(?![- ]?(loan|horizon))", re.I
)


QUARTER_WORDS = re.compile(
    r"\b(first|second|third|fourth|1st|2nd|3rd|4th)\s+quarter\s+(?:of\s+)?(\d{4})\b", re.I
)


ORDINAL = {
    "first": 1,
    "1st": 1,
    "second": 2,
    "2nd": 2,
    "third": 3,
    "3rd": 3,
    "fourth": 4,
    "4th": 4,
}


FISCAL = re.compile(r"\b(?:fiscal(?: year)?|fy)\s*'?(\d{4}|\d{2})\b", re.I)


RELATIVE = re.compile(
    r"\b(last|past|previous|this|current) (week|month|quarter|year|\d+ (days|weeks|months|years))"
    r"\b|\bytd\b|\byear[- ]to[- ]date\b|\bmonth[- ]to[- ]date\b|\bsince inception\b|\byesterday\b"
    r"|\btoday\b|\brecent(ly)?\b|\b(last|this|past) (monday|tuesday|wednesday|thursday|friday"
    r"|saturday|sunday|weekend|session)\b|\bthis morning\b|\bright now\b|\bcurrently\b",
    re.I,
)


QUARTER_ANY = re.compile(
    r"\bQ([1-4])\s*'?(\d{4})\b|\b(\d{4})\s*-?Q([1-4])\b|\b([1-4])Q\s*(\d{4})\b"
    r"|\b(first|second|third|fourth|1st|2nd|3rd|4th)\s+quarter\s+(?:of\s+)?(\d{4})\b",
    re.I,
)


YEAR_MONTH = re.compile(r"(?<![\d-])(\d{4})-(0[1-9]|1[0-2])(?![\d-])")


SHARE_OF = re.compile(r"\b(what|which) (fraction|share|proportion|percentage|part) of\b", re.I)


ITEM_RELATION = re.compile(r"\b(over|to|divided by|relative to|per|versus|vs\.?)\b", re.I)
