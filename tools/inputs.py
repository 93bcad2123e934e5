"""What the model tools read from the warehouse, each value with its as-of date for the trail.

Feature values (returns, equity volatility) come through the feature store's point-in-time API,
never recomputed here (one definition per feature). Raw table facts the models need (prices for
market values, positions, filed fundamentals) are read point-in-time from their tables: a
fundamental is only used once its filing date has passed.
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np

from tools.errors import InsufficientData, UnknownEntity
from tools.risk_math import Array

LOG_RETURN = "log_return_1d"  # the feature store's 1-day log return
EQUITY_VOL = "realized_vol_60d"  # annualized realized volatility, used as Merton's equity vol
MARKET = "^GSPC"


@dataclass(frozen=True)
class Series:
    """A feature's history for one entity: dates, values and the input record that stands for it."""

    entity: str
    feature: str
    version: str
    dates: list[date]
    values: Array

    @functools.cached_property
    def days(self) -> np.ndarray:
        """The dates as days since 1970-01-01 (int64), for fast alignment."""
        return np.array(self.dates, dtype="datetime64[D]").view(np.int64)

    def on(self, days: np.ndarray) -> Series:
        """This series restricted to ``days`` (ordinals that it must all hold)."""
        idx = np.searchsorted(self.days, days)
        picked = [self.dates[i] for i in idx]
        return Series(self.entity, self.feature, self.version, picked, self.values[idx])

    def record(self) -> dict[str, Any]:
        """FeatureValue-like dict for the trail: the last value plus the window and its sha256.

        The sha256 covers the values and their dates (as day ordinals), so a replay can tell
        whether it read exactly the same window.
        """
        digest = hashlib.sha256()
        digest.update(np.ascontiguousarray(self.values).tobytes())
        digest.update(self.days.tobytes())
        return {
            "entity": self.entity,
            "feature": self.feature,
            "version": self.version,
            "as_of": self.dates[-1].isoformat(),
            "value": float(self.values[-1]),
            "window_start": self.dates[0].isoformat(),
            "observations": len(self.dates),
            "values_sha256": digest.hexdigest(),
        }


def feature_value_record(fv: Any) -> dict[str, Any]:
    """A features.values.FeatureValue as the trail's dict."""
    return {
        "entity": fv.entity,
        "feature": fv.feature,
        "version": fv.version,
        "as_of": fv.as_of.isoformat(),
        "value": None if fv.value is None else float(fv.value),
    }


def table_record(entity: str, item: str, as_of: date, value: float, source: str) -> dict[str, Any]:
    """A raw table fact in the same shape as a feature value (version names the table row)."""
    return {
        "entity": entity,
        "feature": item,
        "version": source,
        "as_of": as_of.isoformat(),
        "value": float(value),
    }


def require_ticker(con: Any, ticker: str) -> None:
    """UnknownEntity unless the prices table holds ``ticker``."""
    row = con.execute("SELECT 1 FROM prices WHERE ticker = ? LIMIT 1", [ticker]).fetchall()
    if not row:
        raise UnknownEntity(
            f"unknown ticker '{ticker}': the prices table holds no such ticker",
            hint="check the symbol (indices start with ^, e.g. ^GSPC)",
        )


def return_history(
    con: Any, ticker: str, start: date | None, end: date | None, *, min_obs: int
) -> Series:
    """The ticker's 1-day log returns from the feature store, oldest first (no missing values)."""
    from features.store import get_feature_history

    require_ticker(con, ticker)
    values = [
        v for v in get_feature_history(con, ticker, LOG_RETURN, start, end) if v.value is not None
    ]
    if len(values) < min_obs:
        raise InsufficientData(
            f"{ticker} has {len(values)} daily returns up to {end or 'the latest date'}; "
            f"this figure needs at least {min_obs}",
            hint="choose a later as_of date or a shorter lookback, or materialize features "
            "(`sightline features materialize`)",
        )
    return Series(
        entity=ticker,
        feature=LOG_RETURN,
        version=values[-1].version,
        dates=[v.as_of for v in values],
        values=np.array([v.value for v in values], dtype=np.float64),
    )


def latest_feature(con: Any, entity: str, feature: str, as_of: date | None) -> Any:
    """The feature store's latest value of ``feature`` for ``entity`` known at ``as_of``."""
    from features.store import get_features

    values = [v for v in get_features(con, [entity], [feature], as_of) if v.value is not None]
    if not values:
        raise InsufficientData(
            f"no value of feature '{feature}' for {entity} known at {as_of or 'the latest date'}",
            hint="choose a later as_of date, or materialize features (`sightline features "
            "materialize`)",
        )
    return values[-1]


def last_price(con: Any, ticker: str, as_of: date | None) -> tuple[date, float]:
    """Latest adjusted close of ``ticker`` on or before ``as_of``."""
    row = con.execute(
        "SELECT date, adj_close FROM prices WHERE ticker = ? AND (? IS NULL OR date <= ?) "
        "ORDER BY date DESC LIMIT 1",
        [ticker, as_of, as_of],
    ).fetchall()
    if not row:
        raise InsufficientData(f"no price of {ticker} on or before {as_of}")
    return row[0][0], float(row[0][1])


def last_prices(con: Any, tickers: list[str], as_of: date | None) -> dict[str, tuple[date, float]]:
    """Latest adjusted close of each ticker on or before ``as_of``, in one query."""
    rows = con.execute(
        "SELECT ticker, date, adj_close FROM prices WHERE ticker IN (SELECT UNNEST(?)) "
        "AND (? IS NULL OR date <= ?) "
        "QUALIFY row_number() OVER (PARTITION BY ticker ORDER BY date DESC) = 1",
        [tickers, as_of, as_of],
    ).fetchall()
    found = {t: (d, float(p)) for t, d, p in rows}
    missing = [t for t in tickers if t not in found]
    if missing:
        raise InsufficientData(f"no price of {', '.join(missing)} on or before {as_of}")
    return found


def portfolio_positions(
    con: Any, portfolio: str, as_of: date | None
) -> tuple[date, dict[str, float]]:
    """The portfolio's holdings (ticker -> quantity) at its latest as_of on or before ``as_of``."""
    row = con.execute(
        "SELECT max(as_of) FROM positions WHERE portfolio = ? AND (? IS NULL OR as_of <= ?)",
        [portfolio, as_of, as_of],
    ).fetchall()
    held_at = row[0][0] if row else None
    if held_at is None:
        raise UnknownEntity(
            f"no positions for portfolio '{portfolio}' on or before {as_of or 'today'}",
            hint="the demo portfolio is 'DEMO'; load holdings with `sightline ingest positions`",
        )
    rows = con.execute(
        "SELECT ticker, quantity FROM positions WHERE portfolio = ? AND as_of = ? ORDER BY ticker",
        [portfolio, held_at],
    ).fetchall()
    return held_at, {t: float(q) for t, q in rows}


def filed_fundamental(con: Any, ticker: str, item: str, as_of: date) -> dict[str, Any]:
    """The latest ``item`` of ``ticker`` whose filing was public on ``as_of`` (point-in-time)."""
    rows = con.execute(
        "SELECT period_end, filing_date, value, unit, source_doc, source_page FROM fundamentals "
        "WHERE ticker = ? AND item = ? AND filing_date <= ? "
        "ORDER BY period_end DESC, filing_date DESC LIMIT 1",
        [ticker, item, as_of],
    ).fetchall()
    if not rows:
        raise InsufficientData(
            f"no {item} of {ticker} was filed on or before {as_of}",
            hint="Merton PD needs total_liabilities and shares_outstanding from a filing made "
            "before the as_of date; load fundamentals or choose a later date",
        )
    period_end, filing_date, value, unit, doc, page = rows[0]
    return {
        "entity": ticker,
        "feature": item,
        "version": f"fundamentals:{doc}#p{page}",
        "as_of": filing_date.isoformat(),
        "period_end": period_end.isoformat(),
        "value": float(value),
        "unit": unit,
    }
