"""Filing text -> sections (risk factors, MD&A), paragraphs, risk headings and statement rows.

A filing here is its parsed pages; everything is deterministic text work, so a digest reads the
same pages to the same items every time. Paragraphs are cut where a line ends a sentence short of
the page's line width (PDF text has no paragraph marks); sentences are counted with llama-index's
punkt splitter, the same one the answers use.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from ingestion.documents.chunking import statement_of


@dataclass(frozen=True)
class Filing:
    """One filing's parsed pages with its catalogue facts.

    ``chunks`` maps a page to the (chunk_id, content_sha256) of its first chunk, so a citation can
    name a stored passage; a filing read straight from a PDF (the eval) has none.
    """

    doc_id: str
    doc_name: str
    issuer: str
    doc_date: str
    doc_type: str
    pages: dict[int, str]
    chunks: dict[int, tuple[str, str]] = field(default_factory=dict)


@dataclass(frozen=True)
class Paragraph:
    """A paragraph of a section: the page it starts on and its text (lines joined)."""

    page: int
    text: str


@dataclass(frozen=True)
class StatementRow:
    """A statement line: which statement, its label, the current-period value, its page."""

    statement: str
    label: str
    value: float
    page: int


# "Item 7. Management's Discussion..." starts an item; "Item 8, Financial Statements ..., of
# this Annual Report" in a sentence is a cross-reference.
_ITEM_RE = re.compile(r"^item\s*(\d+[a-z]?)\s*[.:\u2014\u2013-]\s*(.*)$", re.IGNORECASE)
_FURNITURE_RE = re.compile(r"^(\d{1,3}\s*)?(table of contents)?(\s*\d{1,3})?$", re.IGNORECASE)
_SUBHEADING_MAX_WORDS = 6
_SENTENCE_END = (".", "!", "?", ":", ";")
_BULLET_RE = re.compile(r"^[•●▪◦\-–—*]\s*")
_MODAL_RE = re.compile(r"\b(may|could|might|can|would|will)\b", re.IGNORECASE)
_EFFECT_RE = re.compile(
    r"\b(advers\w*|negative\w*|harm\w*|impact\w*|affect\w*|risk\w*|disrupt\w*|reduc\w*|"
    r"los[se]\w*|decline\w*|damag\w*|fail\w*|expos\w*|liabilit\w*|volatil\w*|uncertain\w*)\b",
    re.IGNORECASE,
)
_NOT_A_LABEL = re.compile(
    r"^(note|see |item|january|february|march|april|may|june|july|august|september|october|"
    r"november|december|fiscal|years? ended|total$)",
    re.IGNORECASE,
)
_NUMBER_RE = re.compile(r"\(?-?\$?\s?\d[\d,]*(?:\.\d+)?\)?%?")
_ROW_RE = re.compile(r"^(?P<label>[A-Za-z][^\d$()]{2,90}?)[\s.:$]*(?P<nums>(?:\(?-?\$?\s?\d.*)?)$")


def item_sections(filing: Filing) -> dict[str, list[tuple[int, str]]]:
    """The filing's items as (page, line) lists, keyed by item number (``1a``, ``7``, ``2``...).

    A table of contents lists every item on one page, so a page holding four or more item lines
    does not start a section; the body copy of an item is the last start found before the next.
    """
    starts: list[tuple[int, int, str]] = []  # (page, line index, item)
    lines_by_page = {n: _lines(t) for n, t in sorted(filing.pages.items())}
    for number, lines in lines_by_page.items():
        items = [(i, m.group(1).lower()) for i, ln in enumerate(lines) if (m := _ITEM_RE.match(ln))]
        if len(items) >= 4:
            continue
        starts.extend((number, i, item) for i, item in items)
    sections: dict[str, list[tuple[int, str]]] = {}
    for k, (page, index, item) in enumerate(starts):
        end = starts[k + 1] if k + 1 < len(starts) else None
        body: list[tuple[int, str]] = []
        for number, lines in lines_by_page.items():
            if number < page or (end and number > end[0]):
                continue
            lo = index + 1 if number == page else 0
            hi = end[1] if end and number == end[0] else len(lines)
            body.extend((number, ln) for ln in lines[lo:hi])
        if len(body) > len(sections.get(item, [])):  # the body, not a cross-reference line
            sections[item] = body
    return sections


def section_lines(filing: Filing, kind: str) -> list[tuple[int, str]]:
    """The (page, line) list of ``risk`` factors or ``mdna`` for the filing's form.

    10-K: risk factors are Item 1A, MD&A Item 7. 10-Q: MD&A is Part I Item 2, risk factors Part II
    Item 1A.
    """
    sections = item_sections(filing)
    if kind == "risk":
        return sections.get("1a", [])
    if filing.doc_type.upper().startswith("10-Q") or filing.doc_type.upper() == "10Q":
        lines = sections.get("2", [])
    else:
        lines = sections.get("7", [])
    # Where the item headings are not found, MD&A can seem to run into the statements and notes.
    statements = {
        n for n, t in filing.pages.items() if any(statement_of(ln) for ln in _lines(t)[:8])
    }
    first = min((n for n in statements if lines and n > lines[0][0]), default=None)
    return [(n, ln) for n, ln in lines if first is None or n < first]


def paragraphs(lines: Sequence[tuple[int, str]]) -> list[Paragraph]:
    """Lines -> paragraphs: a line that ends a sentence well short of the line width ends one."""
    width = max((len(ln) for _, ln in lines), default=0)
    out: list[Paragraph] = []
    current: list[str] = []
    start = 0
    for page, line in lines:
        if _FURNITURE_RE.match(line):
            continue  # page numbers and running heads between two pages of one paragraph
        subheading = _is_subheading(line)
        if current and (_BULLET_RE.match(line) or subheading):
            out.append(Paragraph(start, " ".join(current)))
            current = []
        if subheading:
            continue  # "Operational Risks": a group title, not part of the next heading
        if not current:
            start = page
        current.append(_BULLET_RE.sub("", line))
        if line.endswith(_SENTENCE_END) and len(line) < 0.85 * width:
            out.append(Paragraph(start, " ".join(current)))
            current = []
    if current:
        out.append(Paragraph(start, " ".join(current)))
    return out


def _is_subheading(line: str) -> bool:
    words = line.split()
    return (
        0 < len(words) <= _SUBHEADING_MAX_WORDS
        and not line.endswith((*_SENTENCE_END, ","))
        and words[0][:1].isupper()
        and not any(ch.isdigit() for ch in line)
    )


def risk_headings(lines: Sequence[tuple[int, str]]) -> list[Paragraph]:
    """Risk-factor headings: one-sentence paragraphs that state a risk, followed by a body.

    A 10-K sets each risk factor's heading in bold or italics; the text keeps no font, but the
    heading is a single sentence of its own paragraph that says what may go wrong ("Failure to
    ... may negatively impact our operating results."), and the paragraph after it is longer.
    """
    paras = paragraphs(lines)
    out: list[Paragraph] = []
    for k, para in enumerate(paras[:-1]):
        text = para.text
        if not (40 <= len(text) <= 420) or not text.endswith(".") or not text[0].isupper():
            continue
        if not (_MODAL_RE.search(text) and _EFFECT_RE.search(text)):
            continue
        if len(sentences(text)) != 1 or len(paras[k + 1].text) < len(text):
            continue
        out.append(para)
    return out


@lru_cache(maxsize=1)
def _splitter():  # noqa: ANN202 - llama_index's SentenceSplitter, built once (loads punkt)
    from llama_index.core.node_parser.text.utils import split_by_sentence_tokenizer

    return split_by_sentence_tokenizer()


def sentences(text: str) -> list[str]:
    """The sentences of ``text`` (llama-index's punkt tokenizer, offline)."""
    return [s.strip() for s in _splitter()(text) if s.strip()]


def statement_rows(filing: Filing) -> list[StatementRow]:
    """Rows of the primary statements (income, balance sheet, cash flow): label and first value.

    A statement page is one whose leading lines name a statement; a row is a label followed by
    at least two numbers (the periods side by side), and the first number is the current period.
    """
    rows: list[StatementRow] = []
    seen: set[tuple[str, str]] = set()
    for number, text in sorted(filing.pages.items()):
        lines = _lines(text)
        statement = next((s for ln in lines[:8] if (s := statement_of(ln))), None)
        if statement is None or "equity" in statement:
            continue
        for line in lines:
            row = _row(line)
            if row is None or (statement, row[0]) in seen:
                continue
            seen.add((statement, row[0]))
            rows.append(StatementRow(statement, row[0], row[1], number))
    return rows


def _row(line: str) -> tuple[str, float] | None:
    match = _ROW_RE.match(line.strip())
    if not match or not match.group("nums"):
        return None
    parsed = [_number(tok) for tok in _NUMBER_RE.findall(match.group("nums"))]
    values = [v for v in parsed if v is not None]
    label = " ".join(match.group("label").split()).strip(" .:$")
    if len(values) < 2 or len(label) < 4 or not label[0].isupper() or _NOT_A_LABEL.match(label):
        return None
    return label, values[0]


def _number(token: str) -> float | None:
    if token.endswith("%"):
        return None
    negative = token.startswith("(") or token.lstrip("($ ").startswith("-")
    digits = re.sub(r"[^\d.]", "", token)
    if not digits or digits == ".":
        return None
    value = float(digits)
    if 1900 <= value <= 2100 and "," not in token and "." not in token:
        return None  # a year in a column head, not a figure
    return -value if negative else value


def _lines(text: str) -> list[str]:
    return [ln.strip() for ln in text.split("\n") if ln.strip()]
