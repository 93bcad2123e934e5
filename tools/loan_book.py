"""Loan-book statistics: default rate, counts and averages over the loans table, optionally grouped.

Only the credit fields can be filtered or grouped on; the personal-data columns of ``loans``
(SECURITY.md 20) are not among the choices, so no statistic can be cut by them.
"""

from __future__ import annotations

from typing import Any, Literal

import duckdb
from pydantic import Field

from tools.errors import InsufficientData
from tools.history import StrictArgs

GROUPS = ("purpose", "housing", "job", "checking_status", "credit_history", "savings")
MEASURES = {
    "default_rate": "avg(defaulted)",
    "count": "count(*)",
    "mean_credit_amount": "avg(credit_amount)",
    "mean_duration_months": "avg(duration_months)",
    "total_credit_amount": "sum(credit_amount)",
}


class LoanBookArgs(StrictArgs):
    """A statistic of the loan book, over all loans or a filtered part, optionally by group."""

    measure: Literal[
        "default_rate", "count", "mean_credit_amount", "mean_duration_months",
        "total_credit_amount",
    ] = Field(description="what to compute")  # fmt: skip
    purpose: str | None = Field(None, max_length=40, description="e.g. 'car (new)', 'education'")
    min_duration_months: int | None = Field(None, ge=0, le=600, description="duration > this")
    max_duration_months: int | None = Field(None, ge=0, le=600, description="duration < this")
    group_by: Literal["purpose", "housing", "job", "checking_status", "credit_history",
                      "savings"] | None = Field(None, description="one row per value")  # fmt: skip
    order: Literal["highest", "lowest"] | None = Field(None, description="sort groups")
    limit: int | None = Field(None, ge=1, le=20, description="keep the first N groups")


def loan_book(con: duckdb.DuckDBPyConnection, args: LoanBookArgs) -> dict[str, Any]:
    """Compute the statistic; every filter and the number of loans behind each figure returned."""
    where: list[str] = []
    params: list[Any] = []
    if args.purpose:
        where.append("purpose = ?")
        params.append(args.purpose)
    if args.min_duration_months is not None:
        where.append("duration_months > ?")
        params.append(args.min_duration_months)
    if args.max_duration_months is not None:
        where.append("duration_months < ?")
        params.append(args.max_duration_months)
    clause = f" WHERE {' AND '.join(where)}" if where else ""
    measure = MEASURES[args.measure]
    if args.group_by:
        direction = "ASC" if args.order == "lowest" else "DESC"
        rows = con.execute(
            f"SELECT {args.group_by}, {measure}, count(*) FROM loans{clause} GROUP BY 1 "
            f"ORDER BY 2 {direction}, 1",
            params,
        ).fetchall()
        rows = rows[: args.limit] if args.limit else rows
        groups = [{"group": g, "value": float(v), "loans": n} for g, v, n in rows]
        if not groups:
            raise InsufficientData("no loan matches those filters", hint="loosen the filters")
        return {"measure": args.measure, "group_by": args.group_by, "groups": groups,
                "filters": _filters(args)}  # fmt: skip
    row = con.execute(f"SELECT {measure}, count(*) FROM loans{clause}", params).fetchone()
    value, n = row if row is not None else (None, 0)
    if not n:
        raise InsufficientData("no loan matches those filters", hint="loosen the filters")
    return {"measure": args.measure, "value": float(value), "loans": n, "filters": _filters(args)}


def _filters(args: LoanBookArgs) -> dict[str, Any]:
    keep = ("purpose", "min_duration_months", "max_duration_months")
    return {k: getattr(args, k) for k in keep if getattr(args, k) is not None}
