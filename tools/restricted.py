"""The restricted list (compliance's watch/restricted list) and its enforcement in the tools.

SECURITY.md row 9: an information barrier that covers structured data, not only documents. A
restricted ticker may be seen only by users in one of its ``allowed_groups`` (e.g. ``deal-team``);
for everyone else every tool refuses it with :class:`tools.errors.BarrierError`, which the agent
logs as a barrier event in the answer's trail record.

The list lives in ``$SIGHTLINE_HOME/restricted.json``: the current entries and an append-only
history of every add and remove (who, when), replaced atomically under a lock. Only compliance or
admin may change it (checked by the caller, ``app.cli.restricted``).

Enforcement (``check_*``) is server-side and uses only the user's groups from ``ToolContext``:

* SQL text: every string literal of the sqlglot AST (also after constant folding, so
  ``'BB' || 'Y'`` counts), compared case-insensitively; LIKE/ILIKE/GLOB/SIMILAR/regexp patterns
  that would match a restricted ticker.
* SQL result: any cell equal to a restricted ticker refuses the whole result (``SELECT *``).
* Tool arguments: tickers, issuers, entities and portfolios holding a restricted ticker.
"""

from __future__ import annotations

import contextlib
import fnmatch
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ingestion.errors import InputError, NotFoundError
from ingestion.jsonfile import locked, write_atomic
from tools.errors import BarrierError

FILE_NAME = "restricted.json"
TICKER = re.compile(r"^[A-Z^][A-Z0-9.\-^=]{0,14}$")
GROUP = re.compile(r"^[a-z][a-z0-9\-]{0,39}$")

# What the model is told: enough to move on, nothing about why (the reason is compliance's).
REFUSAL_HINT = (
    "this data is behind an information barrier for this user; do not try other queries for it; "
    "leave it out (e.g. ticker <> 'X' or NOT IN in SQL), answer without it and tell the user it "
    "is restricted (compliance can say more)"
)


@dataclass(frozen=True)
class RestrictedEntry:
    """One restricted ticker: who may still see it, why, and who put it on the list when."""

    ticker: str
    allowed_groups: tuple[str, ...]
    reason: str
    added_by: str
    added_at: str

    def to_json(self) -> dict[str, Any]:
        """The JSON shape stored and printed by ``sightline restricted list --json``."""
        return asdict(self) | {"allowed_groups": list(self.allowed_groups)}


class RestrictedList:
    """The restricted list of one data dir (``restricted.json``), with its change history."""

    def __init__(self, home: Path) -> None:
        self.path = Path(home) / FILE_NAME

    def entries(self) -> list[RestrictedEntry]:
        """The current entries, by ticker."""
        data = self._read()
        return [
            RestrictedEntry(**(e | {"allowed_groups": tuple(e["allowed_groups"])}))
            for e in sorted(data["entries"], key=lambda e: e["ticker"])
        ]

    def history(self) -> list[dict[str, Any]]:
        """Every add and remove, oldest first (``action``, ``ticker``, ``by``, ``at``, ...)."""
        return list(self._read()["history"])

    def policy(self) -> dict[str, tuple[str, ...]]:
        """Ticker -> allowed groups (what a ``ToolContext`` carries)."""
        return {e.ticker: e.allowed_groups for e in self.entries()}

    def add(self, ticker: str, groups: Iterable[str], reason: str, by: str) -> RestrictedEntry:
        """Put ``ticker`` on the list (or replace its entry); record the change.

        Raises:
            InputError: a malformed ticker or group, no group, or an empty reason.
        """
        ticker = ticker.strip().upper()
        allowed = tuple(sorted({g.strip() for g in groups if g.strip()}))
        if not TICKER.fullmatch(ticker):
            raise InputError(f"{ticker!r} is not a ticker", hint="e.g. BBY")
        if not allowed or not all(GROUP.fullmatch(g) for g in allowed):
            raise InputError(
                "give the groups that may still see it", hint="e.g. --groups deal-team"
            )
        if not reason.strip():
            raise InputError("a reason is required", hint="--reason 'why it is restricted'")
        entry = RestrictedEntry(ticker, allowed, reason.strip(), by, _now())
        with self._locked():
            data = self._read()
            data["entries"] = [e for e in data["entries"] if e["ticker"] != ticker]
            data["entries"].append(entry.to_json())
            data["history"].append(
                {"action": "add", "by": by, "at": entry.added_at} | entry.to_json()
            )
            self._write(data)
        return entry

    def remove(self, ticker: str, by: str) -> None:
        """Take ``ticker`` off the list; record who and when.

        Raises:
            NotFoundError: the ticker is not on the list.
        """
        ticker = ticker.strip().upper()
        with self._locked():
            data = self._read()
            kept = [e for e in data["entries"] if e["ticker"] != ticker]
            if len(kept) == len(data["entries"]):
                raise NotFoundError(
                    f"{ticker} is not on the restricted list",
                    hint="see `sightline restricted list`",
                )
            data["entries"] = kept
            data["history"].append({"action": "remove", "ticker": ticker, "by": by, "at": _now()})
            self._write(data)

    def _read(self) -> dict[str, Any]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {"entries": [], "history": []}
        except (OSError, ValueError) as exc:
            # Failing closed would stop every answer; failing open would breach the barrier.
            # A broken list is an error the user sees, never a silently empty list.
            raise InputError(
                f"the restricted list {self.path} cannot be read: {exc}",
                hint="restore restricted.json from backup",
            ) from exc
        data.setdefault("entries", [])
        data.setdefault("history", [])
        return data

    def _write(self, data: dict[str, Any]) -> None:
        write_atomic(self.path, data, sort_keys=True)

    def _locked(self) -> contextlib.AbstractContextManager[None]:
        return locked(self.path)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def barred_for(policy: Mapping[str, Iterable[str]], groups: Iterable[str]) -> frozenset[str]:
    """The restricted tickers a user with ``groups`` may not see."""
    mine = set(groups)
    return frozenset(t.upper() for t, allowed in policy.items() if not mine & set(allowed))


def refuse(what: str) -> BarrierError:
    """The error for a refused request (``what`` is what the user asked for, never the reason)."""
    return BarrierError(f"{what} is restricted for you (information barrier)", hint=REFUSAL_HINT)


# -- checks ---------------------------------------------------------------------------------------
def check_names(names: Iterable[str | None], barred: frozenset[str]) -> None:
    """Refuse when any of ``names`` (tickers, issuers, entities) is barred."""
    if not barred:
        return
    hit = sorted({n.upper() for n in names if n and n.upper() in barred})
    if hit:
        raise refuse(", ".join(hit))


def check_sql(sql: str, barred: frozenset[str]) -> None:
    """Refuse SQL whose literals or patterns name a barred ticker (before it runs).

    A statement that does not parse is left to the SQL guard, which rejects it.
    """
    if not barred:
        return
    import sqlglot
    from sqlglot import exp
    from sqlglot.errors import SqlglotError

    try:
        trees = [t for t in sqlglot.parse(sql, read="duckdb") if t is not None]
    except SqlglotError:
        return
    except Exception:  # noqa: BLE001 - the guard rejects what sqlglot cannot parse
        return
    for tree in trees:
        variants = [tree]
        with contextlib.suppress(Exception):  # folding is best effort; the raw tree is checked
            from sqlglot.optimizer.simplify import simplify

            variants.append(simplify(tree.copy()))
        for variant in variants:
            for literal in variant.find_all(exp.Literal):
                if _excludes(literal, variant):
                    continue  # `ticker <> 'X'` / `NOT IN (...)` leaves it out: allowed
                if literal.is_string and literal.this.strip().upper() in barred:
                    raise refuse(literal.this.strip().upper())
            for node in variant.find_all(exp.Like, exp.ILike, exp.Glob, exp.SimilarTo):
                _check_pattern(node, barred)
            for regex in variant.find_all(exp.RegexpLike, exp.RegexpExtract):
                _check_regex(regex, barred)


def _excludes(literal: Any, root: Any) -> bool:
    """True when the literal only leaves rows out of the final result.

    That is ``col <> 'X'`` or ``col NOT IN ('X', ...)`` as a conjunct (AND) of the outermost
    SELECT's WHERE. Anywhere else (CASE, a subquery, OR, a double negation) it could select the
    restricted rows, so it counts as naming the ticker.
    """
    from sqlglot import exp

    node = literal.parent
    if isinstance(node, exp.In) and isinstance(node.parent, exp.Not):
        node = node.parent
    elif not isinstance(node, exp.NEQ):
        return False
    while isinstance(node.parent, exp.And | exp.Paren):
        node = node.parent
    return isinstance(node.parent, exp.Where) and node.parent.parent is root


def _check_pattern(node: Any, barred: frozenset[str]) -> None:
    from sqlglot import exp

    pattern = node.expression
    if not (isinstance(pattern, exp.Literal) and pattern.is_string):
        return
    text = pattern.this
    if isinstance(node, exp.Glob):
        regex = fnmatch.translate(text)
    elif isinstance(node, exp.SimilarTo):
        regex = text
    else:  # LIKE: % any run, _ one character, the rest literal
        regex = (
            "".join(".*" if c == "%" else "." if c == "_" else re.escape(c) for c in text) + r"\Z"
        )
    _match_any(regex, barred, text)


def _check_regex(node: Any, barred: frozenset[str]) -> None:
    from sqlglot import exp

    pattern = node.expression
    if isinstance(pattern, exp.Literal) and pattern.is_string:
        _match_any(pattern.this, barred, pattern.this, search=True)


def _match_any(regex: str, barred: frozenset[str], shown: str, *, search: bool = False) -> None:
    try:
        compiled = re.compile(regex, re.IGNORECASE | re.DOTALL)
    except re.error:
        compiled = None
    for ticker in barred:
        if compiled is None:
            hit = ticker.lower() in shown.lower()  # an unparsable pattern: be conservative
        elif search:
            hit = compiled.search(ticker) is not None
        else:
            hit = compiled.match(ticker) is not None
        if hit:
            raise refuse(f"the pattern {shown!r} (it matches a restricted ticker)")


def check_rows(rows: Iterable[Iterable[Any]], barred: frozenset[str]) -> None:
    """Refuse a whole result when any cell equals a barred ticker (so ``SELECT *`` cannot leak)."""
    if not barred:
        return
    for row in rows:
        for value in row:
            if isinstance(value, str) and value.strip().upper() in barred:
                raise refuse("the result (it holds rows of a restricted ticker)")
            if isinstance(value, list | tuple | dict):
                inner = value.values() if isinstance(value, dict) else value
                check_rows([list(inner)], barred)


def ensure_demo(home: Path) -> str:
    """``sightline demo``: restrict BBY to deal-team once (by compliance); reruns change nothing.

    BBY is the subject of the private-side deal-team memo in the demo documents.
    """
    store = RestrictedList(home)
    if any(e.ticker == "BBY" for e in store.entries()):
        return "BBY already restricted"
    store.add("BBY", ["deal-team"], "deal-team mandate (demo)", "compliance")
    return "restricted BBY to deal-team"
