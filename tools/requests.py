"""Typed, validated arguments of the model tools (SECURITY.md rows 7 and 16).

The caller describes *what* to measure; it can never pick a model version, a file or a table: the
registry serves the approved version. Unknown fields are refused, so an argument such as
``model_version`` or ``path`` fails validation with a message the agent can act on.
"""

from __future__ import annotations

import math
from datetime import date
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from ingestion.schemas import TICKER_PATTERN
from tools.errors import ToolInputError

PORTFOLIO_PATTERN = r"^[A-Za-z0-9_\-]{1,40}$"
MAX_WEIGHTS = 50

RequestT = TypeVar("RequestT", bound=BaseModel)


class RiskRequest(BaseModel):
    """Market risk of one ticker, a stored portfolio, or ad-hoc weights (exactly one of them)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    ticker: str | None = Field(None, pattern=TICKER_PATTERN, description="e.g. AAPL or ^GSPC")
    portfolio: str | None = Field(
        None, pattern=PORTFOLIO_PATTERN, description="stored portfolio id, e.g. DEMO"
    )
    weights: dict[str, float] | None = Field(
        None, description="ad-hoc portfolio: ticker -> weight (normalized to sum to 1)"
    )
    confidence: float = Field(0.99, ge=0.90, le=0.999, description="VaR/ES confidence level")
    horizon_days: int = Field(1, ge=1, le=250, description="holding period in trading days")
    as_of: date | None = Field(None, description="measure as of this date (default: latest)")
    lookback_days: int = Field(
        1000, ge=250, le=10000, description="trading days of history used (at most)"
    )

    @field_validator("weights")
    @classmethod
    def _check_weights(cls, value: dict[str, float] | None) -> dict[str, float] | None:
        if value is None:
            return None
        import re

        if not value or len(value) > MAX_WEIGHTS:
            raise ValueError(f"give between 1 and {MAX_WEIGHTS} tickers")
        for ticker, weight in value.items():
            if not re.fullmatch(TICKER_PATTERN, ticker):
                raise ValueError(f"'{ticker}' is not a ticker symbol")
            if not math.isfinite(weight):
                raise ValueError(f"the weight of {ticker} is not a finite number")
        if abs(sum(value.values())) < 1e-9:
            raise ValueError("the weights sum to zero; give weights with a non-zero net sum")
        return value

    @model_validator(mode="after")
    def _exactly_one_target(self) -> RiskRequest:
        given = [n for n in ("ticker", "portfolio", "weights") if getattr(self, n) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of ticker, portfolio or weights")
        return self


class LoanProfile(BaseModel):
    """A loan applicant described with the German-credit fields (categorical values as stored)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    checking_status: str = Field(max_length=80)
    duration_months: int = Field(ge=1, le=600)
    credit_history: str = Field(max_length=80)
    purpose: str = Field(max_length=80)
    credit_amount: float = Field(gt=0, le=1e9)
    savings: str = Field(max_length=80)
    employment_since: str = Field(max_length=80)
    installment_rate: int = Field(ge=1, le=100)
    personal_status_sex: str = Field(max_length=80)
    other_debtors: str = Field(max_length=80)
    residence_since: int = Field(ge=0, le=100)
    property: str = Field(max_length=80)
    age: int = Field(ge=18, le=120)
    other_installment_plans: str = Field(max_length=80)
    housing: str = Field(max_length=80)
    existing_credits: int = Field(ge=0, le=100)
    job: str = Field(max_length=80)
    dependents: int = Field(ge=0, le=50)
    telephone: str = Field(max_length=80)
    foreign_worker: str = Field(max_length=80)


class PDRequest(BaseModel):
    """Default probability of a stored loan, a described loan, or a listed issuer (Merton)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    loan_id: int | None = Field(None, ge=1, description="a loan in the loans table")
    loan: LoanProfile | None = Field(None, description="a loan applicant's fields")
    issuer: str | None = Field(None, pattern=TICKER_PATTERN, description="issuer ticker, e.g. KO")
    as_of: date | None = Field(None, description="issuer PD as of this date (default: latest)")

    @model_validator(mode="after")
    def _exactly_one_subject(self) -> PDRequest:
        given = [n for n in ("loan_id", "loan", "issuer") if getattr(self, n) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of loan_id, loan or issuer")
        if self.as_of is not None and self.issuer is None:
            raise ValueError("as_of applies to issuer PDs only")
        return self

    @property
    def kind(self) -> Literal["loan", "issuer"]:
        """Which PD model answers this request."""
        return "issuer" if self.issuer is not None else "loan"


def parse_request(cls: type[RequestT], args: dict[str, Any] | RequestT) -> RequestT:
    """Validate tool arguments into ``cls``; every problem becomes one ToolInputError."""
    if isinstance(args, cls):
        return args
    try:
        return cls.model_validate(args)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'arguments'}: {err['msg']}"
            for err in exc.errors()
        )
        raise ToolInputError(
            f"invalid {cls.__name__} arguments: {problems}",
            hint="fix the listed arguments; model versions and files are chosen by the registry, "
            "not by the caller",
        ) from None
