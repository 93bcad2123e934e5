"""The app shell: one cached Runtime per server, sign-in, role-gated navigation, page dispatch.

Every run re-reads the signed-in user from the users file (a role change or a removed user takes
effect at once) and hands the page a fresh ``User``. The page in the URL (``?page=KEY``) is
dispatched even when the menu does not offer it, so the page's own server-side check is what
refuses it — the same check a crafted request meets.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

import streamlit as st

from app.runtime import Runtime
from app.settings import Settings, load_settings
from app.ui import access
from app.ui.sanitize import escape_markdown
from app.users import DEMO_PASSWORD, User
from ingestion.errors import SightlineError

log = logging.getLogger("sightline.ui")

SESSION_USER = "sightline_user"  # the signed-in user's name; set only after authenticate()
MAX_FAILED_SIGN_INS = 5
LOCKOUT_S = 30.0


@st.cache_resource(show_spinner=False)
def _runtime(settings_json: str) -> Runtime:
    from app.offline import apply_offline_guards

    apply_offline_guards()
    rt = Runtime(Settings.model_validate_json(settings_json))
    if rt.settings.ui_warm_up:
        threading.Thread(target=warm_up, args=(rt,), name="sightline-warm-up", daemon=True).start()
    return rt


def runtime() -> Runtime:
    """The Runtime for the current settings, built once per server process and shared."""
    from app.offline import apply_offline_guards

    apply_offline_guards()
    return _runtime(load_settings().model_dump_json())


def warm_up(rt: Runtime) -> None:
    """Load the heavy parts (embedding model, index, agent) so the first answer does not wait."""
    started = time.perf_counter()
    try:
        import app.agent  # noqa: F401  (imports the planner, tools and their libraries)

        # One query opens the index and loads the embedding model (the ~30 s the first answer
        # would otherwise pay); "public" is the group every user has, so nothing private is read.
        rt.documents.search("warm up", groups=("public",), k=1)
    except Exception:  # a failed warm-up only means the first answer pays the load
        log.exception("warm-up failed")
    log.info("warm-up finished in %.1f s", time.perf_counter() - started)


def current_user(rt: Runtime) -> User | None:
    """The signed-in user, re-read from the users file; None when nobody is signed in."""
    name = st.session_state.get(SESSION_USER)
    if not name:
        return None
    try:
        return rt.user(name)
    except SightlineError:  # removed since sign-in
        st.session_state.pop(SESSION_USER, None)
        return None


def sign_out() -> None:
    """Forget the signed-in user, this session's conversations and the page in the URL."""
    for key in list(st.session_state):
        del st.session_state[key]
    st.query_params.clear()  # the next person starts on their own first page


def sign_in_page(rt: Runtime) -> None:
    """The sign-in form (local users file; OIDC via ``st.login`` when configured)."""
    st.title("Sightline")
    st.caption("Answers from data, documents and approved models — every one cited and recorded.")
    if _oidc_configured():
        st.button("Sign in with your organisation", on_click=st.login, type="primary")
        st.divider()
    locked_until = st.session_state.get("sign_in_locked_until", 0.0)
    with st.form("sign_in"):
        name = st.text_input("User name", key="sign_in_name")
        password = st.text_input("Password", type="password", key="sign_in_password")
        submitted = st.form_submit_button("Sign in", type="primary")
    if submitted:
        if time.time() < locked_until:
            st.error("Too many failed attempts; wait a moment and try again.")
        else:
            user = rt.users.authenticate(name.strip(), password)
            if user is None:
                failures = st.session_state.get("sign_in_failures", 0) + 1
                st.session_state["sign_in_failures"] = failures
                if failures >= MAX_FAILED_SIGN_INS:
                    st.session_state["sign_in_locked_until"] = time.time() + LOCKOUT_S
                    st.session_state["sign_in_failures"] = 0
                st.error("Unknown user or wrong password.")
            else:
                st.session_state[SESSION_USER] = user.name
                st.session_state.pop("sign_in_failures", None)
                st.rerun()
    if _demo_users_present(rt):
        st.caption(
            "Demo data: sign in as `analyst`, `analyst_private`, `researcher`, `compliance`, "
            f"`model_owner`, `validator` or `admin` with the password `{DEMO_PASSWORD}`."
        )


def _oidc_configured() -> bool:
    try:
        return "auth" in st.secrets
    except Exception:  # no secrets.toml at all
        return False


def _oidc_user(rt: Runtime) -> User | None:
    """The local user matching the OIDC identity (by preferred username or e-mail local part)."""
    if not _oidc_configured() or not getattr(st.user, "is_logged_in", False):
        return None
    for claim in ("preferred_username", "email"):
        value = st.user.get(claim)
        if value:
            try:
                return rt.user(str(value).split("@")[0].lower())
            except SightlineError:
                continue
    st.error("Your organisation account is not registered in Sightline; ask an administrator.")
    return None


def _demo_users_present(rt: Runtime) -> bool:
    try:
        return rt.users.authenticate("analyst", DEMO_PASSWORD) is not None
    except SightlineError:
        return False


def _page_renderers() -> dict[str, Callable[[Runtime, User], None]]:
    from app.ui.views import chat, data, digest, documents, models, monitoring, reports, trail

    return {
        "chat": chat.render,
        "documents": documents.render,
        "trail": trail.render,
        "models": models.render,
        "data": data.render,
        "reports": reports.render,
        "monitoring": monitoring.render,
        "digest": digest.render,
    }


def _go() -> None:
    st.query_params["page"] = st.session_state["nav"]


def main() -> None:
    """Render one run of the app."""
    # No "Deploy" button, and no tracebacks in the browser: users see `error: ...` only.
    st.set_option("client.toolbarMode", "minimal")
    st.set_option("client.showErrorDetails", "none")
    # No page_icon: a Material-icon favicon is fetched from fonts.gstatic.com; the app loads
    # nothing from outside its own server (caught by the browser test).
    st.set_page_config(page_title="Sightline", layout="wide")
    try:
        rt = runtime()
    except SightlineError as exc:
        st.error(f"error: {escape_markdown(str(exc))}")
        return
    user = current_user(rt) or _oidc_user(rt)
    if user is None:
        sign_in_page(rt)
        return
    st.session_state[SESSION_USER] = user.name
    pages = access.visible_pages(user)
    keys = [p.key for p in pages]
    page = st.query_params.get("page") or keys[0]
    with st.sidebar:
        st.markdown(f"**{user.name}** · {user.role}")
        st.caption("Access groups: " + ", ".join(user.groups))
        if st.session_state.get("nav") != page:
            st.session_state["nav"] = page if page in keys else None
        st.radio(
            "Pages",
            keys,
            key="nav",
            format_func=lambda k: (p := access.page_info(k)) and f"{p.icon} {p.title}" or k,
            on_change=_go,
            label_visibility="collapsed",
        )
        st.button("Sign out", on_click=sign_out, icon=":material/logout:")
    renderers = _page_renderers()
    if page not in renderers:
        st.error(f"No such page: {page!r}.")
        return
    try:
        renderers[page](rt, user)
    except SightlineError as exc:
        st.error(f"error: {escape_markdown(str(exc))}")
