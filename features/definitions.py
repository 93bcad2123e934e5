"""Every feature Sightline computes, declared once; batch SQL and streaming updates come from here.

A definition's ``version`` is a hash of what determines its values (name, source and its inputs,
the expression tree with every window and parameter), so any change to the computation changes the
version that the answer trail logs; editing a description does not.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cached_property

from features.expressions import Col, Ewma, Lag, Node, absolute, ln, sqrt
from features.rolling import Rolling, RollingBeta
from ingestion.errors import NotFoundError

MARKET_TICKER = "^GSPC"  # beta is measured against the S&P 500 index
MACRO_ENTITY = "US"  # macro features describe the US economy as one entity
TRADING_DAYS = 252  # annualisation factor for daily volatility
OWNER = "features (issue 3)"

# What each source feeds the expressions with; part of every feature's version.
SOURCES: dict[str, str] = {
    "bars": f"prices: adj_close, close, volume by (ticker, date); "
    f"market_log_return = ln(adj_close/previous adj_close) of {MARKET_TICKER} on the same date",
    "quotes": "quotes: bid, ask, bid_size, ask_size by (ticker, ts)",
    "filings": "fundamentals: items of the latest period_end filed on or before the date "
    "(point-in-time by filing_date), by (ticker, filing_date)",
    "macro": f"macro: value of each series observed on the date, entity {MACRO_ENTITY}",
}
ENTITY_KIND = {"bars": "ticker", "quotes": "ticker", "filings": "issuer", "macro": "macro"}


@dataclass(frozen=True)
class FeatureDefinition:
    """One feature: what it means, where it comes from and how it is computed."""

    name: str
    source: str  # a key of SOURCES
    expr: Node
    unit: str
    description: str
    window: str  # human-readable window, e.g. "20 trading days"
    owner: str = OWNER

    @property
    def entity_kind(self) -> str:
        """ticker, issuer or macro."""
        return ENTITY_KIND[self.source]

    @cached_property
    def version(self) -> str:
        """First 12 hex digits of sha256 over the computational definition."""
        text = "\n".join([self.name, self.source, SOURCES[self.source], self.expr.key()])
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]

    def to_dict(self) -> dict[str, object]:
        """JSON-ready description (without freshness)."""
        return {
            "name": self.name,
            "version": self.version,
            "entity_kind": self.entity_kind,
            "source": self.source,
            "unit": self.unit,
            "window": self.window,
            "owner": self.owner,
            "description": self.description,
            "expression": self.expr.key(),
        }


def _definitions() -> list[FeatureDefinition]:
    price = Col("adj_close")
    r = ln(price / Lag(price))
    dollar_volume = Col("close") * Col("volume")
    mid = (Col("ask") + Col("bid")) / 2.0
    assets = Col("total_assets")
    x1 = (Col("current_assets") - Col("current_liabilities")) / assets
    x2 = Col("retained_earnings") / assets
    x3 = Col("operating_income") / assets
    x4 = Col("total_equity") / Col("total_liabilities")
    ann = float(TRADING_DAYS) ** 0.5
    return [
        FeatureDefinition(
            "log_return_1d",
            "bars",
            r,
            "log return",
            "ln(adj_close / previous adj_close): the entity's previous bar, however many "
            "calendar days back",
            "1 bar",
        ),
        FeatureDefinition(
            "realized_vol_20d",
            "bars",
            Rolling("std", r, 20, 20) * ann,
            "annualized fraction",
            "Sample standard deviation (n-1) of the last 20 daily log returns times sqrt(252); "
            "needs all 20",
            "20 trading days",
        ),
        FeatureDefinition(
            "realized_vol_60d",
            "bars",
            Rolling("std", r, 60, 60) * ann,
            "annualized fraction",
            "Sample standard deviation (n-1) of the last 60 daily log returns times sqrt(252); "
            "needs all 60",
            "60 trading days",
        ),
        FeatureDefinition(
            "ewma_vol",
            "bars",
            sqrt(Ewma(r * r, 0.94, 20) * float(TRADING_DAYS)),
            "annualized fraction",
            "RiskMetrics EWMA volatility, lambda 0.94, zero mean: var = 0.94*var + 0.06*r^2, "
            "seeded with the first squared return, times 252, square root; shown after 20 returns",
            "exponential, lambda 0.94 (half-life ~11 days)",
        ),
        FeatureDefinition(
            "max_drawdown_252d",
            "bars",
            Rolling("min", price / Rolling("max", price, 252, 1) - 1.0, 252, 252),
            "fraction",
            "Deepest fall of adj_close below its trailing 252-bar high seen over the last 252 "
            "bars (negative, e.g. -0.35 = 35% below the high); the high may lie up to 502 bars "
            "before the date",
            "252 trading days",
        ),
        FeatureDefinition(
            "beta_252d",
            "bars",
            RollingBeta(r, Col("market_log_return"), 252, 200),
            "ratio",
            f"OLS slope of the daily log return on the {MARKET_TICKER} log return of the same "
            "date, over the last 252 bars; needs at least 200 days where both exist",
            "252 trading days",
        ),
        FeatureDefinition(
            "amihud_illiquidity_20d",
            "bars",
            Rolling("mean", absolute(r) / dollar_volume * 1e6, 20, 20),
            "|return| per USD million",
            "Amihud illiquidity: mean over the last 20 bars of |log return| / (raw close x volume),"
            " per USD million traded; only where raw close and volume exist",
            "20 trading days",
        ),
        FeatureDefinition(
            "adv_usd_20d",
            "bars",
            Rolling("mean", dollar_volume, 20, 20),
            "USD",
            "Average daily dollar volume: mean of raw close x volume over the last 20 bars; only "
            "where raw close and volume exist",
            "20 trading days",
        ),
        FeatureDefinition(
            "quoted_spread_bps",
            "quotes",
            Rolling("mean", (Col("ask") - Col("bid")) / mid * 1e4, 100, 1),
            "bps",
            "Mean quoted spread (ask - bid) / mid x 10,000 over the last 100 top-of-book quotes",
            "100 quotes",
        ),
        FeatureDefinition(
            "quoted_depth",
            "quotes",
            Rolling("mean", Col("bid_size") + Col("ask_size"), 100, 1),
            "shares",
            "Mean top-of-book depth (bid_size + ask_size) over the last 100 quotes",
            "100 quotes",
        ),
        FeatureDefinition(
            "leverage",
            "filings",
            Col("total_liabilities") / assets,
            "ratio",
            "Total liabilities / total assets of the latest period known at the date",
            "latest filing",
        ),
        FeatureDefinition(
            "altman_x1_working_capital_to_assets",
            "filings",
            x1,
            "ratio",
            "Altman X1: (current assets - current liabilities) / total assets",
            "latest filing",
        ),
        FeatureDefinition(
            "altman_x2_retained_earnings_to_assets",
            "filings",
            x2,
            "ratio",
            "Altman X2: retained earnings / total assets",
            "latest filing",
        ),
        FeatureDefinition(
            "altman_x3_ebit_to_assets",
            "filings",
            x3,
            "ratio",
            "Altman X3: EBIT / total assets, EBIT taken as reported operating income",
            "latest filing",
        ),
        FeatureDefinition(
            "altman_x4_book_equity_to_liabilities",
            "filings",
            x4,
            "ratio",
            "Altman X4 in the Z'' form: book equity / total liabilities (the original Z uses "
            "market value of equity, which needs a share price at the filing date)",
            "latest filing",
        ),
        FeatureDefinition(
            "altman_x5_sales_to_assets",
            "filings",
            Col("revenue") / assets,
            "ratio",
            "Altman X5: revenue / total assets",
            "latest filing",
        ),
        FeatureDefinition(
            "altman_z_double_prime",
            "filings",
            x1 * 6.56 + x2 * 3.26 + x3 * 6.72 + x4 * 1.05,
            "score",
            "Altman Z'' (1995, non-manufacturers): 6.56 X1 + 3.26 X2 + 6.72 X3 + 1.05 X4;"
            " below 1.1 distress zone, above 2.6 safe zone",
            "latest filing",
        ),
        FeatureDefinition(
            "credit_spread_baa_aaa",
            "macro",
            Col("baa") - Col("aaa"),
            "percentage points",
            "Moody's BAA minus AAA corporate bond yield, on month-ends where both are observed",
            "1 month",
        ),
        FeatureDefinition(
            "term_spread",
            "macro",
            Col("aaa") - Col("tbilrate"),
            "percentage points",
            "PROXY: Moody's AAA corporate yield minus the 3-month T-bill rate, on quarter-ends "
            "where both exist (1959-2009). No long-term Treasury yield ships with the data, so "
            "this long-minus-short spread also holds the (small) AAA credit premium",
            "1 quarter",
        ),
    ]


_CACHE: list[FeatureDefinition] = []


def all_features() -> list[FeatureDefinition]:
    """Every declared feature, in display order."""
    if not _CACHE:
        _CACHE.extend(_definitions())
    return list(_CACHE)


def feature(name: str) -> FeatureDefinition:
    """The feature called ``name``; unknown names raise NotFoundError listing the known ones."""
    for definition in all_features():
        if definition.name == name:
            return definition
    raise NotFoundError(
        f"unknown feature '{name}'",
        hint="known features: " + ", ".join(d.name for d in all_features()),
    )


def select(names: list[str] | tuple[str, ...] | None) -> list[FeatureDefinition]:
    """The named features (all when ``names`` is empty or None), in display order."""
    if not names:
        return all_features()
    wanted = {feature(n).name for n in names}
    return [d for d in all_features() if d.name in wanted]


def by_source(definitions: list[FeatureDefinition]) -> dict[str, list[FeatureDefinition]]:
    """Group definitions by source, keeping the order of SOURCES."""
    out: dict[str, list[FeatureDefinition]] = {}
    for source in SOURCES:
        group = [d for d in definitions if d.source == source]
        if group:
            out[source] = group
    return out
