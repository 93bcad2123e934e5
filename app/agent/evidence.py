"""Evidence gathered while answering one question: logged tool calls, numbered passages, features.

Everything the answer may state comes from here, and everything here goes into the answer record:
tool calls with their arguments, results and timings; retrieved passages numbered [1], [2], ... in
the order first seen; the feature values tools used (with version and as-of); the SQL that ran;
and the model versions that served the call.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

# Text in documents that tries to steer the assistant (SECURITY.md 10): logged, never obeyed.
INJECTION_PATTERNS = re.compile(
    r"ignore (all |any )?(previous|prior|above) (instructions|prompts?)|disregard (the|all|your) "
    r"|system prompt|you are now|new instructions|run (the )?(sql|query|select)|select \* from"
    r"|exfiltrat|send (it|them|the \w+) to|https?://|<\s*script|\bexec\(|\beval\(|os\.system",
    re.IGNORECASE,
)


@dataclass
class LoggedCall:
    """One tool call as logged: what was asked, what came back, when and how long."""

    tool: str
    args: dict[str, Any]
    result: Any
    started: datetime
    ms: float
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The ``--json``/record shape of the call."""
        return {"tool": self.tool, "args": self.args, "result": self.result, "ms": self.ms}


@dataclass
class Evidence:
    """What one question's tools returned, in order."""

    calls: list[LoggedCall] = field(default_factory=list)
    passages: list[dict[str, Any]] = field(default_factory=list)  # index i is marker [i+1]
    features: list[dict[str, Any]] = field(default_factory=list)
    sql: list[dict[str, Any]] = field(default_factory=list)
    models: dict[str, str] = field(default_factory=dict)  # "risk_model" -> "risk@VERSION"
    warnings: list[str] = field(default_factory=list)
    # Requests refused by the restricted list (SECURITY.md 9), logged in the record's details.
    barrier_events: list[dict[str, Any]] = field(default_factory=list)

    def record(self, call: LoggedCall) -> None:
        """Log a call and harvest its passages, feature values, SQL and model versions."""
        self.calls.append(call)
        result = call.result if isinstance(call.result, dict) else {}
        if "error" in result:
            return
        if call.tool == "search_documents":
            for passage in result.get("passages", []):
                self.add_passage(passage)
        if call.tool == "query_features" and "sql" in result:
            self.sql.append({"query": result["sql"], "rows": result.get("row_count", 0)})
        for value in result.get("values", []) if isinstance(result.get("values"), list) else []:
            self._add_feature(value)
        for value in result.get("inputs", []) or []:
            self._add_feature(value)
        if call.tool == "get_feature_history" and result.get("version"):
            summary = result.get("summary", {})
            for end in ("first", "last"):
                point = summary.get(end)
                if point:
                    self._add_feature(
                        {
                            "entity": result["entity"],
                            "feature": result["feature"],
                            "version": result["version"],
                            "as_of": point["as_of"],
                            "value": point["value"],
                        }
                    )
        model = result.get("model")
        if isinstance(model, str) and "@" in model:
            key = {"risk": "risk_model", "pd": "pd_model"}.get(model.split("@")[0], model)
            self.models[key] = model

    def add_passage(self, passage: dict[str, Any]) -> int:
        """Number a passage (the same chunk keeps its first number); flag injected instructions."""
        for i, seen in enumerate(self.passages):
            if seen["chunk_id"] == passage["chunk_id"]:
                return i + 1
        n = len(self.passages) + 1
        self.passages.append(dict(passage, n=n))  # a copy: the logged result stays as returned
        if passage.get("invisible_stripped"):
            self.warnings.append(
                f"passage [{n}] ({passage.get('doc_name')}) held invisible characters: stripped"
            )
        hit = INJECTION_PATTERNS.search(passage.get("text", ""))
        if hit:
            self.warnings.append(
                f"passage [{n}] ({passage.get('doc_name')} p.{passage.get('page_start')}) holds "
                f"instruction-like text ({hit.group(0)!r}): treated as data, not followed"
            )
        return n

    def numbered(self, passages: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The evidence copies (with ``n``) of passages a tool returned, in its order."""
        index = {p["chunk_id"]: p for p in self.passages}
        return [index[p["chunk_id"]] for p in passages if p.get("chunk_id") in index]

    def passage(self, n: int) -> dict[str, Any] | None:
        """The passage with marker [n], if retrieved."""
        return self.passages[n - 1] if 1 <= n <= len(self.passages) else None

    def _add_feature(self, value: Any) -> None:
        if not isinstance(value, dict) or not {"entity", "feature"} <= set(value):
            return
        entry = {
            "entity": str(value["entity"]),
            "feature": str(value["feature"]),
            "version": str(value.get("version") or ""),
            "as_of": str(value.get("as_of") or ""),
            "value": value.get("value"),
        }
        if entry not in self.features:
            self.features.append(entry)

    def tool_ms(self) -> float:
        """Total time spent inside tools."""
        return sum(c.ms for c in self.calls)


def now_utc() -> datetime:
    """The current time (UTC) for call timestamps."""
    return datetime.now(UTC)
