"""Which filings a digest compares, and the collection ranking, on in-memory filings (no index)."""

from __future__ import annotations

import pytest

from ingestion.errors import SightlineError
from tests.digest.conftest import filing_text
from tools.digest import collection_digest, comparable_pair, digest_filings
from tools.digest_sections import Filing


def _filing(name: str, date: str, doc_type: str, issuer: str = "ACME", year: int = 2022) -> Filing:
    pages = {n: t for n, t in enumerate(filing_text(year).split("\f"), start=1)}
    return Filing(name, name, issuer, date, doc_type, pages)


def test_10q_is_compared_with_the_same_quarter_not_the_one_before() -> None:
    q2_2023 = _filing("Q2-2023", "2023-06-30", "10-Q")
    q1_2024 = _filing("Q1-2024", "2024-03-31", "10-Q")
    q2_2024 = _filing("Q2-2024", "2024-06-30", "10-Q")
    annual = _filing("K-2023", "2023-12-31", "10-K")
    pair = comparable_pair([q2_2023, annual, q1_2024, q2_2024])
    assert pair is not None
    assert (pair[0].doc_name, pair[1].doc_name) == ("Q2-2023", "Q2-2024")


def test_10k_pairs_with_the_previous_10k_and_8k_is_ignored() -> None:
    old, new = _filing("K-2021", "2021-12-31", "10-K"), _filing("K-2023", "2023-12-31", "10-K")
    eight = _filing("8K", "2024-02-01", "8-K")
    pair = comparable_pair([old, eight, new])
    assert pair is not None and (pair[0].doc_name, pair[1].doc_name) == ("K-2021", "K-2023")
    with pytest.raises(SightlineError, match="no two comparable filings of ACME"):
        digest_filings([new, eight], "ACME")


def test_collection_ranks_items_of_every_issuer_by_kind_normalised_score() -> None:
    filings = [
        _filing("A-2022", "2022-12-31", "10-K", "ACME", 2022),
        _filing("A-2023", "2023-12-31", "10-K", "ACME", 2023),
        _filing("G-2023", "2023-12-31", "10-K", "GLOBEX", 2023),
        _filing("G-2024", "2024-12-31", "10-K", "GLOBEX", 2024),
    ]
    items = collection_digest(filings)
    assert {i.issuer for i in items} == {"ACME", "GLOBEX"}
    best: dict[str, float] = {}
    for item in items:
        best[item.kind] = max(best.get(item.kind, 0.0), item.score)
    ranks = [i.score / best[i.kind] for i in items]
    assert ranks == sorted(ranks, reverse=True)
    # GLOBEX's 2024 filing adds the merger risk; it is among the items, cited in both filings.
    merger = next(i for i in items if "Globex" in i.title)
    assert {c.doc_name for c in merger.citations} == {"G-2023", "G-2024"}
