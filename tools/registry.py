"""The model registry: inventory, versions, artefacts and the maker-checker lifecycle (SR 11-7).

Each model version is identified by a hash of its parameters, the sha256 of its training data and
the code version, so retraining the same code on the same data gives the same version. The fitted
artefact (parameters as JSON) is stored next to the registry with its sha256, and checked on every
load, so a version is reproducible and cannot be swapped under the registry.

Status moves draft -> validated -> approved -> retired; every move is a new row (who, role, when)
in an append-only table (SQLite triggers refuse UPDATE and DELETE). Maker-checker: only a validator
validates or approves, never the person who registered the version. Only an approved version is
served; approving a version retires the one it replaces, so each model has at most one in
production, and ``in_production(name, at)`` answers which one that was at any time.
"""

from __future__ import annotations

import builtins
import contextlib
import hashlib
import json
import os
import re
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

from tools.errors import GovernanceError, LifecycleError, ModelNotFound, ToolInputError

STATUSES = ("draft", "validated", "approved", "retired")
_NEXT = {
    "draft": {"validated", "retired"},
    "validated": {"approved", "retired"},
    "approved": {"retired"},
}
REGISTER_ROLES = frozenset({"model_owner", "admin"})
CHECKER_ROLES = frozenset({"validator"})  # validate and approve (never the registrant)
RETIRE_ROLES = frozenset({"model_owner", "validator", "admin"})
NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
REF_PATTERN = re.compile(r"^(?P<name>[a-z][a-z0-9_]{0,39})@(?P<version>[0-9a-f]{12})$")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS model_versions (
  name TEXT NOT NULL,
  version TEXT NOT NULL,
  params_json TEXT NOT NULL,
  training_data_sha256 TEXT NOT NULL,
  code_version TEXT NOT NULL,
  metrics_json TEXT NOT NULL,
  domain_json TEXT NOT NULL,
  artefact_sha256 TEXT NOT NULL,
  registered_by TEXT NOT NULL,
  registered_at TEXT NOT NULL,
  PRIMARY KEY (name, version)
);
CREATE TABLE IF NOT EXISTS transitions (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  name TEXT NOT NULL,
  version TEXT NOT NULL,
  from_status TEXT,
  to_status TEXT NOT NULL,
  by_user TEXT NOT NULL,
  by_role TEXT NOT NULL,
  at TEXT NOT NULL,
  note TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS validations (
  name TEXT NOT NULL,
  version TEXT NOT NULL,
  report_json TEXT NOT NULL,
  report_sha256 TEXT NOT NULL,
  validated_by TEXT NOT NULL,
  at TEXT NOT NULL
);
"""
# Append-only: the inventory and its history can grow, never change.
_TRIGGERS = "\n".join(
    f"CREATE TRIGGER IF NOT EXISTS {table}_no_{op.lower()} BEFORE {op} ON {table} "
    f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END;"
    for table in ("model_versions", "transitions", "validations")
    for op in ("UPDATE", "DELETE")
)


def canonical_json(value: object) -> str:
    """JSON with sorted keys and no spaces: the form that is hashed."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), allow_nan=False)


def sha256_hex(data: bytes | str) -> str:
    """Hex sha256 of bytes (or of a string's UTF-8)."""
    return hashlib.sha256(data.encode() if isinstance(data, str) else data).hexdigest()


def code_version(*files: str | Path) -> str:
    """Short hash of the source files a model's numbers depend on."""
    digest = hashlib.sha256()
    for path in files:
        digest.update(Path(path).read_bytes())
    return digest.hexdigest()[:12]


def model_version_id(
    name: str, params: dict[str, Any], training_data_sha256: str, code: str
) -> str:
    """Version = first 12 hex of sha256(parameters + training-data sha256 + code version)."""
    payload = {"name": name, "params": params, "training_data_sha256": training_data_sha256}
    return sha256_hex(canonical_json(payload | {"code_version": code}))[:12]


def parse_ref(ref: str) -> tuple[str, str]:
    """Split ``name@version``; a malformed reference is an input error."""
    match = REF_PATTERN.fullmatch(ref.strip())
    if not match:
        raise ToolInputError(
            f"'{ref}' is not a model reference",
            hint="write NAME@VERSION, e.g. risk@0123456789ab (see `sightline models list`)",
        )
    return match["name"], match["version"]


@dataclass(frozen=True)
class TrainedModel:
    """A freshly trained model, not yet registered: what its version is computed from."""

    name: str
    params: dict[str, Any]
    training_data_sha256: str
    code_version: str
    artefact: dict[str, Any]  # fitted parameters: everything needed to score
    metrics: dict[str, Any]
    domain: dict[str, Any]  # validated input ranges

    @property
    def version(self) -> str:
        """The version this model will have in the registry."""
        return model_version_id(
            self.name, self.params, self.training_data_sha256, self.code_version
        )


@dataclass(frozen=True)
class Transition:
    """One status change: which version, from/to, who (and their role), when, why."""

    name: str
    version: str
    from_status: str | None
    to_status: str
    by_user: str
    by_role: str
    at: str
    note: str = ""

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "name": self.name,
            "version": self.version,
            "from_status": self.from_status,
            "to_status": self.to_status,
            "by": self.by_user,
            "role": self.by_role,
            "at": self.at,
            "note": self.note,
        }


@dataclass(frozen=True)
class ModelVersion:
    """A registered model version with its current status and governance facts."""

    name: str
    version: str
    status: str
    params: dict[str, Any]
    training_data_sha256: str
    code_version: str
    metrics: dict[str, Any]
    domain: dict[str, Any]
    artefact_sha256: str
    registered_by: str
    registered_at: str
    transitions: tuple[Transition, ...] = field(default=(), repr=False)
    validation_ref: str | None = None

    @property
    def ref(self) -> str:
        """``name@version``."""
        return f"{self.name}@{self.version}"

    def _last(self, status: str) -> Transition | None:
        hits = [t for t in self.transitions if t.to_status == status]
        return hits[-1] if hits else None

    @property
    def approved_by(self) -> str | None:
        """Who approved this version (None if never approved)."""
        t = self._last("approved")
        return t.by_user if t else None

    @property
    def approved_at(self) -> str | None:
        """When this version was approved (UTC ISO time)."""
        t = self._last("approved")
        return t.at if t else None

    @property
    def validated_by(self) -> str | None:
        """Who validated this version."""
        t = self._last("validated")
        return t.by_user if t else None

    def summary(self) -> dict[str, Any]:
        """The ``models list --json`` row."""
        return {
            "name": self.name,
            "version": self.version,
            "status": self.status,
            "registered_by": self.registered_by,
            "approved_by": self.approved_by,
            "approved_at": self.approved_at,
        }


class ModelRegistry:
    """The registry under ``HOME/models/``: SQLite inventory plus JSON artefacts."""

    def __init__(self, home: Path, *, clock: Callable[[], datetime] | None = None) -> None:
        self.directory = Path(home) / "models"
        self.path = self.directory / "registry.sqlite"
        self.artefacts = self.directory / "artefacts"
        self._clock = clock or (lambda: datetime.now(UTC))

    # -- reading ---------------------------------------------------------------------------------
    def list(self, name: str | None = None) -> builtins.list[ModelVersion]:
        """Every registered version (of ``name``), in registration order."""
        with self._connect() as con:
            rows = con.execute(
                "SELECT * FROM model_versions WHERE ?1 IS NULL OR name = ?1 "
                "ORDER BY registered_at, name, version",
                [name],
            ).fetchall()
            return [self._version(con, row) for row in rows]

    def get(self, name: str, version: str) -> ModelVersion:
        """One registered version; ModelNotFound when there is none."""
        with self._connect() as con:
            row = con.execute(
                "SELECT * FROM model_versions WHERE name = ? AND version = ?", [name, version]
            ).fetchone()
            if row is None:
                raise ModelNotFound(
                    f"model version {name}@{version} is not registered",
                    hint="list versions with `sightline models list`",
                )
            return self._version(con, row)

    def approved(self, name: str) -> ModelVersion:
        """The version of ``name`` approved for use now; ModelNotFound if none is approved."""
        current = [mv for mv in self.list(name) if mv.status == "approved"]
        if not current:
            known = "is not registered" if not self.list(name) else "has no approved version"
            raise ModelNotFound(
                f"model '{name}' {known}",
                hint="a model owner trains it (`sightline models train`), a validator validates "
                "and approves it (`sightline models validate/approve`)",
            )
        return current[-1]

    def in_use(self, name: str, replay_version: str | None = None) -> ModelVersion:
        """The approved version of ``name``, or (trail replay only) the logged one.

        ``replay_version`` is ``V`` or ``NAME@V`` as the answer trail logged it.
        """
        if not replay_version:
            return self.approved(name)
        return self.get(name, replay_version.removeprefix(f"{name}@"))

    def artefact(self, mv: ModelVersion) -> dict[str, Any]:
        """The fitted parameters of ``mv``, checked against the sha256 recorded at registration."""
        path = self.artefacts / mv.name / f"{mv.version}.json"
        try:
            data = path.read_bytes()
        except FileNotFoundError as exc:
            raise ModelNotFound(f"the artefact of {mv.ref} is missing ({path})") from exc
        if sha256_hex(data) != mv.artefact_sha256:
            raise GovernanceError(
                f"the artefact of {mv.ref} does not match its registered sha256; refusing to serve",
                hint="the file changed after registration: restore it or register a new version",
            )
        return json.loads(data)

    def history(self, name: str) -> builtins.list[Transition]:
        """Every status change of every version of ``name``, oldest first."""
        with self._connect() as con:
            rows = con.execute(
                "SELECT name, version, from_status, to_status, by_user, by_role, at, note "
                "FROM transitions WHERE name = ? ORDER BY seq",
                [name],
            ).fetchall()
        if not rows:
            raise ModelNotFound(f"model '{name}' is not registered")
        return [Transition(*row) for row in rows]

    def in_production(self, name: str, at: datetime | date) -> ModelVersion | None:
        """The version of ``name`` that was approved (served) at ``at`` (a date means its end)."""
        moment = _as_utc(at)
        current: str | None = None
        for t in self.history(name):
            if datetime.fromisoformat(t.at) > moment:
                break
            if t.to_status == "approved":
                current = t.version
            elif t.to_status == "retired" and t.version == current:
                current = None
        return self.get(name, current) if current else None

    def validation_report(self, mv: ModelVersion) -> dict[str, Any] | None:
        """The latest validation report recorded for ``mv`` (None before validation)."""
        with self._connect() as con:
            row = con.execute(
                "SELECT report_json FROM validations WHERE name = ? AND version = ? "
                "ORDER BY rowid DESC LIMIT 1",
                [mv.name, mv.version],
            ).fetchone()
        return json.loads(row[0]) if row else None

    # -- lifecycle -------------------------------------------------------------------------------
    def register(self, trained: TrainedModel, *, user: str, role: str) -> tuple[ModelVersion, bool]:
        """Add ``trained`` as a draft; returns (version, created). Same version again: no-op."""
        if role not in REGISTER_ROLES:
            raise GovernanceError(
                f"{user} ({role}) may not register models",
                hint=f"registering needs one of the roles: {', '.join(sorted(REGISTER_ROLES))}",
            )
        if not NAME_PATTERN.fullmatch(trained.name):
            raise ToolInputError(f"invalid model name '{trained.name}'")
        version = trained.version
        artefact_bytes = canonical_json(trained.artefact).encode()
        with self._transaction() as con:
            exists = con.execute(
                "SELECT 1 FROM model_versions WHERE name = ? AND version = ?",
                [trained.name, version],
            ).fetchone()
            if exists:
                return self._get(con, trained.name, version), False
            path = self.artefacts / trained.name / f"{version}.json"
            _write_atomically(path, artefact_bytes)
            now = self._now()
            con.execute(
                "INSERT INTO model_versions VALUES (?,?,?,?,?,?,?,?,?,?)",
                [
                    trained.name,
                    version,
                    canonical_json(trained.params),
                    trained.training_data_sha256,
                    trained.code_version,
                    canonical_json(trained.metrics),
                    canonical_json(trained.domain),
                    sha256_hex(artefact_bytes),
                    user,
                    now,
                ],
            )
            self._insert_transition(con, trained.name, version, None, "draft", user, role, now, "")
            return self._get(con, trained.name, version), True

    def validate(self, ref: str, *, user: str, role: str, report: dict[str, Any]) -> ModelVersion:
        """Record an independent validation (report kept) and move draft -> validated."""
        name, version = parse_ref(ref)
        with self._transaction() as con:
            mv = self._get(con, name, version)
            self.require_checker(mv, user, role, "validate")
            self._check_move(mv, "validated")
            failed = [c["name"] for c in report.get("checks", []) if not c.get("passed")]
            if failed:
                raise LifecycleError(
                    f"{mv.ref} failed validation checks: {', '.join(failed)}",
                    hint="fix the model and register a new version",
                )
            text = canonical_json(report)
            digest = sha256_hex(text)
            now = self._now()
            con.execute(
                "INSERT INTO validations VALUES (?,?,?,?,?,?)",
                [name, version, text, digest, user, now],
            )
            note = f"validation report sha256:{digest[:12]}"
            self._insert_transition(
                con, name, version, mv.status, "validated", user, role, now, note
            )
            return self._get(con, name, version)

    def approve(self, ref: str, *, user: str, role: str) -> ModelVersion:
        """Approve a validated version for use; the version it replaces is retired."""
        name, version = parse_ref(ref)
        with self._transaction() as con:
            mv = self._get(con, name, version)
            self.require_checker(mv, user, role, "approve")
            self._check_move(mv, "approved")
            now = self._now()
            for other in self._all(con, name):
                if other.status == "approved":
                    self._insert_transition(
                        con, name, other.version, "approved", "retired", user, role, now,
                        f"superseded by {mv.ref}",
                    )  # fmt: skip
            self._insert_transition(con, name, version, mv.status, "approved", user, role, now, "")
            return self._get(con, name, version)

    def retire(self, ref: str, *, user: str, role: str, note: str = "") -> ModelVersion:
        """Take a version out of use for good (it stays in the inventory and history)."""
        name, version = parse_ref(ref)
        if role not in RETIRE_ROLES:
            raise GovernanceError(
                f"{user} ({role}) may not retire models",
                hint=f"retiring needs one of the roles: {', '.join(sorted(RETIRE_ROLES))}",
            )
        with self._transaction() as con:
            mv = self._get(con, name, version)
            self._check_move(mv, "retired")
            self._insert_transition(
                con, name, version, mv.status, "retired", user, role, self._now(), note
            )
            return self._get(con, name, version)

    # -- checks and internals ---------------------------------------------------------------------
    def require_checker(self, mv: ModelVersion, user: str, role: str, action: str) -> None:
        """GovernanceError unless ``user`` is a validator who did not register ``mv``."""
        if role not in CHECKER_ROLES:
            raise GovernanceError(
                f"{user} ({role}) may not {action} models: only a validator may",
                hint="ask a user with the validator role (maker-checker)",
            )
        if user == mv.registered_by:
            raise GovernanceError(
                f"{user} registered {mv.ref} and may not {action} it (maker-checker)",
                hint="another validator must do this",
            )

    def _check_move(self, mv: ModelVersion, to_status: str) -> None:
        if to_status not in _NEXT.get(mv.status, set()):
            raise LifecycleError(
                f"{mv.ref} is {mv.status}; it cannot become {to_status}",
                hint="the lifecycle is draft -> validated -> approved -> retired",
            )

    def _now(self) -> str:
        return _as_utc(self._clock()).isoformat(timespec="microseconds")

    @staticmethod
    def _insert_transition(
        con: sqlite3.Connection,
        name: str,
        version: str,
        from_status: str | None,
        to_status: str,
        user: str,
        role: str,
        at: str,
        note: str,
    ) -> None:
        con.execute(
            "INSERT INTO transitions (name, version, from_status, to_status, by_user, by_role, "
            "at, note) VALUES (?,?,?,?,?,?,?,?)",
            [name, version, from_status, to_status, user, role, at, note],
        )

    def _get(self, con: sqlite3.Connection, name: str, version: str) -> ModelVersion:
        row = con.execute(
            "SELECT * FROM model_versions WHERE name = ? AND version = ?", [name, version]
        ).fetchone()
        if row is None:
            raise ModelNotFound(
                f"model version {name}@{version} is not registered",
                hint="list versions with `sightline models list`",
            )
        return self._version(con, row)

    def _all(self, con: sqlite3.Connection, name: str) -> builtins.list[ModelVersion]:
        rows = con.execute("SELECT * FROM model_versions WHERE name = ?", [name]).fetchall()
        return [self._version(con, row) for row in rows]

    @staticmethod
    def _version(con: sqlite3.Connection, row: tuple[Any, ...]) -> ModelVersion:
        (name, version, params, data_sha, code, metrics, domain, art_sha, reg_by, reg_at) = row
        transitions = tuple(
            Transition(*t)
            for t in con.execute(
                "SELECT name, version, from_status, to_status, by_user, by_role, at, note "
                "FROM transitions WHERE name = ? AND version = ? ORDER BY seq",
                [name, version],
            ).fetchall()
        )
        val = con.execute(
            "SELECT report_sha256 FROM validations WHERE name = ? AND version = ? "
            "ORDER BY rowid DESC LIMIT 1",
            [name, version],
        ).fetchone()
        return ModelVersion(
            name=name,
            version=version,
            status=transitions[-1].to_status if transitions else "draft",
            params=json.loads(params),
            training_data_sha256=data_sha,
            code_version=code,
            metrics=json.loads(metrics),
            domain=json.loads(domain),
            artefact_sha256=art_sha,
            registered_by=reg_by,
            registered_at=reg_at,
            transitions=transitions,
            validation_ref=f"{name}@{version}/validation:{val[0][:12]}" if val else None,
        )

    @contextlib.contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        self.directory.mkdir(parents=True, exist_ok=True)
        con = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        try:
            con.execute("PRAGMA journal_mode=WAL")
            con.execute("PRAGMA synchronous=FULL")
            con.executescript(_SCHEMA + _TRIGGERS)
            yield con
        finally:
            con.close()

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        # BEGIN IMMEDIATE: two validators approving at once serialize on the write lock, so the
        # status each one checks is the status it changes.
        with self._connect() as con:
            con.execute("BEGIN IMMEDIATE")
            try:
                yield con
            except BaseException:
                con.execute("ROLLBACK")
                raise
            con.execute("COMMIT")


def _as_utc(moment: datetime | date) -> datetime:
    if isinstance(moment, datetime):
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return datetime.combine(moment, time.max, tzinfo=UTC)


def _write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    with open(tmp, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
