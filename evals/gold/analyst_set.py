"""Build, load and check the analyst generalization set (``evals/gold/{dev,locked}.jsonl``).

    python -m evals.gold.analyst_set --home DIR --write   # regenerate both files from a demo home
    python -m evals.gold.analyst_set --home DIR --check   # recompute every gold value, list drift

Questions are hand-written phrasings (``analyst_phrasings``, ``analyst_handwritten``) filled with
tickers, dates and windows drawn by a seeded random generator across the data's whole coverage;
gold values come from ``analyst_reference`` (plain SQL and numpy). The split is stratified by
family with a fixed seed: about a third of each family is locked (see ``LOCKED.md``).
"""

from __future__ import annotations

import argparse
import json
import random
from datetime import date
from pathlib import Path
from typing import Any

from evals.gold import analyst_handwritten as hand
from evals.gold import analyst_reference as ref
from evals.gold.analyst_phrasings import ITEM_NAMES, MACRO_NAMES, NAMES, P

HERE = Path(__file__).resolve().parent
FILES = {"dev": HERE / "dev.jsonl", "locked": HERE / "locked.jsonl"}
SEED = 20261204
LOCKED_SHARE = 0.34
FAMILIES = ("market", "windows", "macro", "fundamentals", "declines")
HEADER_KEY = "_about"
HEADERS = {
    "dev": "Analyst generalization set, dev split: may be read when working on the planner.",
    "locked": (
        "Analyst generalization set, LOCKED split: scored by `sightline eval --suite analyst`, "
        "never read or used to change the planner (evals/gold/LOCKED.md)."
    ),
}
VOLUME_TICKERS = ("AAPL", "MSFT", "IBM", "GOOG")
BARRED = ("BBY",)  # restricted to deal-team in the demo: public-side rankings leave it out
MONTHS = "January February March April May June July August September October November December"


def _months() -> list[str]:
    return MONTHS.split()


class Builder:
    """Draws specs and phrasings with one seeded generator, keeps questions unique."""

    def __init__(self, con: Any, seed: int = SEED) -> None:
        self.con = con
        self.rng = random.Random(seed)
        self.items: list[dict[str, Any]] = []
        self.seen: set[str] = set()
        self.stocks = [t for t in ref.stock_universe(self.con) if t not in BARRED]

    # -- rendering ----------------------------------------------------------------------------
    def company(self, ticker: str) -> str:
        if ticker.startswith("^"):
            return self.rng.choice(NAMES[ticker])
        return ticker if self.rng.random() < 0.55 else self.rng.choice(NAMES[ticker])

    def day(self, d: date) -> str:
        month = _months()[d.month - 1]
        forms = [
            d.isoformat(),
            f"{month} {d.day}, {d.year}",
            f"{d.day} {month} {d.year}",
            f"{month[:3]} {d.day}, {d.year}",
            f"{d.day} {month[:3]} {d.year}",
        ]
        return self.rng.choice(forms)

    def month(self, year: int, month: int) -> str:
        name = _months()[month - 1]
        return self.rng.choice([f"{name} {year}", f"{name[:3]} {year}", f"{year}-{month:02d}"])

    def quarter(self, year: int, q: int) -> str:
        ordinal = ["first", "second", "third", "fourth"][q - 1]
        return self.rng.choice(
            [f"Q{q} {year}", f"the {ordinal} quarter of {year}", f"{year} Q{q}", f"{q}Q{year}"]
        )

    def phrase(self, key: str, **slots: str) -> str:
        text = self.rng.choice(P[key]).format(**slots)
        return text.replace("s's ", "s' ")  # "Advanced Micro Devices' revenue"

    # -- sampling -----------------------------------------------------------------------------
    def trading_day(self, ticker: str, lo: str, hi: str, column: str = "adj_close") -> date:
        rows = self.con.execute(
            f"SELECT date FROM prices WHERE ticker = ? AND date BETWEEN ? AND ? "
            f"AND {column} IS NOT NULL ORDER BY date",
            [ticker, lo, hi],
        ).fetchall()
        return rows[self.rng.randrange(len(rows))][0]

    def window(self, tickers: list[str], column: str = "adj_close") -> tuple[dict[str, str], str]:
        """A calendar year, quarter, month or date range inside every ticker's coverage."""
        spans = []
        for t in tickers:
            row = self.con.execute(
                f"SELECT min(date), max(date) FROM prices WHERE ticker = ? "
                f"AND {column} IS NOT NULL",
                [t],
            ).fetchall()[0]
            spans.append(row)
        first = max(s[0] for s in spans)
        last = min(s[1] for s in spans)
        kind = self.rng.choices(["year", "quarter", "month", "range"], [4, 2, 2, 3])[0]
        years = list(range(first.year + 1, last.year))
        year = self.rng.choice(years)
        if kind == "year":
            text = self.rng.choice(
                [f"in {year}", f"during {year}", f"over calendar {year}", f"for full-year {year}"]
            )
            return {"start": f"{year}-01-01", "end": f"{year}-12-31"}, text
        if kind == "quarter":
            q = self.rng.randint(1, 4)
            start, end = ref.period_bounds(f"{year}-Q{q}")
            return {"start": str(start), "end": str(end)}, f"in {self.quarter(year, q)}"
        if kind == "month":
            m = self.rng.randint(1, 12)
            start, end = ref.period_bounds(f"{year}-{m:02d}")
            word = self.rng.choice(["in", "during", "over"])
            return {"start": str(start), "end": str(end)}, f"{word} {self.month(year, m)}"
        a = self.trading_day(
            tickers[0], f"{first.year + 1}-01-01", f"{last.year - 1}-06-30", column
        )
        rows = self.con.execute(
            f"SELECT date FROM prices WHERE ticker = ? AND date > ? AND date < ? "
            f"AND {column} IS NOT NULL ORDER BY date",
            [tickers[0], a, last],
        ).fetchall()
        b = rows[min(len(rows) - 1, self.rng.randint(40, 500))][0]
        s, e = self.day(a), self.day(b)
        text = self.rng.choice(
            [f"between {s} and {e}", f"from {s} to {e}", f"from {s} through {e}"]
        )
        return {"start": str(a), "end": str(b)}, text

    # -- items --------------------------------------------------------------------------------
    def add(self, family: str, question: str, spec: dict[str, Any], user: str = "analyst") -> bool:
        question = question[0].upper() + question[1:]
        key = f"{user}:{question.lower()}"  # the same words from the private side are another item
        if key in self.seen:
            return False
        gold = ref.gold(self.con, spec)
        if spec["kind"] != "decline" and gold["answer"] == "decline":
            return False  # the draw fell outside what the data holds; draw again
        self.seen.add(key)
        self.items.append(
            {"family": family, "question": question, "user": user, "spec": spec, "gold": gold}
        )
        return True

    def repeat(self, n: int, make: Any) -> None:
        made, tries = 0, 0
        while made < n and tries < n * 20:
            tries += 1
            made += bool(make())


def _market(b: Builder) -> None:
    def close(key: str, column: str) -> Any:
        def make() -> bool:
            t = b.rng.choice(b.stocks)
            d = b.trading_day(t, "1990-02-01", "2022-12-28")
            spec = {"kind": "price_on", "ticker": t, "date": str(d), "column": column}
            return b.add("market", b.phrase(key, t=b.company(t), d=b.day(d)), spec)

        return make

    b.repeat(16, close("price_on", "close"))
    b.repeat(4, close("adj_close_on", "adj_close"))

    def index() -> bool:
        t = b.rng.choice(["^GSPC", "^GSPC", "^IXIC"])
        d = b.trading_day(t, "1990-02-01", "2022-12-28")
        spec = {"kind": "price_on", "ticker": t, "date": str(d), "column": "close"}
        return b.add("market", b.phrase("index_on", t=b.company(t), d=b.day(d)), spec)

    b.repeat(6, index)

    def ohlcv(key: str, column: str) -> Any:
        def make() -> bool:
            t = b.rng.choice([*VOLUME_TICKERS, "^GSPC", "^IXIC"])
            d = b.trading_day(t, "1999-01-04", "2018-12-31", column)
            spec = {"kind": "ohlcv_on", "ticker": t, "date": str(d), "column": column}
            return b.add("market", b.phrase(key, t=b.company(t), d=b.day(d)), spec)

        return make

    for key, column, n in (("volume_on", "volume", 10), ("high_on", "high", 4),
                           ("low_on", "low", 4), ("open_on", "open", 2)):  # fmt: skip
        b.repeat(n, ohlcv(key, column))

    def daily() -> bool:
        t = b.rng.choice(b.stocks)
        d = b.trading_day(t, "1990-03-01", "2022-12-28")
        spec = {"kind": "daily_return", "ticker": t, "date": str(d)}
        return b.add("market", b.phrase("daily_return", t=b.company(t), d=b.day(d)), spec)

    b.repeat(12, daily)

    def change() -> bool:
        t = b.rng.choice(b.stocks)
        s = b.trading_day(t, "1991-01-01", "2020-12-31")
        e = b.trading_day(t, str(s.replace(year=s.year + 1)), f"{min(s.year + 3, 2022)}-12-28")
        spec = {"kind": "price_change", "ticker": t, "start": str(s), "end": str(e)}
        q = b.phrase("price_change", t=b.company(t), s=b.day(s), e=b.day(e))
        return b.add("market", q, spec)

    b.repeat(6, change)


def _windows(b: Builder) -> None:
    plan = [("realized_vol_20d", 10), ("realized_vol_60d", 8), ("ewma_vol", 5),
            ("beta_252d", 6), ("max_drawdown_252d", 6)]  # fmt: skip
    for feature, n in plan:

        def at(feature: str = feature) -> bool:
            t = b.rng.choice(b.stocks)
            d = b.trading_day(t, "1993-01-01", "2022-12-28")
            spec = {"kind": "feature_at", "ticker": t, "date": str(d), "feature": feature}
            q = b.phrase(f"feature_at:{feature}", t=b.company(t), d=b.day(d))
            return b.add("windows", q, spec)

        b.repeat(n, at)
    for feature, n in (("adv_usd_20d", 5), ("amihud_illiquidity_20d", 4)):

        def liquid(feature: str = feature) -> bool:
            t = b.rng.choice(VOLUME_TICKERS)
            d = b.trading_day(t, "2005-01-01", "2013-02-28", "volume")
            spec = {"kind": "feature_at", "ticker": t, "date": str(d), "feature": feature}
            q = b.phrase(f"feature_at:{feature}", t=b.company(t), d=b.day(d))
            return b.add("windows", q, spec)

        b.repeat(n, liquid)

    def single(kind: str, key: str, extra: dict[str, Any] | None = None) -> Any:
        def make() -> bool:
            tickers = VOLUME_TICKERS if kind == "window_volume" else b.stocks
            t = b.rng.choice(tickers)
            win, text = b.window([t], "volume" if kind == "window_volume" else "adj_close")
            spec = {"kind": kind, "ticker": t, **win, **(extra or {})}
            return b.add("windows", b.phrase(key, t=b.company(t), p=text), spec)

        return make

    b.repeat(16, single("window_return", "window_return"))
    b.repeat(9, single("window_drawdown", "window_drawdown"))
    b.repeat(9, single("window_vol", "window_vol"))
    b.repeat(6, single("window_volume", "window_volume"))
    b.repeat(6, single("window_beta", "window_beta"))
    b.repeat(5, single("window_extreme", "window_high", {"which": "high"}))
    b.repeat(5, single("window_extreme", "window_low", {"which": "low"}))

    def correlation() -> bool:
        t, o = b.rng.sample(b.stocks, 2)
        win, text = b.window([t, o])
        spec = {"kind": "window_correlation", "ticker": t, "other": o, **win}
        q = b.phrase("window_correlation", t=b.company(t), o=b.company(o), p=text)
        return b.add("windows", q, spec)

    b.repeat(7, correlation)

    def rank() -> bool:
        order = b.rng.choice(["best", "worst"])
        n = b.rng.choice([1, 1, 3, 5])
        year = b.rng.randint(1991, 2021)
        text = b.rng.choice([f"in {year}", f"during {year}", f"over calendar {year}"])
        spec = {"kind": "ranking", "order": order, "n": n, "barred": list(BARRED),
                "start": f"{year}-01-01", "end": f"{year}-12-31"}  # fmt: skip
        key = f"ranking:{order}:{'1' if n == 1 else 'n'}"
        return b.add("windows", b.phrase(key, n=str(n), p=text), spec)

    b.repeat(10, rank)


def _macro(b: Builder) -> None:
    def monthly() -> bool:
        s = b.rng.choice(["aaa", "baa", "brent", "core_cpi"])
        lo = {"aaa": 1925, "baa": 1925, "brent": 1988, "core_cpi": 1958}[s]
        hi = {"aaa": 2018, "baa": 2018, "brent": 2019, "core_cpi": 2017}[s]
        y, m = b.rng.randint(lo, hi), b.rng.randint(1, 12)
        spec = {"kind": "macro_at", "series": s, "period": f"{y}-{m:02d}"}
        q = b.phrase("macro_at:month", m=b.rng.choice(MACRO_NAMES[s]), d=b.month(y, m))
        return b.add("macro", q, spec)

    b.repeat(12, monthly)
    quarterly = ["unemp", "cpi", "realgdp", "tbilrate", "infl", "m1", "pop", "realcons"]

    def quarter() -> bool:
        s = b.rng.choice(quarterly)
        y, q = b.rng.randint(1960, 2008), b.rng.randint(1, 4)
        spec = {"kind": "macro_at", "series": s, "period": f"{y}-Q{q}"}
        text = b.phrase("macro_at:quarter", m=b.rng.choice(MACRO_NAMES[s]), d=b.quarter(y, q))
        return b.add("macro", text, spec)

    b.repeat(14, quarter)

    def daily() -> bool:
        s = b.rng.choice(["vix", "wti"])
        rows = b.con.execute(
            "SELECT date FROM macro WHERE series = ? ORDER BY date", [s]
        ).fetchall()
        d = rows[b.rng.randrange(len(rows))][0]
        spec = {"kind": "macro_at", "series": s, "period": str(d)}
        q = b.phrase("macro_at:day", m=b.rng.choice(MACRO_NAMES[s]), d=b.day(d))
        return b.add("macro", q, spec)

    b.repeat(8, daily)

    def yearly(how: str, key: str) -> Any:
        def make() -> bool:
            s = b.rng.choice(["unemp", "tbilrate", "aaa", "baa", "infl"])
            y = b.rng.randint(1961, 2008)
            period = f"{y}-Q4" if how == "last" and s in quarterly else f"{y}-12"
            spec = {"kind": "macro_at", "series": s, "how": how,
                    "period": period if how == "last" else str(y)}  # fmt: skip
            return b.add("macro", b.phrase(key, m=b.rng.choice(MACRO_NAMES[s]), d=str(y)), spec)

        return make

    b.repeat(5, yearly("last", "macro_at:year_end"))
    b.repeat(5, yearly("mean", "macro_at:year_mean"))

    def spread() -> bool:
        pair = b.rng.choice(
            [("baa", "aaa"), ("baa", "aaa"), ("tbilrate", "infl"), ("aaa", "tbilrate")]
        )
        y = b.rng.randint(1960, 2008)
        if pair == ("baa", "aaa"):
            m = b.rng.randint(1, 12)
            period, when = f"{y}-{m:02d}", b.month(y, m)
        else:
            q = b.rng.randint(1, 4)
            period, when = f"{y}-Q{q}", b.quarter(y, q)
        spec = {"kind": "macro_spread", "series": pair[0], "other": pair[1], "period": period}
        q_text = b.phrase(
            "macro_spread",
            m=b.rng.choice(MACRO_NAMES[pair[0]]),
            m2=b.rng.choice(MACRO_NAMES[pair[1]]),
            d=when,
        )
        return b.add("macro", q_text, spec)

    b.repeat(8, spread)

    def change(mode: str) -> Any:
        def make() -> bool:
            s = b.rng.choice(["unemp", "tbilrate"] if mode == "diff" else ["realgdp", "cpi", "m1"])
            y1, q1 = b.rng.randint(1960, 2006), b.rng.randint(1, 4)
            step = b.rng.choice([1, 4, 8])
            idx = y1 * 4 + q1 - 1 + step
            y2, q2 = idx // 4, idx % 4 + 1
            spec = {"kind": "macro_change", "series": s, "mode": mode,
                    "start": f"{y1}-Q{q1}", "end": f"{y2}-Q{q2}"}  # fmt: skip
            q = b.phrase(f"macro_change:{mode}", m=b.rng.choice(MACRO_NAMES[s]),
                         s=b.quarter(y1, q1), e=b.quarter(y2, q2))  # fmt: skip
            return b.add("macro", q, spec)

        return make

    b.repeat(5, change("diff"))
    b.repeat(6, change("growth"))


def _fundamentals(b: Builder) -> None:
    rows = b.con.execute(
        "SELECT DISTINCT ticker, fiscal_year FROM fundamentals ORDER BY 1, 2"
    ).fetchall()
    years = [(t, fy) for t, fy in rows if t not in BARRED]

    def fy_text(fy: int) -> str:
        return b.rng.choice([f"fiscal {fy}", f"FY{fy}", f"fiscal year {fy}", f"FY {fy}"])

    def value() -> bool:
        t, fy = b.rng.choice(years)
        item = b.rng.choice(list(ITEM_NAMES))
        spec = {"kind": "fundamental", "ticker": t, "item": item, "fiscal_year": fy}
        q = b.phrase("fundamental", t=b.company(t), item=b.rng.choice(ITEM_NAMES[item]),
                     fy=fy_text(fy))  # fmt: skip
        return b.add("fundamentals", q, spec)

    b.repeat(16, value)

    def ratio() -> bool:
        t, fy = b.rng.choice(years)
        name = b.rng.choice([*ref.RATIOS, "working_capital", "current_ratio"])
        spec = {"kind": "ratio", "ticker": t, "ratio": name, "fiscal_year": fy}
        return b.add(
            "fundamentals", b.phrase(f"ratio:{name}", t=b.company(t), fy=fy_text(fy)), spec
        )

    b.repeat(16, ratio)

    def growth() -> bool:
        t, fy = b.rng.choice(years)
        item = b.rng.choice(["revenue", "net_income", "total_assets"])
        spec = {"kind": "growth", "ticker": t, "item": item, "fiscal_year": fy}
        q = b.phrase("growth", t=b.company(t), item=b.rng.choice(ITEM_NAMES[item]), fy=fy_text(fy))
        return b.add("fundamentals", q, spec)

    b.repeat(5, growth)

    def var(key: str, measure: str, historical_only: bool) -> Any:
        def make() -> bool:
            t = b.rng.choice(b.stocks)
            c = b.rng.choice([0.95, 0.99, 0.975])
            h = b.rng.choice([1, 1, 5, 10])
            spec = {"kind": "historical_var", "ticker": t, "confidence": c, "horizon": h,
                    "measure": measure, "historical_only": historical_only}  # fmt: skip
            conf = b.rng.choice([f"{c:.1%}".replace(".0%", "%"), f"{c * 100:g} percent"])
            return b.add("fundamentals", b.phrase(key, t=b.company(t), c=conf, h=str(h)), spec)

        return make

    b.repeat(5, var("historical_var", "var", True))
    b.repeat(3, var("var_any", "var", False))
    b.repeat(3, var("historical_es", "es", True))

    def merton() -> bool:
        t = b.rng.choice(["AMD", "JNJ", "KO", "MSFT", "PEP", "PFE", "WMT"])
        spec = {"kind": "merton", "ticker": t, "measure": "dd"}
        return b.add("fundamentals", b.phrase("merton:dd", t=b.company(t)), spec)

    b.repeat(4, merton)
    purposes = {"car (new)": "new cars", "car (used)": "used cars", "education": "education",
                "business": "business purposes", "radio/television": "a radio or TV"}  # fmt: skip

    def loans() -> bool:
        stat = b.rng.choice(["default_rate", "default_rate:purpose", "count:purpose",
                             "mean_amount", "mean_duration"])  # fmt: skip
        spec: dict[str, Any] = {"kind": "loans_stat", "stat": stat.split(":")[0]}
        words = ""
        if stat.endswith(":purpose"):
            spec["purpose"], words = b.rng.choice(list(purposes.items()))
        return b.add("fundamentals", b.phrase(f"loans_stat:{stat}", purpose=words), spec)

    b.repeat(7, loans)


def build(con: Any, seed: int = SEED) -> list[dict[str, Any]]:
    """Every item of both splits (ids and ``split`` assigned), from the warehouse ``con``."""
    b = Builder(con, seed)
    _market(b)
    _windows(b)
    _macro(b)
    _fundamentals(b)
    for question, spec, user in hand.DOCUMENTS:
        b.add("fundamentals", question, spec, user)
    for question, spec, user in hand.DECLINES:
        b.add("declines", question, spec, user)
    split_rng = random.Random(seed + 1)
    counters: dict[str, int] = {}
    for family in FAMILIES:
        members = [i for i in b.items if i["family"] == family]
        split_rng.shuffle(members)
        cut = round(len(members) * LOCKED_SHARE)
        for k, item in enumerate(members):
            item["split"] = "locked" if k < cut else "dev"
    first_release = len(b.items)
    # Added after the first release, in this order so no id moves: ADDED, then the private-side
    # controls (same text as public-side declines, asked by analyst_private).
    for question, spec, user in [*hand.ADDED, *hand.PRIVATE]:
        family = {"price_on": "market", "feature_at": "windows", "window_return": "windows",
                  "decline": "declines"}.get(spec["kind"], "fundamentals")  # fmt: skip
        b.add(family, question, spec, user)
    for item in b.items[first_release:]:
        user = item["user"]
        item["split"] = stable_split(
            item["question"] if user == "analyst" else f"{user}:{item['question']}"
        )
    for item in b.items:
        prefix = {"market": "mkt", "windows": "win", "macro": "mac", "fundamentals": "fun",
                  "declines": "dec"}[item["family"]]  # fmt: skip
        counters[prefix] = counters.get(prefix, 0) + 1
        item["id"] = f"{prefix}-{counters[prefix]:03d}"
    return b.items


def stable_split(question: str) -> str:
    """Split of a question added after the first release: a third locked, by a hash of its text."""
    import hashlib

    digest = hashlib.sha256(f"{SEED}:{question}".encode()).digest()
    return "locked" if digest[0] % 3 == 0 else "dev"


def write(items: list[dict[str, Any]]) -> dict[str, int]:
    """Write each split to its file (a header line first); returns counts per split."""
    counts = {}
    for split, path in FILES.items():
        rows = [i for i in items if i["split"] == split]
        lines = [json.dumps({HEADER_KEY: HEADERS[split], "questions": len(rows)})]
        order = ("id", "split", "family", "user", "question", "spec", "gold")
        lines += [json.dumps({k: i[k] for k in order}, default=str) for i in rows]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        counts[split] = len(rows)
    return counts


def load(splits: tuple[str, ...] = ("dev", "locked")) -> list[dict[str, Any]]:
    """The stored items of ``splits`` (header lines skipped), in file order."""
    out = []
    for split in splits:
        for line in FILES[split].read_text(encoding="utf-8").splitlines():
            row = json.loads(line) if line.strip() else None
            if row and HEADER_KEY not in row:
                out.append(row)
    return out


def regold(con: Any, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Items with gold recomputed on ``con``; ``drift`` says whether it differs from the file."""
    out = []
    for item in items:
        fresh = json.loads(json.dumps(ref.gold(con, item["spec"]), default=str))
        out.append({**item, "gold": fresh, "drift": not _same_gold(item["gold"], fresh)})
    return out


def _same_gold(a: dict[str, Any], b: dict[str, Any]) -> bool:
    if a.get("answer") != b.get("answer"):
        return False
    if a.get("answer") == "number":
        return abs(a["value"] - b["value"]) <= 1e-9 * max(1.0, abs(a["value"]))
    return a.get("tickers") == b.get("tickers")


def main() -> None:
    """Regenerate the files (``--write``) or list gold drift (``--check``) for a data dir."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--home", required=True, help="data dir with the demo loaded")
    parser.add_argument("--write", action="store_true")
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args()
    import duckdb

    con = duckdb.connect(str(Path(args.home) / "warehouse.duckdb"), read_only=True)
    if args.write:
        print(json.dumps(write(build(con))))
    if args.check:
        drift = [i["id"] for i in regold(con, load()) if i["drift"]]
        print(json.dumps({"drift": drift}))


if __name__ == "__main__":
    main()
