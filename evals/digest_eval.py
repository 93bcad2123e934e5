"""Digest quality on real filings: precision/recall of digest items against hand-checked changes.

    .venv/bin/python -m evals.digest_eval [--data DIR] [--cache DIR] [--split dev|locked]

For each pair in ``evals/gold/digest/pairs.json`` the two PDFs are parsed (pypdfium2, as ingest
does) and digested by ``tools.digest.filing_digest`` — no index, no embeddings: the digest works
from parsed pages. Scored per split (dev: looked at while tuning; locked: never):

- risk factors: a digest item is right when its heading matches a gold heading of its direction
  (new/removed, or a gold ``changed`` heading for new items); recall is over gold new+removed;
- figures: recall of the gold headline lines (label and both values); precision: a figure item is
  right when both its values are printed on the pages it cites (read again from the PDF);
- page accuracy: the share of matched items whose cited pages equal the gold pages.
MD&A shifts have no gold (what "shifted most" means is a judgement); they are counted only.
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path
from typing import Any

from tools.digest import DigestItem, _similarity, filing_digest
from tools.digest_sections import Filing

GOLD = Path(__file__).resolve().parent / "gold" / "digest" / "pairs.json"
DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "financebench-dev"
MATCH = 0.5


def load_filing(data: Path, name: str, cache: Path | None) -> Filing:
    """A FinanceBench 10-K as a Filing (pages parsed like ingest; cached as JSON when asked)."""
    cached = cache / f"{name}.json" if cache else None
    if cached and cached.exists():
        pages = json.loads(cached.read_text())
    else:
        from ingestion.documents.parsers import parse_pdf

        pages = parse_pdf(data / "pdfs" / f"{name}.pdf", max_pages=2000).pages
        if cached:
            cached.parent.mkdir(parents=True, exist_ok=True)
            cached.write_text(json.dumps(pages))
    issuer, year = name.split("_")[0], name.split("_")[1]
    return Filing(name, name, issuer, f"{year}-12-31", "10-K", {int(n): t for n, t in pages})


def _heading(item: DigestItem) -> str:
    return item.title.split(": ", 1)[1] if ": " in item.title else item.title


def _page(item: DigestItem, role: str) -> int:
    return next(c.page for c in item.citations if c.role == role)


def score_risks(items: list[DigestItem], gold: dict[str, Any]) -> dict[str, int]:
    """Counts: items, right items, gold, found gold, found with the right page."""
    out = {"items": 0, "right": 0, "gold": 0, "found": 0, "page_right": 0}
    wanted = [("new_risk_factor", g, "current") for g in gold["new"]]
    wanted += [("removed_risk_factor", g, "previous") for g in gold["removed"]]
    out["gold"] = len(wanted)
    risk_items = [i for i in items if i.kind.endswith("_risk_factor")]
    out["items"] = len(risk_items)
    for item in risk_items:
        pool = [g for k, g, _ in wanted if k == item.kind]
        if item.kind == "new_risk_factor":
            pool += gold["changed"]
        if any(_similarity(_heading(item), g["heading"]) >= MATCH for g in pool):
            out["right"] += 1
    for kind, g, role in wanted:
        hit = next(
            (i for i in risk_items if i.kind == kind
             and _similarity(_heading(i), g["heading"]) >= MATCH),
            None,
        )  # fmt: skip
        if hit:
            out["found"] += 1
            out["page_right"] += int(_page(hit, role) == g["page"])
    return out


def score_figures(
    items: list[DigestItem], gold: dict[str, Any], previous: Filing, current: Filing
) -> dict[str, int]:
    """Counts: figure items, items whose values are on their cited pages, gold, found, pages."""
    out = {"items": 0, "right": 0, "gold": len(gold["figures"]), "found": 0, "page_right": 0}
    figures = [i for i in items if i.kind == "figure_change"]
    out["items"] = len(figures)
    for item in figures:
        values = re.findall(r": (-?[\d,.]+) -> (-?[\d,.]+) \(", item.title)
        if not values:
            continue
        old, new = (v.lstrip("-").replace(",", "").removesuffix(".00") for v in values[0])
        on_new = _printed(new, current.pages.get(_page(item, "current"), ""))
        on_old = _printed(old, previous.pages.get(_page(item, "previous"), ""))
        out["right"] += int(on_new and on_old)
    for g in gold["figures"]:
        label = g["label"].lower()
        hit = next(
            (i for i in figures if i.title.lower().startswith(label + " (")
             and _fmt_in(g["previous"], g["current"], i.title)),
            None,
        )  # fmt: skip
        if hit:
            out["found"] += 1
            out["page_right"] += int(
                _page(hit, "current") == g["page_current"]
                and _page(hit, "previous") == g["page_previous"]
            )
    return out


def _printed(value: str, page: str) -> bool:
    digits = re.sub(r"[^\d]", "", page.replace(",", "").replace(" ", " "))
    plain = {re.sub(r"[^\d.]", "", tok).removesuffix(".00") for tok in re.findall(r"[\d,.]+", page)}
    return value in plain or (len(value) > 3 and value in digits)


def _fmt_in(previous: float, current: float, title: str) -> bool:
    return f"{previous:,.0f} -> {current:,.0f}" in title


def run(data: Path, cache: Path | None, split: str | None = None) -> dict[str, dict[str, int]]:
    """Per-split totals over the gold pairs; prints one line per pair."""
    gold = json.loads(GOLD.read_text())
    totals: dict[str, dict[str, int]] = {}
    for pair in gold["pairs"]:
        if split and pair["split"] != split:
            continue
        previous = load_filing(data, pair["previous"], cache)
        current = load_filing(data, pair["current"], cache)
        items = filing_digest(previous, current)
        risks, figures = score_risks(items, pair), score_figures(items, pair, previous, current)
        mdna = sum(i.kind == "mdna_shift" for i in items)
        print(f"{pair['split']:6} {pair['previous']} -> {pair['current']}: risk {risks}, "
              f"figures {figures}, mdna items {mdna}")  # fmt: skip
        total = totals.setdefault(pair["split"], {})
        for prefix, counts in (("risk", risks), ("figure", figures)):
            for key, n in counts.items():
                total[f"{prefix}_{key}"] = total.get(f"{prefix}_{key}", 0) + n
    for name, t in totals.items():
        print(f"\n[{name}]")
        for prefix in ("risk", "figure"):
            p = t[f"{prefix}_right"] / t[f"{prefix}_items"] if t[f"{prefix}_items"] else 1.0
            r = t[f"{prefix}_found"] / t[f"{prefix}_gold"] if t[f"{prefix}_gold"] else 1.0
            pa = t[f"{prefix}_page_right"] / t[f"{prefix}_found"] if t[f"{prefix}_found"] else 1.0
            print(
                f"  {prefix:6} precision {p:.2f} ({t[f'{prefix}_right']}/{t[f'{prefix}_items']}) "
                f"recall {r:.2f} ({t[f'{prefix}_found']}/{t[f'{prefix}_gold']}) "
                f"page accuracy {pa:.2f}"
            )
    return totals


def main() -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--cache", type=Path, default=None, help="keep parsed pages here")
    parser.add_argument("--split", choices=("dev", "locked"), default=None, help="one split only")
    args = parser.parse_args()
    run(args.data, args.cache, args.split)


if __name__ == "__main__":
    main()
