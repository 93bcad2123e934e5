"""The T+1 morning risk report: built from one published batch run, each number tagged with it.

``build_context`` reads the current run for the date (and the previous date's run for the
day-over-day change) from the batch tables; ``write_morning_report`` renders it to HTML (Jinja2,
autoescaped, charts as inline SVG), prints the PDF with headless Chromium, and records both files'
sha256 in the answer trail as an ``event`` so compliance can tie the report to the run.
"""

from __future__ import annotations

import hashlib
import math
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from markupsafe import Markup, escape

from app.reports import pdf, svg
from app.runtime import Runtime
from ingestion.errors import NotFoundError
from tools import batch_store

SUMMARY = (
    ("market_value_usd", 0.99, "Market value", "usd"),
    ("var_historical_usd", 0.95, "VaR 95% 1d", "usd"),
    ("var_historical_usd", 0.99, "VaR 99% 1d", "usd"),
    ("es_historical_usd", 0.99, "ES 99% 1d", "usd"),
    ("var_ewma_normal_usd", 0.99, "VaR 99% EWMA", "usd"),
    ("volatility_ewma_annualized", 0.99, "EWMA vol (ann.)", "pct"),
    ("beta_sp500", 0.99, "Beta to S&P 500", "ratio"),
)
PD_EDGES = [i / 20 for i in range(21)]  # 5% buckets


def num(value: float | int | None, run: str | None, key: str, kind: str = "usd") -> Markup:
    """A number as a span carrying the run that produced it and its exact value."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return Markup('<span class="num na" data-run="{}">n/a</span>').format(run)
    text = {
        "usd": f"{value:,.0f}",
        "pct": f"{value:.2%}",
        "ratio": f"{value:.2f}",
        "count": f"{value:,.0f}",
        "pd": f"{value:.2%}",
        "signed_usd": f"{value:+,.0f}",
        "signed_pct": f"{value:+.1%}",
    }[kind]
    return Markup(
        '<span class="num" data-run="{}" data-key="{}" data-value="{}" title="run {}">{}</span>'
    ).format(run, key, repr(value), run, text)


@dataclass(frozen=True)
class ReportFiles:
    """What ``write_morning_report`` produced."""

    run_id: str
    html: Path
    pdf: Path
    html_sha256: str
    pdf_sha256: str
    pages: int
    trail_record: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {k: str(v) if isinstance(v, Path) else v for k, v in self.__dict__.items()}


def _risk_table(rows: list[dict[str, Any]]) -> dict[str, dict[tuple[str, float], float]]:
    out: dict[str, dict[tuple[str, float], float]] = defaultdict(dict)
    for r in rows:
        out[r["portfolio"]][(r["metric"], r["confidence"])] = r["value"]
    return out


def _summary(run: str, prev: str | None, now: dict, before: dict) -> list[dict[str, Any]]:
    lines = []
    for portfolio in sorted(now):
        cells = []
        for metric, conf, label, kind in SUMMARY:
            key = f"{portfolio}.{metric}.{conf}"
            value = now[portfolio].get((metric, conf))
            old = before.get(portfolio, {}).get((metric, conf)) if prev else None
            change = None if value is None or old is None else value - old
            cells.append(
                {"label": label, "value": num(value, run, key, kind),
                 "previous": num(old, prev, key, kind) if prev else None,
                 "change": (num(change / old if old else None, run, key + ".change", "signed_pct")
                            if change is not None else None),
                 "up": change is not None and change > 0 and kind == "usd"}
            )  # fmt: skip
        lines.append({"portfolio": portfolio, "cells": cells})
    return lines


def _backtest(run: str, rows: list[dict[str, Any]], part: dict[str, Any]) -> list[dict[str, Any]]:
    by: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        by[r["portfolio"]].append(r)
    out = []
    for portfolio, days in sorted(by.items()):
        days.sort(key=lambda r: r["date"])
        info = part[portfolio]
        exceptions = [d for d in days if -d["pnl"] > d["var_99"]]
        out.append(
            {"portfolio": portfolio, "zone": info["basel_zone"],
             "exceptions_99": num(info["exceptions"]["0.99"], run, f"{portfolio}.exc99", "count"),
             "exceptions_95": num(info["exceptions"]["0.95"], run, f"{portfolio}.exc95", "count"),
             "days": num(info["days"], run, f"{portfolio}.days", "count"),
             "method": info["method"], "window": info["window"],
             "worst": [{"date": d["date"].isoformat(), "pnl": num(d["pnl"], run, "pnl", "usd"),
                        "var": num(d["var_99"], run, "var99", "usd")}
                       for d in sorted(exceptions, key=lambda d: d["pnl"])[:5]],
             "chart": Markup(svg.backtest_chart(
                 [d["date"].isoformat() for d in days], [d["pnl"] for d in days],
                 [d["var_99"] for d in days],
                 title=f"{portfolio}: daily P&L vs VaR 99% (USD), {len(days)} days, run {run}")),
             }
        )  # fmt: skip
    return out


def _pd_section(run: str, prev: str | None, con: Any) -> dict[str, Any]:
    import numpy as np

    now = batch_store.result_rows(con, "batch_pd", run)
    values = np.array([r["pd"] for r in now])
    counts = np.histogram(values, bins=PD_EDGES)[0].tolist()
    section: dict[str, Any] = {
        "loans": num(len(now), run, "pd.loans", "count"),
        "mean": num(float(values.mean()), run, "pd.mean", "pd"),
        "median": num(float(np.median(values)), run, "pd.median", "pd"),
        "p90": num(float(np.quantile(values, 0.9)), run, "pd.p90", "pd"),
        "above_50": num(int((values >= 0.5).sum()), run, "pd.above_50", "count"),
        "flagged": num(sum(1 for r in now if r["flags"]), run, "pd.flagged", "count"),
        "moves": [],
    }
    before = batch_store.result_rows(con, "batch_pd", prev) if prev else []
    old = {r["loan_id"]: r["pd"] for r in before}
    prev_counts = None
    if before:
        prev_counts = np.histogram([r["pd"] for r in before], bins=PD_EDGES)[0].tolist()
        moves = sorted(
            ((r["pd"] - old[r["loan_id"]], r) for r in now if r["loan_id"] in old),
            key=lambda m: -abs(m[0]),
        )
        section["changed"] = num(sum(1 for d, _ in moves if d != 0), run, "pd.changed", "count")
        section["mean_before"] = num(float(np.mean(list(old.values()))), prev, "pd.mean", "pd")
        section["moves"] = [
            {"loan_id": r["loan_id"], "pd": num(r["pd"], run, f"pd.{r['loan_id']}", "pd"),
             "before": num(old[r["loan_id"]], prev, f"pd.{r['loan_id']}", "pd")}
            for d, r in moves[:5] if d != 0
        ]  # fmt: skip
    section["chart"] = Markup(
        svg.histogram(PD_EDGES, counts, previous=prev_counts,
                      title=f"Loans by PD (5% buckets), run {run}; dashed: run {prev or '-'}")
    )  # fmt: skip
    return section


def build_context(rt: Runtime, as_of: date) -> dict[str, Any]:
    """Everything the template shows, from the current run for ``as_of``.

    Raises:
        NotFoundError: no published batch run for ``as_of``.
    """
    with rt.warehouse.reader() as con:
        run = batch_store.current_run_id(con, as_of)
        if run is None:
            raise NotFoundError(
                f"no published batch run for {as_of}",
                hint=f"run `sightline batch run --as-of {as_of}` first",
            )
        meta = batch_store.get_run(con, run)
        payload = batch_store.run_payload(con, run)
        previous = batch_store.previous_current(con, as_of)
        prev = previous[1] if previous else None
        rows = {t: batch_store.result_rows(con, t, run) for t in batch_store.RESULT_TABLES}
        before = _risk_table(batch_store.result_rows(con, "batch_risk", prev)) if prev else {}
        pd_part = _pd_section(run, prev, con)
    return {
        "as_of": as_of.isoformat(),
        "run": run,
        "meta": meta.to_dict(),
        "previous": {"run": prev, "as_of": previous[0].isoformat()} if previous else None,
        "generated": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "summary": _summary(run, prev, _risk_table(rows["batch_risk"]), before),
        "limits": _limits(run, payload.get("risk", {})),
        "contributors": _contributors(run, rows["batch_exposures"]),
        "backtests": _backtest(run, rows["batch_backtest"], payload.get("backtest", {})),
        "pd": pd_part,
        "exceptions": rows["batch_exceptions"],
        "quality": _quality(run, meta, payload),
    }


def _limits(run: str, risk: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for portfolio, part in sorted(risk.items()):
        for row in part["limits"]:
            kind = "pct" if "weight" in row["limit"] else "usd"
            key = f"{portfolio}.{row['limit']}"
            out.append(
                {"portfolio": portfolio, "label": row["label"], "status": row["status"],
                 "value": num(row["value"], run, key, kind),
                 "limit": num(row["limit_value"], run, key + ".limit", kind),
                 "usage": num(row["usage"], run, key + ".usage", "pct")}
            )  # fmt: skip
    return out


def _contributors(run: str, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for portfolio in sorted({r["portfolio"] for r in rows}):
        tickers = sorted(
            (r for r in rows if r["portfolio"] == portfolio and r["kind"] == "ticker"),
            key=lambda r: -r["component_var_99_usd"],
        )
        sectors = sorted(
            (r for r in rows if r["portfolio"] == portfolio and r["kind"] == "sector"),
            key=lambda r: -r["market_value_usd"],
        )
        top = tickers[:8]
        out.append(
            {"portfolio": portfolio,
             "chart": Markup(svg.bar_chart(
                 [r["name"] for r in top], [r["component_var_99_usd"] for r in top],
                 title=f"{portfolio}: top contributors to VaR 99% (component, USD; run {run})")),
             "sectors": [{"name": r["name"],
                          "mv": num(r["market_value_usd"], run, f"{portfolio}.{r['name']}.mv"),
                          "weight": num(r["weight"], run, f"{portfolio}.{r['name']}.w", "pct"),
                          "cvar": num(r["component_var_99_usd"], run,
                                      f"{portfolio}.{r['name']}.cvar")}
                         for r in sectors]}
        )  # fmt: skip
    return out


def _quality(run: str, meta: batch_store.RunRow, payload: dict[str, Any]) -> dict[str, Any]:
    lineage = meta.lineage
    tables = [
        {"table": t, "rows": num(i["rows"], run, f"input.{t}.rows", "count"),
         "last": i["last"] or "-", "sha256": i["sha256"][:16]}
        for t, i in sorted(lineage.get("tables", {}).items())
    ]  # fmt: skip
    return {
        "tables": tables,
        "models": lineage.get("models", {}),
        "code": lineage.get("code", {}),
        "features": len(lineage.get("features", {})),
        "stages": [{"stage": s, "seconds": f"{v:.2f}"} for s, v in meta.stages.items()],
        "inputs_sha256": meta.inputs_sha256,
        "results_sha256": meta.results_sha256,
        "risk_models": {p: part["model"] for p, part in payload.get("risk", {}).items()},
        "pd_model": payload.get("pd", {}).get("model"),
    }


def render_html(context: dict[str, Any]) -> str:
    """The report as one self-contained HTML page (autoescaped Jinja2 template)."""
    from jinja2 import Environment, FileSystemLoader, StrictUndefined

    env = Environment(
        loader=FileSystemLoader(Path(__file__).parent / "templates"),
        autoescape=True,
        undefined=StrictUndefined,
    )
    return env.get_template("morning.html.j2").render(**context, escape=escape)


def write_morning_report(
    rt: Runtime, as_of: date, out_dir: Path, *, user: str | None = None
) -> ReportFiles:
    """Render HTML and PDF into ``out_dir`` and record their sha256 in the trail (an event)."""
    from app.trail import AnswerRecord

    who = rt.user(user)
    context = build_context(rt, as_of)
    run = context["run"]
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = f"morning-{as_of.isoformat()}-{run}"
    html_path = out_dir / f"{stem}.html"
    html_path.write_text(render_html(context), encoding="utf-8")
    pdf_path = out_dir / f"{stem}.pdf"
    pages = pdf.print_pdf(html_path, pdf_path, chromium=rt.settings.report_chromium)
    digests = {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in (html_path, pdf_path)}
    stored = rt.trail.append(
        AnswerRecord(
            kind="event", user=who.name, role=who.role, status="recorded",
            note=f"morning report for {as_of} from batch run {run}",
            details={"action": "morning_report", "run_id": run, "as_of": as_of.isoformat(),
                     "html": html_path.name, "html_sha256": digests[html_path],
                     "pdf": pdf_path.name, "pdf_sha256": digests[pdf_path], "pages": pages},
        )
    )  # fmt: skip
    return ReportFiles(
        run, html_path, pdf_path, digests[html_path], digests[pdf_path], pages, stored.id
    )
