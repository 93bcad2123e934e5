"""Hand-written phrasings for the analyst generalization set, as analysts and risk managers ask.

Written from how desks word requests (terse chat, e-mail style, full sentences, names or
tickers, several date styles), not from the offline planner's templates, which the author of
this file has not read. Slots: ``{t}`` a company (ticker or name), ``{o}`` a second company,
``{d}`` a date, ``{p}`` a period phrase ("in 2011", "over Q3 2011", "between ... and ..."),
``{s}``/``{e}`` window ends, ``{n}`` a count, ``{m}`` a macro series name, ``{m2}`` a second one,
``{fy}`` a fiscal year phrase, ``{item}`` a line item name, ``{c}`` a confidence, ``{h}`` days.
"""

from __future__ import annotations

NAMES = {
    "AAPL": ["Apple", "Apple Inc."],
    "AMD": ["AMD", "Advanced Micro Devices"],
    "BAC": ["Bank of America"],
    "BBY": ["Best Buy"],
    "CVX": ["Chevron"],
    "GE": ["General Electric", "GE"],
    "GOOG": ["Google", "Alphabet"],
    "HD": ["Home Depot", "The Home Depot"],
    "IBM": ["IBM"],
    "JNJ": ["Johnson & Johnson", "J&J"],
    "JPM": ["JPMorgan", "JPMorgan Chase"],
    "KO": ["Coca-Cola", "Coke"],
    "LLY": ["Eli Lilly", "Lilly"],
    "MRK": ["Merck"],
    "MSFT": ["Microsoft"],
    "PEP": ["PepsiCo", "Pepsi"],
    "PFE": ["Pfizer"],
    "PG": ["Procter & Gamble", "P&G"],
    "RRC": ["Range Resources"],
    "UNH": ["UnitedHealth", "UnitedHealth Group"],
    "WMT": ["Walmart", "Wal-Mart"],
    "XOM": ["Exxon Mobil", "ExxonMobil", "Exxon"],
    "^GSPC": ["the S&P 500", "the S&P 500 index", "SPX"],
    "^IXIC": ["the Nasdaq Composite", "the Nasdaq"],
}

MACRO_NAMES = {
    "aaa": ["Moody's Aaa corporate bond yield", "the AAA corporate yield", "Aaa yield"],
    "baa": ["Moody's Baa corporate bond yield", "the BAA corporate yield", "Baa yield"],
    "brent": ["Brent crude (monthly average)", "the Brent oil price", "Brent"],
    "core_cpi": ["core CPI", "the US core CPI index", "core consumer prices (index)"],
    "unemp": ["the US unemployment rate", "unemployment", "the jobless rate"],
    "cpi": ["CPI", "the consumer price index", "US CPI"],
    "realgdp": ["real GDP", "US real GDP", "real gross domestic product"],
    "tbilrate": ["the 3-month T-bill rate", "the Treasury bill rate", "T-bill yields"],
    "infl": ["inflation", "the annualised inflation rate", "US inflation"],
    "m1": ["M1", "the M1 money supply", "narrow money (M1)"],
    "pop": ["US population", "the population of the US"],
    "realcons": ["real personal consumption", "real consumer spending"],
    "vix": ["the VIX", "VIX", "the CBOE volatility index"],
    "wti": ["WTI", "WTI crude", "the West Texas Intermediate oil price"],
}

ITEM_NAMES = {
    "revenue": ["revenue", "total revenue", "sales"],
    "net_income": ["net income", "net profit", "bottom-line earnings"],
    "total_assets": ["total assets", "assets"],
    "total_liabilities": ["total liabilities"],
    "total_equity": ["shareholders' equity", "total equity", "book equity"],
    "cash_and_equivalents": ["cash and cash equivalents", "cash on hand"],
    "current_assets": ["current assets", "total current assets"],
    "current_liabilities": ["current liabilities", "total current liabilities"],
    "operating_income": ["operating income", "operating profit"],
    "retained_earnings": ["retained earnings"],
    "shares_outstanding": ["shares outstanding", "share count"],
}

P: dict[str, list[str]] = {
    # ---------------------------------------------------------------- market data
    "price_on": [
        "What did {t} close at on {d}?",
        "{t} closing price {d}",
        "Can you pull the close for {t} on {d}?",
        "Where did {t} finish trading on {d}?",
        "What was the share price of {t} at the close on {d}?",
        "{t} stock price on {d}, please",
        "I need {t}'s end-of-day price for {d}.",
        "How much was one {t} share worth at the close of {d}?",
        "Closing level of {t} as of {d}?",
        "what was {t} trading at (close) on {d}",
    ],
    "adj_close_on": [
        "What was {t}'s adjusted close on {d}?",
        "Adjusted closing price for {t}, {d}?",
        "Give me the split- and dividend-adjusted close of {t} on {d}.",
        "{t} adj close {d}",
    ],
    "index_on": [
        "Where did {t} close on {d}?",
        "What level was {t} at on {d}?",
        "{t} close on {d}?",
        "Tell me the closing value of {t} for {d}.",
    ],
    "volume_on": [
        "How many {t} shares traded on {d}?",
        "What was {t}'s trading volume on {d}?",
        "{t} volume {d}",
        "Share volume for {t} on {d}, please.",
        "How heavy was trading in {t} on {d} (shares)?",
    ],
    "high_on": [
        "What was {t}'s intraday high on {d}?",
        "How high did {t} trade during the session on {d}?",
        "{t} day high {d}",
    ],
    "low_on": [
        "What was the intraday low for {t} on {d}?",
        "How low did {t} go during trading on {d}?",
        "{t} session low on {d}?",
    ],
    "open_on": [
        "What did {t} open at on {d}?",
        "{t} opening price {d}",
    ],
    "daily_return": [
        "How much did {t} move on {d}?",
        "What was {t}'s one-day return on {d}?",
        "Percentage change in {t} on {d} versus the prior close?",
        "Did {t} go up or down on {d}, and by how much?",
        "{t} daily return {d}",
        "By what percent did {t} shares change on {d}?",
    ],
    "price_change": [
        "By how many dollars did {t}'s price change between {s} and {e}?",
        "What was the dollar change in {t}'s adjusted close from {s} to {e}?",
        "{t}: price on {e} minus price on {s}?",
        "How much did the {t} share price (adjusted) rise or fall in dollars from {s} to {e}?",
    ],
    # ---------------------------------------------------------------- features at a date
    "feature_at:realized_vol_20d": [
        "What was {t}'s 20-day realized volatility on {d}?",
        "1-month realised vol for {t} as of {d} (20 trading days)?",
        "{t} 20d realized vol at {d}",
        "How volatile was {t} over the 20 trading days to {d}, annualized?",
        "Annualized 20-day historical volatility of {t} on {d}?",
    ],
    "feature_at:realized_vol_60d": [
        "What was {t}'s 60-day realized volatility as of {d}?",
        "{t} 60-day historical vol on {d}",
        "Three-month (60 trading day) realised volatility of {t} at {d}?",
        "Tell me the annualized 60d vol for {t} on {d}.",
    ],
    "feature_at:ewma_vol": [
        "What was the EWMA volatility of {t} on {d}?",
        "RiskMetrics (lambda 0.94) vol for {t} as of {d}?",
        "{t} exponentially weighted volatility at {d}",
    ],
    "feature_at:beta_252d": [
        "What was {t}'s one-year beta to the S&P 500 as of {d}?",
        "{t} 252-day beta on {d}",
        "How sensitive was {t} to the market (trailing 1y beta) on {d}?",
        "Beta of {t} versus SPX over the year to {d}?",
    ],
    "feature_at:max_drawdown_252d": [
        "What was {t}'s 252-day max drawdown as of {d}?",
        "Trailing one-year maximum drawdown for {t} at {d}?",
        "{t} max drawdown (252d rolling) on {d}",
    ],
    "feature_at:adv_usd_20d": [
        "What was {t}'s 20-day average daily dollar volume on {d}?",
        "{t} ADV in USD (20 days) as of {d}",
        "How much {t} stock, in dollars, traded per day on average over the 20 sessions to {d}?",
    ],
    "feature_at:amihud_illiquidity_20d": [
        "What was the 20-day Amihud illiquidity of {t} on {d}?",
        "{t} Amihud illiquidity measure (20d) at {d}",
        "How illiquid was {t} on {d} by the 20-day Amihud ratio?",
    ],
    # ---------------------------------------------------------------- explicit windows
    "window_return": [
        "What was {t}'s total return {p}?",
        "How much did {t} gain or lose {p}?",
        "{t} performance {p}?",
        "What return did {t} stock deliver {p}?",
        "Percent change in {t}'s share price {p}?",
        "How did {t} do {p}, in percent?",
        "If I had held {t} {p}, what would my return have been?",
    ],
    "window_drawdown": [
        "What was {t}'s maximum drawdown {p}?",
        "Worst peak-to-trough fall in {t} {p}?",
        "How deep was {t}'s biggest drawdown {p}?",
        "{t} max drawdown {p}",
        "From peak to trough, how much did {t} lose at worst {p}?",
    ],
    "window_vol": [
        "What was {t}'s realized volatility {p}?",
        "Annualized volatility of {t}'s daily returns {p}?",
        "How volatile was {t} {p}?",
        "{t} realised vol {p}, annualised",
        "Standard deviation of {t} daily returns {p}, annualized?",
    ],
    "window_volume": [
        "What was {t}'s average daily trading volume {p}?",
        "On average, how many {t} shares changed hands per day {p}?",
        "{t} average volume {p}",
        "Mean daily share volume for {t} {p}?",
    ],
    "window_correlation": [
        "What was the correlation between {t} and {o} daily returns {p}?",
        "How correlated were {t} and {o} {p}?",
        "Correlation of {t} vs {o} {p}?",
        "Did {t} and {o} move together {p}? Give me the return correlation.",
    ],
    "window_beta": [
        "What was {t}'s beta to the S&P 500 {p}?",
        "Beta of {t} against the market {p}?",
        "{t} beta vs SPX {p}",
        "Regressing {t} daily returns on the S&P 500 {p}, what's the beta?",
    ],
    "window_high": [
        "What was {t}'s highest closing price {p}?",
        "Where did {t} peak {p}?",
        "{t} high {p}",
        "What was the top price {t} reached {p}?",
    ],
    "window_low": [
        "What was {t}'s lowest closing price {p}?",
        "How low did {t} get {p}?",
        "{t} low {p}",
        "Bottom price for {t} {p}?",
    ],
    "ranking:best:1": [
        "Which stock had the best return {p}?",
        "Top performing stock {p}?",
        "Which of our stocks rose the most {p}?",
        "Best performer in the universe {p}?",
    ],
    "ranking:worst:1": [
        "Which stock performed worst {p}?",
        "Biggest loser among the stocks {p}?",
        "Which stock had the lowest return {p}?",
    ],
    "ranking:best:n": [
        "What were the top {n} stocks by return {p}?",
        "Rank the stocks by return {p} and give me the top {n}.",
        "Which {n} stocks did best {p}?",
    ],
    "ranking:worst:n": [
        "Which {n} stocks had the worst returns {p}?",
        "Bottom {n} performers {p}?",
    ],
    # ---------------------------------------------------------------- macro
    "macro_at:month": [
        "What was {m} in {d}?",
        "{m} for {d}?",
        "Where was {m} in {d}?",
        "Give me {m}, {d} reading.",
        "What level did {m} stand at in {d}?",
    ],
    "macro_at:quarter": [
        "What was {m} in {d}?",
        "{m}, {d}?",
        "What did {m} read for {d}?",
        "Tell me {m} for {d}.",
        "Where was {m} in {d}?",
    ],
    "macro_at:day": [
        "Where was {m} on {d}?",
        "What was {m} on {d}?",
        "{m} level {d}",
        "Value of {m} on {d}?",
    ],
    "macro_at:year_end": [
        "What was {m} at the end of {d}?",
        "{m} at year-end {d}?",
        "Where did {m} finish {d}?",
    ],
    "macro_at:year_mean": [
        "What was the average of {m} over {d}?",
        "Mean {m} during {d}?",
        "{m}, {d} average?",
    ],
    "macro_spread": [
        "What was the spread between {m} and {m2} in {d}?",
        "How much higher was {m} than {m2} in {d}?",
        "{m} minus {m2}, {d}?",
        "Difference between {m} and {m2} for {d}?",
    ],
    "macro_change:diff": [
        "By how much did {m} change from {s} to {e}?",
        "Change in {m} between {s} and {e}?",
        "How many points did {m} move from {s} to {e}?",
    ],
    "macro_change:growth": [
        "By what percent did {m} grow from {s} to {e}?",
        "Percentage growth in {m} between {s} and {e}?",
        "How much did {m} increase, in percent, from {s} to {e}?",
    ],
    # ---------------------------------------------------------------- fundamentals
    "fundamental": [
        "What was {t}'s {item} in {fy}?",
        "{t} {item}, {fy}?",
        "What figure did {t} report for {item} in {fy}?",
        "Pull {t}'s {item} for {fy}.",
        "What did {t} report as {item} in {fy}?",
    ],
    "ratio:current_ratio": [
        "What was {t}'s current ratio in {fy}?",
        "{t} current assets over current liabilities, {fy}?",
        "Liquidity check: {t}'s current ratio for {fy}?",
    ],
    "ratio:debt_to_assets": [
        "What share of {t}'s assets were financed by liabilities in {fy}?",
        "{t} total liabilities to total assets, {fy}?",
    ],
    "ratio:liabilities_to_equity": [
        "What was {t}'s liabilities-to-equity ratio in {fy}?",
        "{t} total liabilities divided by shareholders' equity for {fy}?",
    ],
    "ratio:net_margin": [
        "What was {t}'s net profit margin in {fy}?",
        "{t} net income as a share of revenue, {fy}?",
        "Net margin for {t}, {fy}?",
    ],
    "ratio:operating_margin": [
        "What was {t}'s operating margin in {fy}?",
        "{t} operating income over revenue, {fy}?",
    ],
    "ratio:return_on_equity": [
        "What was {t}'s return on equity in {fy} (net income / year-end equity)?",
        "{t} ROE for {fy}, using year-end equity?",
    ],
    "ratio:return_on_assets": [
        "What was {t}'s return on assets in {fy} (net income over year-end assets)?",
        "{t} ROA {fy}, on year-end total assets?",
    ],
    "ratio:cash_to_assets": [
        "What fraction of {t}'s total assets was cash and equivalents in {fy}?",
        "{t} cash as a share of total assets, {fy}?",
    ],
    "ratio:working_capital": [
        "What was {t}'s working capital in {fy}?",
        "{t} current assets minus current liabilities for {fy}?",
    ],
    "growth": [
        "How much did {t}'s {item} grow in {fy} versus the prior year?",
        "Year-over-year change in {t} {item}, {fy}?",
        "What was {t}'s {item} growth in {fy}, in percent?",
    ],
    # ---------------------------------------------------------------- models
    "historical_var": [
        "What is the {c} {h}-day historical VaR of {t}?",
        "Historical-simulation VaR for {t} at {c}, {h}-day horizon?",
        "{t} {h}d {c} VaR (historical)",
    ],
    "var_any": [
        "What's the {c} {h}-day VaR of {t}?",
        "Value at risk for a position in {t}, {c} confidence, {h} day(s)?",
    ],
    "historical_es": [
        "What is the {c} {h}-day historical expected shortfall of {t}?",
        "Historical ES (CVaR) of {t} at {c}, {h}-day?",
    ],
    "merton:dd": [
        "What is {t}'s Merton distance to default?",
        "How far is {t} from default (distance to default, Merton model)?",
        "{t} distance-to-default?",
    ],
    "loans_stat:default_rate": [
        "What share of the loans in the book defaulted?",
        "Overall default rate in the loan data?",
        "What fraction of all loans went into default?",
    ],
    "loans_stat:default_rate:purpose": [
        "What was the default rate for loans taken out for {purpose}?",
        "Among loans for {purpose}, what share defaulted?",
    ],
    "loans_stat:count:purpose": [
        "How many loans in the book are for {purpose}?",
        "Number of loans taken out for {purpose} in the loan data?",
    ],
    "loans_stat:mean_amount": [
        "What is the average credit amount across all loans?",
        "Mean loan size in the loan book?",
    ],
    "loans_stat:mean_duration": [
        "What is the average loan duration in months?",
        "On average, how long (months) do the loans in the data run?",
    ],
}
