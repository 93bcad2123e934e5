"""The market-risk model as a tool: VaR/ES, volatility, beta, drawdown and exposure, versioned.

``risk_metrics`` serves the approved ``risk`` version from the registry; its fitted parameters
(EWMA lambda, Student-t degrees of freedom, windows) and validated domain come from the version's
artefact. ``train_risk`` fits those parameters on the warehouse's return history up to the end of
1998 and backtests the result out of sample on the S&P 500, 1999-2018.
"""

from __future__ import annotations

import functools
import hashlib
import math
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from tools import backtest, inputs, risk_math
from tools.determinism import deterministic
from tools.errors import InsufficientData
from tools.registry import ModelRegistry, TrainedModel, code_version
from tools.requests import RiskRequest, parse_request

NAME = "risk"
PARAMS: dict[str, Any] = {
    "ewma_lambda": 0.94,
    "hist_window": 500,  # backtest: historical VaR window (trading days)
    "garch_refit_days": 250,  # backtest: GARCH re-estimated once a year
    "garch_fit_window": 2000,
    "min_observations": 250,
    "training_start": "1990-01-01",
    "training_end": "1998-12-31",
    "backtest_start": "1999-01-01",
    "backtest_end": "2018-12-31",
    "backtest_confidences": [0.95, 0.99],
    "validated_confidence": [0.95, 0.99],
    "validated_horizon_days": [1, 10],
}
HORIZON_SCALING = (
    "1-day historical, normal, Student-t and EWMA figures are scaled to {h} trading day(s) by "
    "sqrt({h}) (square-root-of-time: assumes independent, zero-mean daily returns); GARCH figures "
    "use the GARCH(1,1) variance forecast summed over the {h} day(s)."
)


def _code_version() -> str:
    here = Path(__file__).resolve().parent
    return code_version(
        *(here / f for f in ("risk.py", "risk_math.py", "backtest.py", "inputs.py"))
    )


@deterministic
def risk_metrics(
    con: Any,
    registry: ModelRegistry,
    request: RiskRequest | dict[str, Any],
    *,
    replay_version: str | None = None,
) -> dict[str, Any]:
    """Market risk of a ticker, a stored portfolio or ad-hoc weights, by the approved risk model.

    Returns historical, normal and Student-t VaR and ES, EWMA and GARCH(1,1) volatility with their
    VaR/ES, beta to the S&P 500, maximum drawdown and (for portfolios) exposure by position.
    Losses are positive fractions of value (and USD for stored portfolios). The result names the
    model version, every input with its as-of date, out-of-domain flags and the horizon scaling.
    ``replay_version`` is for replaying a logged answer only; agents never choose versions.
    """
    req = parse_request(RiskRequest, request)
    mv = registry.in_use(NAME, replay_version)
    art = registry.artefact(mv)
    records: list[dict[str, Any]] = []
    target, weights, market_values = _target(con, req, records)
    tickers = list(weights)
    as_of = _common_as_of(con, [*tickers, inputs.MARKET], req.as_of)
    start = as_of - timedelta(days=int(req.lookback_days * 1.5) + 14)  # trading -> calendar days
    min_obs = int(art["min_observations"])
    series = {
        t: inputs.return_history(con, t, start, as_of, min_obs=min_obs)
        for t in dict.fromkeys([*tickers, inputs.MARKET])
    }
    days = functools.reduce(np.intersect1d, [s.days for s in series.values()])
    days = days[-req.lookback_days :]
    if len(days) < min_obs:
        raise InsufficientData(
            f"only {len(days)} days with returns for every ticker up to {as_of}; need {min_obs}",
            hint="choose a later as_of date or fewer tickers with short histories",
        )
    used = {t: s.on(days) for t, s in series.items()}
    dates = used[inputs.MARKET].dates
    aligned = {t: s.values for t, s in used.items()}
    records.extend(s.record() for s in used.values())
    simple = np.column_stack([np.expm1(aligned[t]) for t in tickers])
    w = np.array([weights[t] for t in tickers], dtype=np.float64)
    returns = risk_math.portfolio_returns(simple, w)
    market = np.expm1(aligned[inputs.MARKET])

    values = _measures(returns, market, req, art)
    total_value = sum(market_values.values()) if market_values else None
    if total_value is not None:
        for key in [k for k in values if k.startswith(("var_", "es_"))]:
            values[f"{key}_usd"] = values[key] * total_value
        values["market_value_usd"] = total_value
    exposure = (
        []
        if target["kind"] == "ticker"
        else _exposure(tickers, w, simple, market_values, req, values)
    )
    return {
        "tool": "risk_metrics",
        "model": mv.ref,
        "validation": mv.validation_ref,
        "target": target,
        "as_of": dates[-1].isoformat(),
        "confidence": req.confidence,
        "horizon_days": req.horizon_days,
        "window": {"start": dates[0].isoformat(), "end": dates[-1].isoformat(), "days": len(dates)},
        "units": "losses are positive fractions of value; *_usd in US dollars",
        "values": values,
        "exposure": exposure,
        "horizon_scaling": HORIZON_SCALING.format(h=req.horizon_days),
        "inputs": records,
        "out_of_domain": _domain_flags(art["domain"], req, values, len(dates)),
    }


def _target(
    con: Any, req: RiskRequest, records: list[dict[str, Any]]
) -> tuple[dict[str, Any], dict[str, float], dict[str, float]]:
    """What is measured: (description, ticker -> weight, ticker -> market value in USD)."""
    if req.ticker:
        inputs.require_ticker(con, req.ticker)
        return {"kind": "ticker", "ticker": req.ticker}, {req.ticker: 1.0}, {}
    if req.weights:
        for t in req.weights:
            inputs.require_ticker(con, t)
        total = sum(req.weights.values())
        weights = {t: req.weights[t] / total for t in sorted(req.weights)}
        return {"kind": "weights", "weights": weights}, weights, {}
    assert req.portfolio is not None
    held_at, quantities = inputs.portfolio_positions(con, req.portfolio, req.as_of)
    values: dict[str, float] = {}
    prices = inputs.last_prices(con, list(quantities), req.as_of)
    for t, quantity in quantities.items():
        price_date, price = prices[t]
        records.append(inputs.table_record(t, "adj_close", price_date, price, "table:prices"))
        records.append(inputs.table_record(t, "quantity", held_at, quantity, "table:positions"))
        values[t] = quantity * price
    total = sum(values.values())
    if total <= 0:
        raise InsufficientData(
            f"portfolio '{req.portfolio}' has a net market value of {total:,.2f} USD",
            hint="risk as a fraction of value needs a positive net market value",
        )
    weights = {t: v / total for t, v in values.items()}
    target = {"kind": "portfolio", "portfolio": req.portfolio, "positions_as_of": str(held_at)}
    return target, weights, values


def _common_as_of(con: Any, tickers: list[str], as_of: date | None) -> date:
    """The last date on or before ``as_of`` with a price for every ticker."""
    return min(d for d, _ in inputs.last_prices(con, tickers, as_of).values())


def _measures(
    returns: np.ndarray, market: np.ndarray, req: RiskRequest, art: dict[str, Any]
) -> dict[str, Any]:
    c, h = req.confidence, req.horizon_days
    root = math.sqrt(h)
    v: dict[str, Any] = {}
    var_h, es_h = risk_math.historical_var_es(returns, c)
    v["var_historical"], v["es_historical"] = var_h * root, es_h * root
    sigma = float(np.std(returns, ddof=1))
    var_n, es_n = risk_math.normal_var_es(sigma, c)
    v["var_normal"], v["es_normal"] = var_n * root, es_n * root
    var_t, es_t = risk_math.student_t_var_es(sigma, float(art["student_t_nu"]), c)
    v["var_student_t"], v["es_student_t"] = var_t * root, es_t * root
    sigma_ewma = risk_math.ewma_volatility(returns, float(art["ewma_lambda"]))
    var_e, es_e = risk_math.normal_var_es(sigma_ewma, c)
    v["var_ewma_normal"], v["es_ewma_normal"] = var_e * root, es_e * root
    garch = risk_math.garch_forecast(returns, h)
    var_g, es_g = risk_math.normal_var_es(garch.sigma_horizon, c)
    v["var_garch_normal"], v["es_garch_normal"] = var_g, es_g
    annual = math.sqrt(risk_math.TRADING_DAYS)
    v["volatility_sample_annualized"] = sigma * annual
    v["volatility_ewma_annualized"] = sigma_ewma * annual
    v["volatility_garch_annualized"] = garch.sigma_1d * annual
    v["garch_omega"], v["garch_alpha"], v["garch_beta"] = garch.omega, garch.alpha, garch.beta
    v["garch_converged"] = garch.converged
    v["student_t_nu"] = float(art["student_t_nu"])
    v["ewma_lambda"] = float(art["ewma_lambda"])
    v["beta_sp500"] = risk_math.beta_to(returns, market)
    v["max_drawdown"] = risk_math.max_drawdown(returns)
    return v


def _exposure(
    tickers: list[str],
    w: np.ndarray,
    simple: np.ndarray,
    market_values: dict[str, float],
    req: RiskRequest,
    values: dict[str, Any],
) -> list[dict[str, Any]]:
    root = math.sqrt(req.horizon_days)
    components = risk_math.component_var(w, simple, req.confidence) * root
    rows = []
    for i, t in enumerate(tickers):
        standalone, _ = risk_math.historical_var_es(simple[:, i], req.confidence)
        row: dict[str, Any] = {
            "ticker": t,
            "weight": float(w[i]),
            "var_historical_standalone": standalone * root,
            "component_var_normal": float(components[i]),
        }
        if market_values:
            row["market_value_usd"] = market_values[t]
            row["component_var_normal_usd"] = float(components[i]) * values["market_value_usd"]
        rows.append(row)
    return rows


def _domain_flags(
    domain: dict[str, Any], req: RiskRequest, values: dict[str, Any], observations: int
) -> list[dict[str, Any]]:
    """Inputs outside the range the model was validated on (SECURITY.md row 7)."""
    checks = [
        ("confidence", req.confidence, domain["confidence"]),
        ("horizon_days", req.horizon_days, domain["horizon_days"]),
        ("volatility_ewma_annualized", values["volatility_ewma_annualized"],
         domain["volatility_ewma_annualized"]),
    ]  # fmt: skip
    flags = [
        {
            "input": name,
            "value": value,
            "validated_range": list(bounds),
            "message": f"{name} = {value:.4g} is outside the validated range "
            f"[{bounds[0]:.4g}, {bounds[1]:.4g}]; treat the figures with caution",
        }
        for name, value, bounds in checks
        if not bounds[0] <= value <= bounds[1]
    ]
    if observations < domain["observations_min"]:
        flags.append(
            {
                "input": "observations",
                "value": observations,
                "validated_range": [domain["observations_min"], None],
                "message": f"only {observations} days of history; the model was validated with "
                f"at least {domain['observations_min']}",
            }
        )
    if not values["garch_converged"]:
        flags.append(
            {"input": "garch", "value": None, "validated_range": None,
             "message": "the GARCH(1,1) fit did not converge; GARCH figures are unreliable"}
        )  # fmt: skip
    return flags


# -- training --------------------------------------------------------------------------------------
def training_series(con: Any, params: dict[str, Any]) -> list[inputs.Series]:
    """Every ticker's log returns in the training window (tickers with enough history)."""
    start = date.fromisoformat(params["training_start"])
    end = date.fromisoformat(params["training_end"])
    tickers = [
        r[0]
        for r in con.execute(
            "SELECT ticker FROM prices WHERE date BETWEEN ? AND ? GROUP BY ticker "
            "HAVING count(*) >= ? ORDER BY ticker",
            [start, end, params["hist_window"]],
        ).fetchall()
    ]
    return [
        inputs.return_history(con, t, start, end, min_obs=params["hist_window"]) for t in tickers
    ]


@deterministic
def train_risk(con: Any, params: dict[str, Any] | None = None) -> TrainedModel:
    """Fit the risk model (Student-t dof of EWMA-standardized returns, domain) and backtest it."""
    from scipy.stats import t as student_t

    p = PARAMS | (params or {})
    series = training_series(con, p)
    if not series:
        raise InsufficientData(
            f"no ticker has {p['hist_window']} returns between {p['training_start']} and "
            f"{p['training_end']}",
            hint="load prices (`sightline demo`) and materialize features first",
        )
    digest = hashlib.sha256()
    standardized, vols = [], []
    for s in series:
        digest.update(s.record()["values_sha256"].encode())
        r = np.expm1(s.values)
        sig = np.sqrt(risk_math.ewma_variance_path(r, p["ewma_lambda"]))
        prior = sig[60:-1]  # skip the EWMA seed period; a flat stretch of prices has sigma 0
        standardized.append(r[61:][prior > 0] / prior[prior > 0])
        vols.append(sig[60:] * math.sqrt(risk_math.TRADING_DAYS))
    z = np.concatenate(standardized)
    nu, _, _ = student_t.fit(z, floc=0.0)
    nu = float(max(nu, 2.5))
    all_vols = np.concatenate(vols)
    domain = {
        "confidence": p["validated_confidence"],
        "horizon_days": p["validated_horizon_days"],
        # Central 99% of the volatilities seen in training: flat stretches (vol 0) and one-day
        # blow-ups would otherwise make the range meaningless.
        "volatility_ewma_annualized": [
            float(np.quantile(all_vols, 0.005)),
            float(np.quantile(all_vols, 0.995)),
        ],
        "observations_min": p["min_observations"],
        "training_tickers": [s.entity for s in series],
    }
    artefact = {
        "ewma_lambda": p["ewma_lambda"],
        "student_t_nu": nu,
        "min_observations": p["min_observations"],
        "domain": domain,
    }
    report = run_backtest(con, artefact | p)
    return TrainedModel(
        name=NAME,
        params=p,
        training_data_sha256=digest.hexdigest(),
        code_version=_code_version(),
        artefact=artefact,
        metrics={"student_t_nu": nu, "backtest": report},
        domain=domain,
    )


@deterministic
def run_backtest(con: Any, settings: dict[str, Any]) -> dict[str, Any]:
    """Backtest one-day VaR on S&P 500 returns over the backtest window (see tools.backtest)."""
    start = date.fromisoformat(settings["backtest_start"])
    history = inputs.return_history(
        con, inputs.MARKET, None, date.fromisoformat(settings["backtest_end"]), min_obs=1000
    )
    if history.dates[0] >= start or sum(d < start for d in history.dates) < settings["hist_window"]:
        raise InsufficientData(
            f"the S&P 500 history starts {history.dates[0]}: too late to backtest from {start}"
        )
    report = backtest.backtest_var(
        history.dates,
        np.expm1(history.values),
        start=start,
        end=date.fromisoformat(settings["backtest_end"]),
        confidences=settings["backtest_confidences"],
        params=settings,
    )
    report["input"] = history.record()
    return report
