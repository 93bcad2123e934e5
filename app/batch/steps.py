"""The computing steps of the overnight batch, each calling the tools an on-request answer calls.

Risk comes from ``tools.risk.risk_metrics`` and loan PDs from the approved PD model's scorecard, so
every number in the morning report equals what the tools return when asked for it directly. Each
step returns plain rows for the result tables plus a JSON part that goes into the run's payload.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from app.batch.limits import Limits, usage
from tools import batch_store, book, credit, inputs, scorecard
from tools.registry import ModelRegistry
from tools.risk import risk_metrics

CONFIDENCES = (0.95, 0.99)
LOOKBACK_DAYS = 1000  # the risk tool's default history; the backtest uses the same window


@dataclass
class Results:
    """What the steps produced: result-table rows and the JSON payload, filled step by step."""

    tables: dict[str, list[tuple[Any, ...]]] = field(
        default_factory=lambda: {t: [] for t in batch_store.RESULT_TABLES}
    )
    payload: dict[str, Any] = field(default_factory=dict)

    def exception(
        self, kind: str, severity: str, detail: str, portfolio: str | None = None,
        ticker: str | None = None,
    ) -> None:  # fmt: skip
        """Add one reconciliation / data-quality exception."""
        self.tables["batch_exceptions"].append((kind, severity, portfolio, ticker, detail))


def holdings(
    con: Any, as_of: date, stale_days: int, out: Results
) -> dict[str, tuple[date, dict[str, float]]]:
    """Holdings of every portfolio known at ``as_of``; missing/stale prices become exceptions.

    Returns the portfolios whose every position has a price (the ones risk can be measured for).
    """
    for name, first in batch_store.portfolios_later(con, as_of).items():
        out.exception(
            "no_holdings", "info", f"no holdings known on or before {as_of}; the first are dated "
            f"{first}", portfolio=name,
        )  # fmt: skip
    priced: dict[str, tuple[date, dict[str, float]]] = {}
    for name in batch_store.portfolios_held(con, as_of):
        held_at, quantities = inputs.portfolio_positions(con, name, as_of)
        prices = batch_store.price_status(con, list(quantities), as_of)
        missing = False
        for ticker, quantity in quantities.items():
            price_date, price = prices[ticker]
            out.tables["batch_holdings"].append(
                (name, ticker, quantity, held_at, price, price_date)
            )
            if price_date is None:
                missing = True
                out.exception(
                    "missing_price", "error", f"no price of {ticker} on or before {as_of}; the "
                    "portfolio's risk is not measured", portfolio=name, ticker=ticker,
                )  # fmt: skip
            elif (as_of - price_date).days > stale_days:
                out.exception(
                    "stale_price", "warning", f"last price of {ticker} is {price_date} "
                    f"({(as_of - price_date).days} days before {as_of}; limit {stale_days})",
                    portfolio=name, ticker=ticker,
                )  # fmt: skip
        if not missing:
            priced[name] = (held_at, quantities)
    return priced


def risk(
    con: Any, registry: ModelRegistry, as_of: date, portfolios: list[str], limits: Limits,
    out: Results,
) -> dict[str, dict[str, float]]:  # fmt: skip
    """VaR/ES at 95% and 99%, exposures by ticker and sector, limit usage; returns the weights."""
    weights: dict[str, dict[str, float]] = {}
    part: dict[str, Any] = {}
    for name in portfolios:
        request = {"portfolio": name, "as_of": as_of, "lookback_days": LOOKBACK_DAYS}
        by_conf = {c: risk_metrics(con, registry, request | {"confidence": c}) for c in CONFIDENCES}
        for c, res in by_conf.items():
            for metric, value in sorted(res["values"].items()):
                if isinstance(value, int | float) and not isinstance(value, bool):
                    out.tables["batch_risk"].append((name, c, metric, float(value)))
        top = by_conf[0.99]
        weights[name] = {row["ticker"]: row["weight"] for row in top["exposure"]}
        for row in top["exposure"]:
            out.tables["batch_exposures"].append(
                (name, "ticker", row["ticker"], row["market_value_usd"], row["weight"],
                 row["component_var_normal_usd"])
            )  # fmt: skip
        sectors = book.exposure_by_sector(top["exposure"], limits.sectors)
        for row in sectors:
            out.tables["batch_exposures"].append(
                (name, "sector", row["sector"], row["market_value_usd"], row["weight"],
                 row["component_var_normal_usd"])
            )  # fmt: skip
        measured = {
            "var_99_usd": top["values"]["var_historical_usd"],
            "es_99_usd": top["values"]["es_historical_usd"],
            "var_95_usd": by_conf[0.95]["values"]["var_historical_usd"],
            "max_single_name_weight": max(weights[name].values()),
            "max_sector_weight": max(r["weight"] for r in sectors),
        }
        if top["as_of"] != as_of.isoformat():
            out.exception(
                "risk_window", "warning", f"risk is measured on returns up to {top['as_of']}, "
                f"not {as_of}: a position's price history ends early", portfolio=name,
            )  # fmt: skip
        for flag in top["out_of_domain"]:
            out.exception("out_of_domain", "warning", flag["message"], portfolio=name)
        part[name] = {
            "model": top["model"], "validation": top["validation"], "as_of": top["as_of"],
            "window": top["window"], "target": top["target"], "inputs": top["inputs"],
            "out_of_domain": top["out_of_domain"], "limits": usage(limits, name, measured),
        }  # fmt: skip
    out.payload["risk"] = part
    return weights


def backtests(con: Any, as_of: date, weights: dict[str, dict[str, float]], out: Results) -> None:
    """250-day hypothetical VaR backtest of each portfolio's current weights, Basel light."""
    part: dict[str, Any] = {}
    values = {
        (p, m): v
        for p, c, m, v in out.tables["batch_risk"]
        if m == "market_value_usd" and c == 0.99
    }
    for name, w in weights.items():
        # Up to the risk window's end: a stale price history ends the backtest where it ends.
        end = date.fromisoformat(out.payload["risk"][name]["as_of"])
        bt = book.hypothetical_backtest(con, w, end, window=LOOKBACK_DAYS)
        value = values[(name, "market_value_usd")]
        for d, r, v95, v99 in zip(
            bt["dates"], bt["returns"], bt["var"]["0.95"], bt["var"]["0.99"], strict=True
        ):
            out.tables["batch_backtest"].append(
                (name, date.fromisoformat(d), r * value, v95 * value, v99 * value)
            )
        part[name] = {k: bt[k] for k in ("exceptions", "basel_zone", "window", "method")}
        part[name]["days"] = len(bt["dates"])
    out.payload["backtest"] = part


def loan_pds(con: Any, registry: ModelRegistry, out: Results) -> None:
    """PD of every loan by the approved PD model (vectorized scorecard, same artefact)."""
    mv = registry.approved(credit.NAME)
    card = registry.artefact(mv)["scorecard"]
    frame = credit.loans_frame(con)
    pds = scorecard.probability(card, frame)
    rows = frame[list(scorecard.FIELDS)].to_dict("records")
    flagged = 0
    for loan_id, pd_value, row in zip(frame["loan_id"], pds, rows, strict=True):
        flags = len(scorecard.domain_flags(card, row))
        flagged += flags > 0
        out.tables["batch_pd"].append((int(loan_id), float(pd_value), flags))
    if flagged:
        out.exception(
            "out_of_domain", "warning", f"{flagged} loan(s) have a field outside the PD model's "
            "training range or a level it never saw",
        )  # fmt: skip
    out.payload["pd"] = {"model": mv.ref, "validation": mv.validation_ref, "loans": len(rows)}


def reconcile_quantities(con: Any, as_of: date, out: Results) -> str | None:
    """Quantity changes against the previous as-of date's current run; returns that run's id."""
    previous = batch_store.previous_current(con, as_of)
    if previous is None:
        return None
    prev_date, prev_run = previous
    before = {
        (r["portfolio"], r["ticker"]): r["quantity"]
        for r in batch_store.result_rows(con, "batch_holdings", prev_run)
    }
    after = {(p, t): q for p, t, q, *_ in out.tables["batch_holdings"]}
    for change in book.quantity_changes(before, after):
        out.exception(
            "quantity_change", "info", f"quantity {_qty(change['before'])} -> "
            f"{_qty(change['after'])} since run {prev_run} ({prev_date})",
            portfolio=change["portfolio"], ticker=change["ticker"],
        )  # fmt: skip
    return prev_run


def _qty(value: float | None) -> str:
    return "none" if value is None else f"{value:,.0f}"
