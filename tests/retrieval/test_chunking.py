"""Chunks fit the embedder, keep their page, and lose no text."""

from __future__ import annotations

from ingestion.documents.chunking import chunk_pages
from retrieval.embeddings import CHUNK_TOKENS, MAX_WORDPIECES, count_tokens


def test_chunks_fit_the_embedder_and_keep_pages() -> None:
    line = "Net revenue increased 7% to $211,915 million driven by Microsoft Cloud growth."
    long_paragraph = " ".join(f"Segment {i} operating income rose {i}.{i}%." for i in range(200))
    pages = [(1, "\n".join([line] * 60)), (2, long_paragraph), (3, ""), (4, "Short last page.")]
    chunks = chunk_pages(pages, count_tokens=count_tokens, max_tokens=CHUNK_TOKENS)
    assert {c.page_start for c in chunks} == {1, 2, 4}
    assert all(c.page_start == c.page_end for c in chunks)
    sizes = count_tokens([c.text for c in chunks])
    assert max(sizes) + 2 <= MAX_WORDPIECES  # [CLS] and [SEP] included: nothing is truncated
    assert [c.seq for c in chunks] == list(range(len(chunks)))
    # No text lost: every word of every page is in some chunk of that page.
    for number, text in pages:
        words = set(text.split())
        covered = set(" ".join(c.text for c in chunks if c.page_start == number).split())
        assert words <= covered


def test_consecutive_chunks_overlap_and_headings_become_sections() -> None:
    text = "# Risk factors\n" + "\n".join(
        f"Risk number {i} is material to results." for i in range(80)
    )
    chunks = chunk_pages([(1, text)], count_tokens=count_tokens, max_tokens=120, overlap_tokens=30)
    assert len(chunks) > 2
    for a, b in zip(chunks, chunks[1:], strict=False):
        # b's own text (after its contextual header line) starts inside a
        assert b.header == "Risk factors" and b.text.splitlines()[0] == b.header
        assert b.text.splitlines()[1] in a.text.splitlines()[1:]
    assert {c.section for c in chunks} == {"Risk factors"}
