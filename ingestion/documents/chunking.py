"""Pages -> page-accurate chunks sized to the embedder.

all-MiniLM-L6-v2 reads at most 256 wordpieces and silently drops the rest, so a chunk must fit
the embedder, measured with the embedder's own tokenizer (passed in as ``count_tokens``). Chunks
never cross a page boundary: a citation names exactly one page. Lines (PDF text lines, table rows,
paragraphs) are packed greedily; a line too long on its own is split at sentences, then words.
Consecutive chunks on a page overlap by a line or two so a fact split across a boundary is whole
in at least one chunk.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

TokenCounter = Callable[[Sequence[str]], list[int]]
_SENTENCE_RE = re.compile(r"(?<=[.!?;:])\s+")
_HEADING_RE = re.compile(r"^(#{1,6})\s+(.+)$")


@dataclass(frozen=True)
class Chunk:
    """One piece of a document, small enough to embed whole."""

    seq: int  # 0-based position in the document
    page_start: int
    page_end: int
    text: str
    section: str | None  # nearest heading above the chunk (Markdown/HTML/DOCX), if any
    tokens: int

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
    for number, text in pages:
        lines = [line.strip() for line in text.split("\n") if line.strip()]
        if not lines:
            continue
        units: list[str] = []
        for line, tokens in zip(lines, count_tokens(lines), strict=True):
            units.extend(
                _split_long(line, max_tokens, count_tokens) if tokens > max_tokens else [line]
            )
        sizes = count_tokens(units)
        current: list[tuple[str, int]] = []
        current_section = section
        used = 0
        for unit, size in zip(units, sizes, strict=True):
            heading = _HEADING_RE.match(unit)
            if current and used + size + 1 > max_tokens:
                chunks.append(_make(len(chunks), number, current, current_section))
                carry: list[tuple[str, int]] = []
                carried = 0
                for prev in reversed(current):
                    if carried + prev[1] + 1 > overlap_tokens or heading:
                        break
                    carry.insert(0, prev)
                    carried += prev[1] + 1
                current, used, current_section = carry, carried, section
            if heading:
                section = heading.group(2).strip()
                if not current:
                    current_section = section
            current.append((unit, size))
            used += size + 1
        if current:
            chunks.append(_make(len(chunks), number, current, current_section))
    return chunks


def _make(seq: int, page: int, units: list[tuple[str, int]], section: str | None) -> Chunk:
    return Chunk(
        seq=seq,
        page_start=page,
        page_end=page,
        text="\n".join(u for u, _ in units),
        section=section,
        tokens=sum(s for _, s in units) + len(units) - 1,
    )
