"""The HTTP API: predictions, risk, live features, questions and search, behind per-user tokens.

Every route needs ``Authorization: Bearer TOKEN`` (``sightline tokens create``); the token names
the user, whose role and groups then apply exactly as in the CLI and the app (restricted tickers,
document entitlements). A request that also says ``X-Sightline-User`` must name the token's own
user. The schema is published at ``/openapi.json`` (and browsable at ``/docs``).
"""

# No `from __future__ import annotations`: FastAPI reads the route annotations at run time.
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Header, HTTPException, Query, Request
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict, Field

from app import __version__
from app.service.live import LiveFeatures
from app.service.predictions import PredictionError, Predictor
from app.tokens import InvalidToken, TokenStore
from app.users import User
from ingestion.errors import NotFoundError, PermissionDenied, SightlineError
from tools.requests import LoanProfile, PDRequest, RiskRequest

_bearer = HTTPBearer(auto_error=False, description="A token from `sightline tokens create`")


@dataclass(frozen=True)
class Caller:
    """Who is calling: the token's user and the token id."""

    user: User
    token_id: str


class PDBody(BaseModel):
    """A PD request: ``loan_id``, ``loan``, ``issuer`` (+ ``as_of``) or applicant fields."""

    model_config = ConfigDict(extra="allow")

    loan_id: int | None = Field(None, ge=1)
    loan: LoanProfile | None = None
    issuer: str | None = None
    as_of: str | None = None


class AskBody(BaseModel):
    """A question for the assistant."""

    question: str = Field(min_length=1, max_length=4000)


def _unauthorized(message: str) -> HTTPException:
    return HTTPException(401, detail=message, headers={"WWW-Authenticate": "Bearer"})


def create_app(rt: Any) -> FastAPI:
    """The FastAPI app over ``rt`` (an ``app.runtime.Runtime``)."""
    app = FastAPI(
        title="Sightline inference service",
        version=__version__,
        description="PD and risk predictions, live features, questions and document search; "
        "every prediction is recorded in the answer trail.",
    )
    tokens = TokenStore(rt.settings.home)
    live = LiveFeatures(rt.settings.home / "online" / "latest.json")
    predictor = Predictor(rt, live)

    def caller(
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
        x_sightline_user: Annotated[str | None, Header()] = None,
    ) -> Caller:
        if credentials is None or credentials.scheme.lower() != "bearer":
            raise _unauthorized("an API token is required (Authorization: Bearer TOKEN)")
        try:
            entry = tokens.verify(credentials.credentials)
            user = rt.user(entry.user)
        except (InvalidToken, NotFoundError):
            raise _unauthorized("invalid or revoked API token") from None
        if x_sightline_user is not None and x_sightline_user != user.name:
            raise _unauthorized("this token belongs to another user")
        return Caller(user=user, token_id=entry.id)

    Authed = Annotated[Caller, Depends(caller)]

    @app.exception_handler(PredictionError)
    def _refused(request: Request, exc: PredictionError) -> JSONResponse:
        return JSONResponse(exc.body, status_code=exc.status)

    @app.exception_handler(SightlineError)
    def _error(request: Request, exc: SightlineError) -> JSONResponse:
        status = 404 if isinstance(exc, NotFoundError) else 400
        if isinstance(exc, PermissionDenied):
            status = 403  # a role or an information barrier (tools.restricted)
        return JSONResponse({"error": exc.message, "hint": exc.hint or ""}, status_code=status)

    @app.post("/v1/predict/pd", tags=["predictions"])
    def predict_pd(body: PDBody, who: Authed) -> dict[str, Any]:
        """Probability of default of a stored loan, an applicant, or an issuer (recorded)."""
        args = body.model_dump(exclude_none=True)
        extra = {k: args.pop(k) for k in list(body.model_extra or {})}
        if extra:
            args["loan"] = extra  # applicant fields at the top level
        return predictor.predict(
            "default_probability", args, who.user, endpoint="/v1/predict/pd",
            token_id=who.token_id,
        )  # fmt: skip

    @app.post("/v1/risk", tags=["predictions"])
    def risk(body: RiskRequest, who: Authed) -> dict[str, Any]:
        """Market risk of a ticker, a stored portfolio or weights (recorded)."""
        args = body.model_dump(mode="json", exclude_none=True)
        return predictor.predict(
            "risk_metrics", args, who.user, endpoint="/v1/risk", token_id=who.token_id
        )

    @app.get("/v1/features/{entity}", tags=["features"])
    def features(entity: str, who: Authed) -> dict[str, Any]:
        """Live values of ENTITY from the feature service, with the event sequence they cover."""
        from app.agent.toolbox import restricted_policy
        from tools.restricted import barred_for, check_names

        check_names([entity], barred_for(restricted_policy(rt), who.user.groups))
        values, sequence = live.values(entity)
        if not values:
            raise NotFoundError(
                f"no live feature values for '{entity}'",
                hint="start `sightline features serve` and publish events with "
                "`sightline broker publish FILE`",
            )
        return {"entity": entity, "sequence": sequence, "values": values}

    @app.post("/v1/ask", tags=["assistant"])
    def ask(body: AskBody, who: Authed) -> dict[str, Any]:
        """Ask the assistant a question (answered and recorded as with `sightline ask`)."""
        from app.agent import answer

        return dict(answer(rt, body.question, who.user).to_json())

    @app.get("/v1/search", tags=["assistant"])
    def search(
        who: Authed,
        q: Annotated[str, Query(min_length=1, max_length=1000)],
        k: Annotated[int, Query(ge=1, le=50)] = 10,
    ) -> list[dict[str, Any]]:
        """Hybrid search of the documents the caller may see."""
        found = rt.documents.search(q, groups=who.user.groups, k=k)
        keys = ("doc_id", "doc_name", "title", "page_start", "page_end", "score", "text")
        return [{key: p.as_dict()[key] for key in keys} for p in found]

    @app.get("/v1/health", tags=["service"])
    def health() -> dict[str, Any]:
        """Liveness, without a token (no data)."""
        return {"ok": True, "version": __version__}

    _ = PDRequest  # the PD body is validated by the tool's own schema (tools.requests.PDRequest)
    return app
