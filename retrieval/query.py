"""Query understanding for financial questions: statement intent, finance synonyms, instructions.

Analysts (and the agent on their behalf) ask in the vocabulary of the trade, filings answer in the
vocabulary of GAAP: "capex" is "purchases of property, plant and equipment" in a cash-flow
statement, "the P&L" is a "statement of operations", and a question often says which statement it
wants. ``understand`` turns a question into:

- ``keyword_text``: the question without assistant instructions ("answer in USD millions", "round
  to two decimals"), plus the filing-vocabulary synonyms of the finance terms it uses (the lexicon
  below), for the BM25 index;
- ``dense_text``: the question without its instruction-only sentences, for the embedding;
- ``statements``: the primary financial statements the question names, so the ranking can favour
  pages whose caption says they hold that statement (``chunking.page_caption``).

The lexicon is general finance vocabulary (statement names, standard line items and their
acronyms), written from accounting usage, not from any evaluation question; it holds no answers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Phrases that name a primary financial statement -> the plain name chunking gives that statement.
STATEMENT_PHRASES: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "cash flow statement",
        re.compile(
            r"\bcash[\s-]*flows?\s+statements?\b|\bstatements?\s+of\s+cash\s+flows?\b", re.I
        ),
    ),
    (
        "balance sheet",
        re.compile(
            r"\bbalance\s+sheets?\b|\bstatements?\s+of\s+financial\s+(position|condition)\b", re.I
        ),
    ),
    (
        "statement of comprehensive income",
        re.compile(r"\b(statements?\s+of\s+)?comprehensive\s+income\s+statements?\b", re.I),
    ),
    (
        "income statement",
        re.compile(
            r"(?<!comprehensive\s)\bincome\s+statements?\b|\bstatements?\s+of\s+(consolidated\s+)?"
            r"(income|operations|earnings)\b|\bp\s*&\s*l\b|\bprofit\s+(and|&)\s+loss\b",
            re.I,
        ),
    ),
    (
        "statement of shareholders' equity",
        re.compile(
            r"\bstatements?\s+of\s+(changes\s+in\s+)?(share|stock)holders['’]?\s+equity\b", re.I
        ),
    ),
)

# Finance term -> the words filings use for it (added to the keyword query, never removed).
SYNONYMS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern, re.I), expansion)
    for pattern, expansion in (
        (r"\bcapex\b|\bcapital\s+expenditures?\b|\bcapital\s+spending\b",
         "purchases of property plant equipment capital expenditures additions"),
        (r"\bpp\s*&\s*e\b|\bppne\b|\bppe\b|\bfixed\s+assets\b", "property plant equipment net"),
        (r"\bcogs\b|\bcost\s+of\s+goods\s+sold\b",
         "cost of sales cost of revenue cost of goods sold products sold"),
        (r"\bd\s*&\s*a\b", "depreciation amortization"),
        (r"\bebitda\b", "operating income depreciation amortization"),
        (r"\bebit\b", "operating income"),
        (r"\beps\b", "earnings per share diluted"),
        (r"\bsg\s*&\s*a\b", "selling general administrative expenses"),
        (r"\br\s*&\s*d\b", "research development"),
        (r"\bm\s*&\s*a\b", "acquisitions divestitures"),
        (r"\brevenues?\b|\btop[\s-]line\b|\bsales\b", "revenue revenues net sales"),
        (r"\bnet\s+(income|profit|earnings)\b|\bbottom[\s-]line\b", "net income net earnings"),
        (r"\binventor(y|ies)\b", "inventory inventories merchandise"),
        (r"\bdebt\b|\bborrowings?\b", "debt borrowings notes long-term"),
        (r"\baccounts\s+payable\b|\bpayables\b|\bdpo\b", "accounts payable"),
        (r"\baccounts\s+receivable\b|\breceivables\b|\bdso\b", "accounts receivable"),
        (r"\bcash\s*(&|and)\s*cash\s+equivalents\b", "cash and cash equivalents"),
        (r"\bdividends?\b", "dividends paid"),
        (r"\bbuy\s*backs?\b|\bshare\s+repurchases?\b", "repurchases purchases of treasury stock"),
        (r"\boperating\s+margin\b", "operating income margin"),
        (r"\bgross\s+margin\b", "gross margin gross profit cost of sales"),
        (r"\broa\b", "return on assets net income total assets"),
        (r"\broe\b", "return on equity net income shareholders equity"),
        (r"\bvar\b", "value-at-risk"),
        (r"\bguidance\b|\boutlook\b", "guidance outlook expects"),
        (r"\bspin[\s-]?off\b|\bseparation\b", "spin-off separation distribution"),
    )
)  # fmt: skip

# Figures and ratios -> the statements they are read from (standard financial analysis): a
# question about them that names no statement still most likely needs those pages.
IMPLIED_STATEMENTS: tuple[tuple[re.Pattern[str], tuple[str, ...]], ...] = tuple(
    (re.compile(pattern, re.I), statements)
    for pattern, statements in (
        (r"\b(gross|operating|net|profit|ebitda)\s+(profit\s+)?margins?\b|\bcogs\b|\beps\b"
         r"|\bcost\s+of\s+goods\s+sold\b|\bnet\s+(income|earnings|profit)\b",
         ("income statement",)),
        (r"\bcapex\b|\bcapital\s+expenditures?\b|\bcapital[\s-]intensive\b|\bd\s*&\s*a\b"
         r"|\bdepreciation\b|\bfree\s+cash\s+flow\b|\bcash\s+from\s+operations\b",
         ("cash flow statement",)),
        (r"\bpp\s*&\s*e\b|\bppne\b|\binventor(y|ies)\b|\btotal\s+assets\b|\bworking\s+capital\b"
         r"|\baccounts\s+(payable|receivable)\b|\bcurrent\s+ratio\b|\bcapital[\s-]intensive\b",
         ("balance sheet",)),
        (r"\broa\b|\broe\b|\breturn\s+on\s+(assets|equity)\b|\bturnover\b|\bdpo\b|\bdso\b"
         r"|\bdays\s+(payable|sales|inventory)\b",
         ("income statement", "balance sheet")),
    )
)  # fmt: skip

# A question about causes wants the narrative (MD&A), not the statement that holds the figure.
_ASKS_WHY = re.compile(
    r"\bwhy\b|\bwhat\s+(drove|drives|caused|explains)\b|\bdrivers?\s+of\b|\breasons?\s+for\b",
    re.I,
)

# Words that instruct the assistant rather than describe the information wanted.
INSTRUCTION_WORDS = frozenset(
    """answer answers respond response responses question questions assume assuming perspective
    analyst analysts equities primarily information details detail shown outlined clearly relying
    rely relied base judgment judgments judgement judgements units unit round rounded decimal
    decimals places place please state explain provide give following agreement lost internet
    connection metric providers only can who if not then useful like company this""".split()
)
# Sentences that only instruct ("Answer in USD millions.", "Round to two decimal places.").
_INSTRUCTION_SENTENCE = re.compile(
    r"^\s*(answer|respond|round|give|provide|base|please|assume|state|express|report)\b", re.I
)
_SENTENCE_SPLIT = re.compile(r"(?<=[.?!])\s+")
# "FY2018", "FY18", "Q2 FY2024", "2023Q2", "Q2'2023": filings print the year alone ("2018").
_PERIOD_RE = re.compile(
    r"\b(?:fy|cy|q[1-4])\s*'?(\d{4}|\d{2})\b|\b(\d{4})\s*q[1-4]\b|\bq[1-4]\s*'?(\d{4})\b", re.I
)


def period_years(query: str) -> list[str]:
    """The calendar/fiscal years a question names in analyst shorthand, as four digits."""
    years: list[str] = []
    for match in _PERIOD_RE.finditer(query):
        year = next(g for g in match.groups() if g)
        years.append(year if len(year) == 4 else f"20{year}")
    return list(dict.fromkeys(years))


@dataclass(frozen=True)
class QueryPlan:
    """What a question asks for, in the forms each index wants."""

    text: str  # the question as asked
    keyword_text: str
    dense_text: str
    statements: tuple[str, ...]  # plain statement names, e.g. ("cash flow statement",)
    implied: tuple[str, ...] = ()  # statements its figures come from, when it names none


def statements_named(query: str) -> tuple[str, ...]:
    """The primary financial statements a question names, in lexicon order."""
    return tuple(name for name, pattern in STATEMENT_PHRASES if pattern.search(query))


def statements_implied(query: str) -> tuple[str, ...]:
    """The statements the figures a question asks about are read from (see IMPLIED_STATEMENTS)."""
    found: dict[str, None] = {}
    for pattern, statements in IMPLIED_STATEMENTS:
        if pattern.search(query):
            found.update(dict.fromkeys(statements))
    return tuple(found)


def understand(query: str) -> QueryPlan:
    """Split a question into its keyword form, its dense form and the statements it names."""
    statements = statements_named(query)
    implied = () if statements or _ASKS_WHY.search(query) else statements_implied(query)
    sentences = [s for s in _SENTENCE_SPLIT.split(query.strip()) if s]
    content = [s for s in sentences if not _INSTRUCTION_SENTENCE.match(s)] or sentences
    dense = " ".join(content)
    words = [
        w
        for w in re.findall(r"[\w&'’.-]+", query)
        if w.strip(".'’-").lower() not in INSTRUCTION_WORDS
    ]
    extra = [expansion for pattern, expansion in SYNONYMS if pattern.search(query)]
    extra += list(statements) + period_years(query)
    keyword = " ".join([*words, *extra])
    return QueryPlan(query, keyword or query, dense or query, statements, implied)
