"""Digest fixtures: small generated 10-K text filings (form feeds are page breaks) in a real index.

ACME files a 10-K for 2022 and 2023 on the public side; a 2024 10-K sits on the private side
(``deal-team``) with a risk factor no public filing has, so a barrier leak would show up as an item.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

WIDE = (
    "This paragraph of the filing runs across the full width of the page so that the digest can "
    "tell a body line from a heading line that ends early."
)
BODY = f"{WIDE} {WIDE}\n{WIDE} It continues with more words about the business and its results.\n"
COMMON_RISKS = [
    "Macroeconomic pressures could adversely affect consumer spending and our financial results.",
    "Failure to effectively manage our costs could have a material adverse effect on our "
    "profitability.",
]
RISKS = {
    2022: [
        *COMMON_RISKS,
        "Our reliance on a single mainframe vendor could adversely affect our operations.",
    ],
    2023: [
        *COMMON_RISKS,
        "Catastrophic events, including global pandemics, could adversely affect our operating "
        "results.",
    ],
    2024: [
        *COMMON_RISKS,
        "Our pending merger with Globex may not close and could adversely affect our share price.",
    ],
}
# fmt: off
FIGURES = {
    2022: {"Revenue": (10_000, 9_000), "Cost of sales": (6_000, 5_500),
          "Net earnings": (1_000, 900)},
    2023: {"Revenue": (12_500, 10_000), "Cost of sales": (6_100, 6_000),
          "Net earnings": (400, 1_000)},
    2024: {"Revenue": (30_000, 12_500), "Cost of sales": (6_200, 6_100),
          "Net earnings": (401, 400)},
}
# fmt: on
MDNA = {
    2022: "Revenue grew because store traffic rose in every region and our online channel expanded "
    "steadily during the year while costs stayed flat across the company.",
    2023: "Revenue grew because online orders through our new marketplace surged while store "
    "traffic fell in two regions and freight costs rose sharply during the year across the "
    "company.",
    2024: "Revenue tripled because of the Globex supply agreement while store traffic fell in two "
    "regions and freight costs rose sharply during the year across the company.",
}

MDNA_TAIL = (
    " and the board expects the same pattern of demand to hold for the next fiscal year and the "
    "one after it as well."
)


def filing_text(year: int) -> str:
    """A small 10-K: cover, risk factors, MD&A, an income statement, one page each."""
    risk = "Item 1A. Risk Factors.\n" + "".join(f"{r}\n{BODY}" for r in RISKS[year])
    mdna = (
        "Item 7. Management's Discussion and Analysis of Financial Condition and Results of "
        f"Operations.\n{textwrap.fill(MDNA[year] + MDNA_TAIL, 200)}\n{BODY}"
    )
    rows = "\n".join(f"{label} {a:,} {b:,}" for label, (a, b) in FIGURES[year].items())
    statement = f"Consolidated Statements of Earnings\n$ in millions {year} {year - 1}\n{rows}\n"
    cover = (
        f"ACME Corp Annual Report on Form 10-K for fiscal {year}\nItem 8. Financial Statements.\n"
    )
    return "\f".join([cover, risk, mdna, statement])


@pytest.fixture
def acme_runtime(runtime, tmp_path: Path):  # noqa: ANN001, ANN201
    """A runtime with ACME's three 10-Ks indexed and an analyst on each side of the barrier."""
    for year, groups in ((2022, ["public"]), (2023, ["public"]), (2024, ["deal-team"])):
        path = tmp_path / f"ACME_{year}_10K.txt"
        path.write_text(filing_text(year), encoding="utf-8")
        runtime.documents.ingest(
            [path], groups=groups, uploaded_by="admin", issuer="ACME",
            doc_date=f"{year}-12-31", doc_type="10-K",
        )  # fmt: skip
    runtime.users.add("pub", "analyst", ("public",), exist_ok=True)
    runtime.users.add("deal", "analyst", ("public", "deal-team"), exist_ok=True)
    return runtime
