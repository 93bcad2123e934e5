"""Sightline's settings: one typed object, read from ``SIGHTLINE_*`` environment variables.

Built once in an entry point (CLI, Streamlit) and passed down; nothing below ``app`` reads the
environment itself. Every field carries help text: ``sightline settings`` and the docs print it.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from ingestion.errors import ConfigError


class Settings(BaseSettings):
    """All settings, each overridable by an environment variable ``SIGHTLINE_<NAME>``."""

    model_config = SettingsConfigDict(env_prefix="SIGHTLINE_", extra="ignore", frozen=True)

    home: Path = Field(
        Path(".sightline"),
        description="Data directory: warehouse, vector index, answer trail, users, models.",
    )
    allow_shared_home: bool = Field(
        False,
        description="Start even when the data directory is readable, writable or enterable by "
        "group or others, or owned by another account (normally refused: it holds private "
        "documents, the trail and password hashes). Only for a deployment that controls access "
        "to the volume itself; see docs/security.md.",
    )
    user: str = Field(
        "analyst",
        description="User that CLI commands act for when --user is not given.",
    )
    llm: str = Field(
        "offline",
        description="LLM backend: 'offline' (deterministic planner, no LLM), 'openai:MODEL' "
        "(any OpenAI-compatible server; uses OPENAI_API_KEY and OPENAI_BASE_URL) or 'scripted' "
        "(tests).",
    )
    llm_timeout_s: float = Field(
        60.0,
        description="Wall-clock seconds one LLM reply may take, whole (not per streamed chunk).",
        gt=0,
    )
    llm_max_tokens: int = Field(
        1024, description="Most tokens the LLM may write in one reply (max_tokens).", gt=0
    )
    llm_context_tokens: int = Field(
        0,
        description="The LLM server's context window in tokens; 0 reads it from the server "
        "(llama.cpp /props, vLLM max_model_len) where it says, else only the token budget holds.",
        ge=0,
    )
    llm_stream: bool = Field(
        True, description="Stream LLM replies (false for servers that cannot stream tool calls)."
    )
    llm_retries: int = Field(
        2, description="Retries of an LLM request answered HTTP 429 or 5xx (with backoff).", ge=0
    )
    llm_mode: str = Field(
        "tools",
        description="How the LLM plans: 'tools' (tool calling) or 'plan' (one typed request "
        "under a JSON schema, run by the deterministic executor; the model writes the prose).",
    )
    vectors: str = Field(
        "chroma",
        description="Vector index: 'chroma' (embedded, in the data dir) or "
        "'chroma+http://HOST:PORT' (a Chroma server).",
    )
    trail: str = Field(
        "sqlite",
        description="Answer-trail store: 'sqlite' (file in the data dir) or a postgresql:// URL.",
    )
    trail_retention_years: int = Field(
        6, description="Years an answer record must be kept before `trail purge` may drop it.", ge=1
    )
    embedding_device: str = Field(
        "auto", description="Device for the embedding model: 'auto', 'cpu' or 'cuda'."
    )
    embedding_backend: str = Field(
        "torch",
        description="Embedding runtime for MiniLM: 'torch' (fp32) or 'onnx' (int8 ONNX Runtime, "
        "built once from the installed weights). A document store keeps the backend it was "
        "embedded with; switching needs `sightline docs reembed`.",
    )
    nats_url: str = Field(
        "nats://127.0.0.1:4222",
        description="NATS JetStream server for market events (`broker publish`, `features serve`).",
    )
    feature_snapshot_every: int = Field(
        5000,
        description="`features serve` snapshots (then acks) after this many events at most.",
        gt=0,
    )
    feature_snapshot_interval_s: float = Field(
        1.0, description="`features serve` snapshots at least this often while events arrive.", gt=0
    )
    upload_max_mb: int = Field(25, description="Largest document accepted for upload, in MB.", gt=0)
    upload_max_pages: int = Field(2000, description="Most pages accepted in one document.", gt=0)
    sql_timeout_s: float = Field(
        5.0, description="Wall-clock limit for one SQL query run by the agent.", gt=0
    )
    sql_row_cap: int = Field(1000, description="Most rows one agent SQL query may return.", gt=0)
    max_tool_calls: int = Field(
        8, description="Most tool calls the agent makes per question.", gt=0
    )
    token_budget: int = Field(
        12000, description="Most prompt tokens the agent sends to the LLM per question.", gt=0
    )
    rate_limit_per_minute: int = Field(
        30, description="Most questions one user may ask per minute.", gt=0
    )
    ui_warm_up: bool = Field(
        True,
        description="Load the embedding model, index and agent in the background when the app "
        "starts, so the first answer does not wait for them.",
    )
    batch_limits: Path | None = Field(
        None,
        description="TOML file of risk limits and the ticker -> sector map for the overnight "
        "batch and the morning report (default: the packaged demo limits).",
    )
    batch_stale_days: int = Field(
        5,
        description="A position's price older than this many days is a stale-price exception.",
        ge=0,
    )
    batch_schedule: str = Field(
        "30 1 * * 1-5",
        description="Crontab expression for `sightline batch schedule` (runs the batch for the "
        "previous business day).",
    )
    report_chromium: str = Field(
        "/usr/bin/chromium", description="Headless Chromium that prints the morning report to PDF."
    )
    monitor_psi_watch: float = Field(
        0.1, description="PSI at or above this puts a model input on watch (an alert).", gt=0
    )
    monitor_psi_act: float = Field(
        0.25, description="PSI at or above this calls for action (an alert).", gt=0
    )
    monitor_ks_act: float = Field(
        0.2, description="KS statistic at or above this raises an alert for a numeric input.", gt=0
    )
    monitor_recent_days: int = Field(
        60,
        description="Trading days of recent market data compared with the development sample.",
        ge=5,
    )

    @field_validator("vectors")
    @classmethod
    def _check_vectors(cls, value: str) -> str:
        if value != "chroma" and not value.startswith("chroma+http"):
            raise ValueError("use 'chroma' or 'chroma+http://HOST:PORT'")
        return value

    @field_validator("llm_mode")
    @classmethod
    def _check_llm_mode(cls, value: str) -> str:
        if value not in ("tools", "plan"):
            raise ValueError("use 'tools' or 'plan'")
        return value

    @field_validator("llm")
    @classmethod
    def _check_llm(cls, value: str) -> str:
        if value not in ("offline", "scripted") and not value.startswith("openai:"):
            raise ValueError("use 'offline', 'scripted' or 'openai:MODEL'")
        return value


def load_settings(**overrides: object) -> Settings:
    """Read settings from the environment; a bad value becomes a ConfigError that names it."""
    from pydantic import ValidationError

    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        details = "; ".join(
            f"SIGHTLINE_{'_'.join(map(str, e['loc'])).upper()}: {e['msg']}" for e in exc.errors()
        )
        raise ConfigError(f"invalid setting: {details}") from exc
