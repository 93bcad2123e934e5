"""Risk limits and the sector map the batch and the morning report read (a small TOML file).

TOML rather than YAML because Python reads it with the standard library (``tomllib``): no extra
dependency for a dozen numbers. The packaged demo file is ``ingestion/demo_data/limits.toml``.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ingestion.errors import ConfigError

DEMO_LIMITS = Path(__file__).resolve().parents[2] / "ingestion" / "demo_data" / "limits.toml"
WARN_AT = 0.8  # usage at or above this share of a limit is a warning; at or above 1.0 a breach
# Limit name -> (what it caps in the batch results, label in the report).
LIMIT_KINDS: dict[str, str] = {
    "var_99_usd": "1-day VaR 99% (historical)",
    "es_99_usd": "1-day ES 99% (historical)",
    "var_95_usd": "1-day VaR 95% (historical)",
    "max_single_name_weight": "largest single-name weight",
    "max_sector_weight": "largest sector weight",
}


@dataclass(frozen=True)
class Limits:
    """Limits per portfolio and the ticker -> sector map."""

    portfolios: dict[str, dict[str, float]] = field(default_factory=dict)
    sectors: dict[str, str] = field(default_factory=dict)
    source: str = ""


def load_limits(path: Path | None) -> Limits:
    """Read the limits file (``None``: the packaged demo limits); unknown keys are refused."""
    target = path or DEMO_LIMITS
    try:
        data = tomllib.loads(Path(target).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(
            f"limits file {target} not found", hint="set SIGHTLINE_BATCH_LIMITS to a TOML file"
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"limits file {target} is not valid TOML: {exc}") from None
    portfolios: dict[str, dict[str, float]] = {}
    for name, spec in (data.get("portfolios") or {}).items():
        unknown = set(spec) - set(LIMIT_KINDS)
        if unknown:
            raise ConfigError(
                f"limits file {target}: unknown limit(s) {', '.join(sorted(unknown))} for {name}",
                hint=f"use: {', '.join(LIMIT_KINDS)}",
            )
        portfolios[name] = {k: float(v) for k, v in spec.items()}
    sectors = {str(k): str(v) for k, v in (data.get("sectors") or {}).items()}
    return Limits(portfolios, sectors, str(target))


def usage(limits: Limits, portfolio: str, measured: dict[str, float]) -> list[dict[str, Any]]:
    """Each limit of ``portfolio`` with the measured value, usage share and status."""
    rows = []
    for name, limit in limits.portfolios.get(portfolio, {}).items():
        value = measured.get(name)
        share = None if value is None or limit == 0 else value / limit
        status = (
            "n/a" if share is None else "breach" if share >= 1 else "warn" if share >= WARN_AT
            else "ok"
        )  # fmt: skip
        rows.append(
            {"limit": name, "label": LIMIT_KINDS[name], "value": value, "limit_value": limit,
             "usage": share, "status": status}
        )  # fmt: skip
    return rows
