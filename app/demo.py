"""``sightline demo``: load every bundled demo dataset, idempotently, one named step at a time.

Each step does its own work only if it is not done yet, so running the demo twice changes nothing.
Later areas (features, documents, models) append their step to ``DEMO_STEPS``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from app.runtime import Runtime
from features.batch import refresh as refresh_features
from tools.restricted import ensure_demo as restrict_demo

Say = Callable[[str], None]


@dataclass(frozen=True)
class DemoStep:
    """One named part of the demo load."""

    name: str
    run: Callable[[Runtime, Say], str]  # returns a one-line summary


def load_tables(rt: Runtime, say: Say) -> str:
    """Load prices, macro, fundamentals, loans and positions from the packaged datasets."""
    from ingestion.demo_sources import demo_frames
    from ingestion.tables import load_table

    frames = demo_frames()
    order = ["prices", "macro", "fundamentals", "loans", "positions"]  # positions refer to prices
    loaded = []
    for table in order:
        say(f"loading {table} ({len(frames[table]):,} rows)")
        report = load_table(
            rt.warehouse, table, frames[table], loaded_by="demo", source_name=f"demo:{table}"
        )
        loaded.append(f"{table} {'unchanged' if report.skipped else f'{report.rows:,} rows'}")
    return "; ".join(loaded)


def create_users(rt: Runtime, say: Say) -> str:
    """Create one demo user per role (and a private-side analyst)."""
    created = rt.users.ensure_demo_users()
    return f"created {', '.join(created)}" if created else "demo users already exist"


def ensure_demo_models(rt: Runtime, say: Say) -> str:
    """Demo step: one approved version of each model, by two different demo users.

    model_owner trains and registers; validator validates and approves (maker-checker). A model
    that already has an approved version is skipped, so the step is idempotent.
    """
    from tools.errors import ModelNotFound
    from tools.lifecycle import TRAINERS, train, validation_report

    owner, validator = rt.user("model_owner"), rt.user("validator")
    done = []
    for name in TRAINERS:
        try:
            mv = rt.registry.approved(name)
            done.append(f"{mv.ref} already approved")
            continue
        except ModelNotFound:
            pass
        say(f"training {name}")
        with rt.warehouse.reader() as con:
            trained = train(name, con)
            mv, _ = rt.registry.register(trained, user=owner.name, role=owner.role)
            if mv.status == "draft":
                say(f"validating {mv.ref}")
                report = validation_report(con, rt.registry, mv)
                mv = rt.registry.validate(
                    mv.ref, user=validator.name, role=validator.role, report=report
                )
        if mv.status == "validated":
            mv = rt.registry.approve(mv.ref, user=validator.name, role=validator.role)
        done.append(f"{mv.ref} {mv.status}")
    return "; ".join(done)


DEMO_STEPS: list[DemoStep] = [
    DemoStep("tables", load_tables),
    DemoStep("features", lambda rt, say: refresh_features(rt.warehouse, say)),
    DemoStep("users", create_users),
    # Risk and PD: trained by 'model_owner', validated and approved by 'validator' (maker-checker).
    DemoStep("models", ensure_demo_models),
    # Research documents from ingestion/demo_data/documents/manifest.json, uploaded by 'researcher'.
    DemoStep(
        "documents",
        lambda rt, say: rt.documents.load_manifest(None, uploaded_by="researcher", say=say),
    ),
    # Restricted list (SECURITY.md 9): BBY, the subject of the private-side deal-team memo.
    DemoStep(
        "restricted",
        lambda rt, say: restrict_demo(rt.settings.home),
    ),
]


def run_demo(rt: Runtime, say: Say, *, only: str | None = None) -> list[tuple[str, str]]:
    """Run every demo step (or just ``only``); return (step, summary) pairs."""
    results = []
    for step in DEMO_STEPS:
        if only and step.name != only:
            continue
        results.append((step.name, step.run(rt, say)))
    return results
