"""Pages -> page-accurate chunks sized to the embedder.

all-MiniLM-L6-v2 reads at most 256 wordpieces and silently drops the rest, so a chunk must fit
the embedder, measured with the embedder's own tokenizer (passed in as ``count_tokens``). Chunks
never cross a page boundary: a citation names exactly one page. Lines (PDF text lines, table rows,
paragraphs) are packed greedily; a line too long on its own is split at sentences, then words.
Consecutive chunks on a page overlap by a line or two so a fact split across a boundary is whole
in at least one chunk.

Contextual header: a table continues for several chunks below its title, and those chunks alone
say nothing about which statement they belong to ("Accounts payable 408 24 148"). Every chunk of a
page therefore starts with the page's caption (its leading heading-like lines, e.g. "3M Company and
Subsidiaries · Consolidated Statement of Cash Flows") and, when the caption names one of the
primary financial statements, that statement's plain name ("cash flow statement"), so both the
embedding and the keyword index see it. PDF text often splits words ("Balance Shee t"), so
statement titles are matched with the spaces removed.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

TokenCounter = Callable[[Sequence[str]], list[int]]
_SENTENCE_RE = re.compile(r"(?<=[.!?;:])\s+")
_HEADING_RE = re.compile(r"^(#{1,6})\s+(.+)$")
CHUNKING_VERSION = "3"  # bump when chunk texts change (the eval keys its index on it)
CAPTION_SCAN_LINES = 8  # a page's title sits in its first few lines
CAPTION_MAX_LINES = 3
CAPTION_MAX_WORDS = 14  # a heading line, not a sentence or a table row
CAPTION_MAX_TOKENS = 48  # of the whole header line
SECTION_HEADER_WORDS = 12
# Page furniture that is not a caption: running heads, navigation links, page numbers.
_FURNITURE_RE = re.compile(
    r"^(table of contents|index|part [ivx]+\.?|item \d+[a-z]?\.?|page \d+|\d+|[ivx]+|"
    r"\(?unaudited\)?|(form )?10-[kq])$",
    re.IGNORECASE,
)
# The primary financial statements under their usual titles (US GAAP and IFRS), matched on the
# lower-cased line reduced to its letters. Order matters: comprehensive income before income.
STATEMENT_TITLES: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "cash flow statement",
        re.compile(r"statements?of(consolidated)?cashflows?|cashflows?statements?"),
    ),
    (
        "balance sheet",
        re.compile(r"balancesheets?|statements?of(consolidated)?financial(position|condition)"),
    ),
    (
        "statement of comprehensive income",
        re.compile(
            r"statements?of(consolidated)?comprehensive(income|loss)|comprehensiveincomestatements?"
        ),
    ),
    (
        "income statement",
        re.compile(
            r"statements?of(consolidated)?(income|operations|earnings|(net)?loss)|"
            r"incomestatements?|profitandloss|statements?ofprofitorloss"
        ),
    ),
    (
        "statement of shareholders' equity",
        re.compile(
            r"statements?of(changesin)?(consolidated)?((share|stock)(holders|owners))?equity"
        ),
    ),
)
_RUN_ON_WORDS = frozenset("a an and any as at by for in of on or the to was were with".split())
_STATEMENT_MAX_WORDS = 10  # "Consolidated Statements of Cash Flows (Unaudited)", not a sentence


def statement_of(line: str) -> str | None:
    """The plain name of the financial statement a title line names, if it names one.

    A line that mentions a statement in passing (a sentence, a note's title) is not a title.
    """
    if len(line.split()) > _STATEMENT_MAX_WORDS:
        return None
    letters = re.sub(r"[^a-z]", "", line.lower())
    if letters.startswith(("notesto", "notes", "seenote", "indexto")):
        return None
    for name, pattern in STATEMENT_TITLES:
        if pattern.search(letters):
            return name
    return None


def _heading_like(line: str) -> bool:
    words = line.split()
    if not words or len(words) > CAPTION_MAX_WORDS or line.startswith(("#", "•", "-", "*")):
        return False
    letters = sum(ch.isalpha() for ch in line)
    digits = sum(ch.isdigit() for ch in line)
    # Table rows and figures are mostly digits; sentences end with a full stop or run on to the
    # next line; "Walmart Inc." and "Item 8." are short enough to be names, not sentences.
    end = line.rstrip()
    sentence = (end.endswith(".") and len(words) > 4) or (end.endswith(":") and len(words) > 6)
    runs_on = end.endswith((",", ";")) or words[-1].lower() in _RUN_ON_WORDS
    lowercase_start = next((ch.islower() for ch in line if ch.isalpha()), False)  # a continuation
    return letters >= 3 and digits <= letters / 4 and not (sentence or runs_on or lowercase_start)


def page_caption(lines: Sequence[str]) -> str | None:
    """A page's contextual header: its leading heading-like lines plus the statement it holds.

    Running heads such as "Table of Contents" or "PART II" are skipped. The heading block is the
    run of heading-like lines at the top of the page, up to the first line that is not one (a
    sentence, a table row). The caption is its first ``CAPTION_MAX_LINES`` lines; when a line of
    the block is the title of a primary financial statement, the statement's plain name follows
    in brackets. A notes page ("Notes to Consolidated Financial Statements") holds no statement.
    """
    top = [line for line in lines[:CAPTION_SCAN_LINES] if not _FURNITURE_RE.match(line.strip())]
    block: list[str] = []
    for line in top:
        if not _heading_like(line):
            break
        block.append(" ".join(line.split()))
    if not block:
        return None
    is_notes = any(re.sub(r"[^a-z]", "", b.lower()).startswith("notesto") for b in block)
    statement = None if is_notes else next((s for s in map(statement_of, block) if s), None)
    shown = block[:CAPTION_MAX_LINES]
    if statement and not any(map(statement_of, shown)):
        shown.append(next(b for b in block if statement_of(b)))  # keep the title in view
    text = " · ".join(shown)
    return f"{text} ({statement})" if statement else text


@dataclass(frozen=True)
class Chunk:
    """One piece of a document, small enough to embed whole."""

    seq: int  # 0-based position in the document
    page_start: int
    page_end: int
    text: str  # the header line (if any), then the page text
    section: str | None  # the header: page caption, else nearest heading above (Markdown/HTML/DOCX)
    tokens: int  # wordpieces of the page text in the chunk (the header line not counted)
    header: str | None = None  # the contextual header line that starts ``text``, if one was added

    @property
    def sha256(self) -> str:
        """Hash of the chunk text (the embedding cache key and the citation's content hash)."""
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()


def approximate_tokens(units: Sequence[str]) -> list[int]:
    """A tokenizer-free estimate (1.4 wordpieces per whitespace word) for tests and tools."""
    return [int(len(u.split()) * 1.4) + 1 for u in units]


def _split_long(unit: str, max_tokens: int, count_tokens: TokenCounter) -> list[str]:
    pieces = [s for s in _SENTENCE_RE.split(unit) if s.strip()]
    if len(pieces) == 1:
        words = unit.split()
        # Wordpieces per word vary (numbers split a lot): size windows from the measured ratio.
        ratio = max(1.0, count_tokens([unit])[0] / max(1, len(words)))
        step = max(1, int(max_tokens / ratio * 0.9))
        return [" ".join(words[i : i + step]) for i in range(0, len(words), step)]
    out: list[str] = []
    for piece, tokens in zip(pieces, count_tokens(pieces), strict=True):
        out.extend(_split_long(piece, max_tokens, count_tokens) if tokens > max_tokens else [piece])
    return out


def chunk_pages(
    pages: Sequence[tuple[int, str]],
    *,
    count_tokens: TokenCounter,
    max_tokens: int = 250,
    overlap_tokens: int = 40,
) -> list[Chunk]:
    """Split per-page text into chunks of at most ``max_tokens`` wordpieces.

    Args:
        pages: (1-based page number, text) pairs.
        count_tokens: wordpiece counts of a batch of strings (the embedder's tokenizer).
        max_tokens: most wordpieces per chunk (the embedder's limit minus special tokens).
        overlap_tokens: at most this many wordpieces of trailing lines repeated in the next chunk.

    Returns:
        Chunks in document order, ``seq`` numbered from 0.
    """
    chunks: list[Chunk] = []
    section: str | None = None
    costs: dict[str | None, int] = {None: 0}

    def reserve(header: str | None) -> int:  # wordpieces a header line takes, newline included
        if header is not None and header not in costs:
            costs[header] = count_tokens([header])[0] + 1
        return costs[header]

    for number, text in pages:
        lines = [line.strip() for line in text.split("\n") if line.strip()]
        if not lines:
            continue
        caption = page_caption(lines)
        if caption and reserve(caption) > CAPTION_MAX_TOKENS:
            caption = None  # not a heading after all; never let it crowd out the text
        # A unit must fit beside any header, so long lines are cut with the largest one in mind.
        unit_max = max_tokens - CAPTION_MAX_TOKENS
        units: list[str] = []
        for line, tokens in zip(lines, count_tokens(lines), strict=True):
            units.extend(_split_long(line, unit_max, count_tokens) if tokens > unit_max else [line])
        sizes = count_tokens(units)
        current: list[tuple[str, int]] = []
        current_section = section
        used = reserve(_header(caption, current_section))
        for unit, size in zip(units, sizes, strict=True):
            heading = _HEADING_RE.match(unit)
            if current and used + size + 1 > max_tokens:
                chunks.append(_make(len(chunks), number, current, current_section, caption))
                carry: list[tuple[str, int]] = []
                carried = 0
                for prev in reversed(current):
                    if carried + prev[1] + 1 > overlap_tokens or heading:
                        break
                    carry.insert(0, prev)
                    carried += prev[1] + 1
                current, current_section = carry, section
                used = carried + reserve(_header(caption, current_section))
            if heading:
                section = heading.group(2).strip()
                if not current:
                    current_section = section
                    used = reserve(_header(caption, current_section))
            current.append((unit, size))
            used += size + 1
        if current:
            chunks.append(_make(len(chunks), number, current, current_section, caption))
    return chunks


def _header(caption: str | None, section: str | None) -> str | None:
    if caption:
        return caption
    if section:  # a Markdown/HTML heading; long ones are cut so they cannot crowd out the text
        return " ".join(section.split()[:SECTION_HEADER_WORDS])
    return None


def _make(
    seq: int, page: int, units: list[tuple[str, int]], section: str | None, caption: str | None
) -> Chunk:
    body = "\n".join(u for u, _ in units)
    tokens = sum(s for _, s in units) + len(units) - 1
    # The page caption leads every chunk of its page; for Markdown/HTML the nearest heading does.
    # The header is always the first line and equals ``section``, so a reader can strip it.
    header = _header(caption, section)
    if header:
        return Chunk(seq, page, page, f"{header}\n{body}", header, tokens, header)
    return Chunk(seq, page, page, body, None, tokens, None)


def strip_header(text: str, section: str | None) -> str:
    """The page text of a stored chunk: its text without the contextual header line."""
    if section and text.startswith(section + "\n"):
        return text[len(section) + 1 :]
    return text
