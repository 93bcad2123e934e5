"""One served prediction: run the approved model through the agent's tools, record it, answer.

The model call goes through ``tools.agent_tools.call_tool`` with the caller's ToolContext, so
restricted tickers are refused exactly as in the CLI and the agent. Every call becomes a trail
record of kind ``prediction``: the request, the feature values used (the model's inputs with
their versions, plus the issuer's live streaming values with the event sequence they cover),
the model version, the result as the logged tool call (what ``sightline trail replay`` re-runs)
and the latency. A refusal is recorded too (status ``refused``, a barrier event).
"""

from __future__ import annotations

import threading
import time
from typing import Any

from app.agent.toolbox import context_for
from app.service.live import LiveFeatures
from app.trail import AnswerRecord, FeatureUse, ToolCall, Versions
from app.trail.record import to_jsonable, utc_now
from app.users import User
from tools.agent_tools import call_tool

MODEL_KEYS = {"default_probability": "pd_model", "risk_metrics": "risk_model"}


class PredictionError(Exception):
    """A refused prediction (barrier, bad arguments): HTTP status and body with the record id."""

    def __init__(self, status: int, body: dict[str, Any]) -> None:
        """``status`` is the HTTP status, ``body`` the JSON answer."""
        super().__init__(body.get("error"))
        self.status = status
        self.body = body


def _feature_uses(inputs: list[dict[str, Any]], live: list[dict[str, Any]]) -> list[FeatureUse]:
    out = []
    for r in [*inputs, *live]:
        out.append(
            FeatureUse(
                entity=str(r["entity"]),
                feature=str(r["feature"]),
                version=str(r.get("version") or ""),
                as_of=str(r.get("as_of") or ""),
                value=r.get("value"),
                sequence=r.get("sequence"),
            )
        )
    return out


class Predictor:
    """Runs and records predictions for the service (one per app; thread-safe appends)."""

    def __init__(self, rt: Any, live: LiveFeatures) -> None:
        """Use ``rt`` (a Runtime) for tools and the trail, ``live`` for streaming values."""
        self.rt = rt
        self.live = live
        self._append_lock = threading.Lock()

    def predict(
        self, tool: str, args: dict[str, Any], user: User, *, endpoint: str, token_id: str
    ) -> dict[str, Any]:
        """Run ``tool`` for ``user``; the recorded answer (PredictionError when refused)."""
        t0 = time.perf_counter()
        started = utc_now()
        ctx = context_for(self.rt, user)
        try:
            result = to_jsonable(call_tool(ctx, tool, args))
        finally:
            ctx.close()
        ms = (time.perf_counter() - t0) * 1000
        entity = args.get("issuer") or args.get("ticker")
        live, sequence = self.live.values(str(entity)) if entity else ([], {})
        error = result.get("error") if isinstance(result, dict) else None
        logged_args = dict(args)
        if error and result.get("barrier"):
            logged_args["groups"] = list(user.groups)  # replay applies the restricted list
        call = ToolCall(
            tool=tool, args=logged_args, result=result, error=error, started=started, ms=ms
        )
        details: dict[str, Any] = {"endpoint": endpoint, "request": args, "token_id": token_id,
                   "live_sequence": sequence}  # fmt: skip
        if error:
            barrier = bool(result.get("barrier"))
            if barrier:
                details["barrier_events"] = [{"tool": tool, "call": 0, "refused": error}]
            record = self._record(
                user, "refused", endpoint, args, error, [call], [], {}, t0, details
            )
            status = 403 if barrier else 422
            raise PredictionError(status, {"error": error, "hint": result.get("hint", ""),
                                           "id": record})  # fmt: skip
        model = str(result["model"])
        versions = {MODEL_KEYS[tool]: model}
        uses = _feature_uses(result.get("inputs", []), live)
        flags = result.get("out_of_domain") or []
        outcome = "flagged" if flags else "answered"
        summary = ", ".join(f"{k} {v:.6g}" for k, v in result["values"].items()
                            if isinstance(v, int | float) and not isinstance(v, bool))  # fmt: skip
        text = f"{summary} ({model})"
        warnings = [str(f.get("message", f)) for f in flags]
        record_id = self._record(
            user, outcome, endpoint, args, text, [call], uses, versions, t0, details, warnings
        )
        return {
            "id": record_id,
            "model": model,
            "status": outcome,
            "subject": result.get("subject"),
            "values": result["values"],
            "feature_values": [u.model_dump(mode="json") for u in uses],
            "out_of_domain": flags,
            "latency_ms": round((time.perf_counter() - t0) * 1000, 3),
        }

    def _record(
        self,
        user: User,
        status: str,
        endpoint: str,
        args: dict[str, Any],
        text: str,
        calls: list[ToolCall],
        uses: list[FeatureUse],
        versions: dict[str, str],
        t0: float,
        details: dict[str, Any],
        warnings: list[str] | None = None,
    ) -> str:
        import json

        record = AnswerRecord(
            kind="prediction",
            user=user.name,
            role=user.role,
            status=status,
            question=f"POST {endpoint} {json.dumps(to_jsonable(args), sort_keys=True)}",
            answer=text,
            tool_calls=calls,
            feature_values=uses,
            versions=Versions(**versions),
            latency_ms=(time.perf_counter() - t0) * 1000,
            warnings=warnings or [],
            details=details,
        )
        with self._append_lock:
            stored = self.rt.trail.append(record)  # raises when not durable: nothing is answered
        return str(getattr(stored, "id", record.id))
