"""SECURITY.md rows 11-12 for the app's own code: no raw HTML, no exec/eval, no remote assets.

The one HTML the app shows is an answer after ``app.ui.sanitize`` (markdown-it, nh3 allow-lists).
"""

from __future__ import annotations

import ast
from pathlib import Path

UI = Path(__file__).resolve().parents[2] / "app" / "ui"
FORBIDDEN_CALLS = {"eval", "exec", "compile", "__import__"}
FORBIDDEN_ATTRS = {"html", "components", "unsafe_allow_html", "vega_lite_chart", "iframe"}


def ui_modules() -> list[Path]:
    return sorted(UI.rglob("*.py"))


def _sanctioned_html(path: Path, node: ast.Attribute, tree: ast.Module) -> bool:
    """The one ``st.html``: in ``answer_view.render_markdown``, on ``sanitize_markdown``'s HTML."""
    if path.name != "answer_view.py" or node.attr != "html":
        return False
    fn = next(
        f for f in ast.walk(tree) if isinstance(f, ast.FunctionDef) and f.name == "render_markdown"
    )
    if node not in set(ast.walk(fn)):
        return False
    if ast.unparse(node) == "safe.html":  # the sanitizer's result, read
        return True
    calls = [c for c in ast.walk(fn) if isinstance(c, ast.Call) and c.func is node]
    return ast.unparse(node) == "st.html" and all(
        [ast.unparse(a) for a in c.args] == ["safe.html"] and not c.keywords for c in calls
    )


def test_ui_has_no_exec_eval_or_raw_html() -> None:
    offenders = []
    for path in ui_modules():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and _sanctioned_html(path, node, tree):
                continue
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                if node.func.id in FORBIDDEN_CALLS:
                    offenders.append(f"{path.name}:{node.lineno} {node.func.id}()")
            if isinstance(node, ast.Attribute) and node.attr in FORBIDDEN_ATTRS:
                offenders.append(f"{path.name}:{node.lineno} .{node.attr}")
            if isinstance(node, ast.keyword) and node.arg == "unsafe_allow_html":
                offenders.append(f"{path.name}:{node.lineno} unsafe_allow_html=")
    assert offenders == []


def test_ui_names_no_remote_host() -> None:
    # The only hosts in the app's strings are the link allow-list and documentation examples.
    import re

    from app.ui.sanitize import DEFAULT_LINK_HOSTS

    allowed = {*DEFAULT_LINK_HOSTS, "x.example", "evil.example"}
    hosts = set()
    for path in ui_modules():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                hosts.update(re.findall(r"https?://([a-z0-9.-]+\.[a-z]{2,})", node.value))
    assert hosts <= allowed, hosts - allowed
