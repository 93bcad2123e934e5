"""The digest on a real pair of 10-Ks (Best Buy 2019 -> 2023), from the shared FinanceBench data.

Skipped when ../shared/data/financebench-dev is absent (issue 19: the data is not shipped).
"""

from __future__ import annotations

import pytest

from evals.digest_eval import DATA, load_filing
from tools.digest import filing_digest

pytestmark = pytest.mark.skipif(
    not (DATA / "pdfs" / "BESTBUY_2023_10K.pdf").exists(),
    reason="issue 19: the shared FinanceBench filings (../shared/data/financebench-dev) are absent",
)


def test_best_buy_2019_to_2023() -> None:
    previous = load_filing(DATA, "BESTBUY_2019_10K", None)
    current = load_filing(DATA, "BESTBUY_2023_10K", None)
    items = filing_digest(previous, current)
    new = [i for i in items if i.kind == "new_risk_factor"]
    esg = next(i for i in new if "environmental, social and governance" in i.title)
    assert [(c.doc_name, c.page) for c in esg.citations][0] == ("BESTBUY_2023_10K", 17)
    revenue = next(i for i in items if i.title.startswith("Revenue (income statement)"))
    assert "42,879 -> 46,298" in revenue.title
    assert [(c.doc_name, c.page) for c in revenue.citations] == [
        ("BESTBUY_2023_10K", 40),
        ("BESTBUY_2019_10K", 53),
    ]
    assert not any(i.kind == "removed_risk_factor" for i in items)
