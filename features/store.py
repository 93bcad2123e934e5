"""Point-in-time reads of materialized features: the latest value known at a date, never later.

Every value in ``feature_values`` is dated by when it became computable (the bar's date, the
filing date of the figures behind it, the macro observation date), so reading the latest row with
``as_of <= date`` cannot look ahead.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING

from features.definitions import all_features, select
from features.values import FeatureValue
from ingestion.errors import StoreError

if TYPE_CHECKING:
    import duckdb


def _require_table(con: duckdb.DuckDBPyConnection) -> None:
    found = con.execute(
        "SELECT COUNT(*) FROM information_schema.tables WHERE table_name = 'feature_values'"
    ).fetchall()[0][0]
    if not found:
        raise StoreError(
            "the warehouse has no feature tables yet",
            hint="run `sightline features materialize` (or `sightline demo`)",
        )


def _order() -> dict[str, int]:
    return {d.name: i for i, d in enumerate(all_features())}


def get_features(
    con: duckdb.DuckDBPyConnection,
    entities: Sequence[str],
    names: Sequence[str] | None,
    as_of: date | None,
) -> list[FeatureValue]:
    """The latest value of each (entity, feature) known at ``as_of``.

    Args:
        con: A connection to the warehouse (read-only is enough).
        entities: Tickers, issuers or ``US`` for macro features.
        names: Feature names (None or empty: every feature).
        as_of: Only values with ``as_of <= this date`` are considered (None: the latest stored).

    Returns:
        One FeatureValue per (entity, feature) that has a value known at ``as_of``, ordered by
        entity then feature; each carries its definition version and its own as-of date.

    Raises:
        NotFoundError: A name is not a declared feature.
        StoreError: The warehouse has no feature tables.
    """
    _require_table(con)
    if not entities:
        return []
    wanted = [d.name for d in select(list(names) if names else None)]
    params: list[object] = [list(entities), wanted]
    cut = ""
    if as_of is not None:
        cut = "AND as_of <= ?"
        params.append(as_of)
    rows = con.execute(
        "SELECT entity, feature, version, as_of, value FROM feature_values "
        f"WHERE entity IN (SELECT UNNEST(?)) AND feature IN (SELECT UNNEST(?)) {cut} "
        "QUALIFY ROW_NUMBER() OVER (PARTITION BY entity, feature ORDER BY as_of DESC) = 1",
        params,
    ).fetchall()
    order = _order()
    values = [FeatureValue(e, f, v, a, float(x)) for e, f, v, a, x in rows]
    rank = {e: i for i, e in enumerate(entities)}
    return sorted(values, key=lambda fv: (rank[fv.entity], order[fv.feature]))


def get_feature_history(
    con: duckdb.DuckDBPyConnection,
    entity: str,
    name: str,
    start: date | None = None,
    end: date | None = None,
) -> list[FeatureValue]:
    """Every stored value of one feature for one entity, oldest first, within [start, end].

    Raises:
        NotFoundError: ``name`` is not a declared feature.
        StoreError: The warehouse has no feature tables.
    """
    _require_table(con)
    select([name])  # validates the name
    clauses = ["entity = ?", "feature = ?"]
    params: list[object] = [entity, name]
    if start is not None:
        clauses.append("as_of >= ?")
        params.append(start)
    if end is not None:
        clauses.append("as_of <= ?")
        params.append(end)
    rows = con.execute(
        "SELECT entity, feature, version, as_of, value FROM feature_values "
        f"WHERE {' AND '.join(clauses)} ORDER BY as_of",
        params,
    ).fetchall()
    return [FeatureValue(e, f, v, a, float(x)) for e, f, v, a, x in rows]


def list_features(con: duckdb.DuckDBPyConnection) -> list[dict[str, object]]:
    """Every definition with its version and freshness.

    Returns:
        Dicts with name, version, entity_kind, unit, description, window, source, and
        ``fresh_as_of`` (latest as_of stored for the current version, None if never computed),
        ``computed_at`` and ``stored_version`` (the version of the stored rows, if any).
    """
    _require_table(con)
    stored = {
        f: (v, a, c)
        for f, v, a, c in con.execute(
            "SELECT feature, ANY_VALUE(version), MAX(as_of), MAX(computed_at) "
            "FROM feature_values GROUP BY feature"
        ).fetchall()
    }
    out = []
    for d in all_features():
        version, last, computed = stored.get(d.name, (None, None, None))
        item: dict[str, object] = {
            "name": d.name,
            "version": d.version,
            "entity_kind": d.entity_kind,
            "unit": d.unit,
            "description": d.description,
            "window": d.window,
            "source": d.source,
            "fresh_as_of": last.isoformat() if last and version == d.version else None,
            "computed_at": computed.isoformat(timespec="seconds") if computed else None,
            "stored_version": version,
        }
        out.append(item)
    return out
