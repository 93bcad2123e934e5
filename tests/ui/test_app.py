"""The app shell under Streamlit's AppTest: sign-in, role-gated menu, server-side refusals, Data."""

from __future__ import annotations

import pytest

from app.ui.shell import SESSION_USER


def texts(elements) -> str:  # noqa: ANN001
    return " ".join(str(e.value) for e in elements)


def test_sign_in_page_then_wrong_password_is_refused(app, signed_in) -> None:  # noqa: ANN001
    app.run()
    assert not app.exception
    assert app.text_input(key="sign_in_name") is not None
    signed_in("analyst", "wrong-password")
    assert "Unknown user or wrong password" in texts(app.error)
    assert SESSION_USER not in app.session_state
    signed_in("nobody", "sightline-demo")
    assert "Unknown user or wrong password" in texts(app.error)


@pytest.mark.slow  # six scrypt checks
def test_repeated_failures_lock_the_form(app, signed_in) -> None:  # noqa: ANN001
    for _ in range(5):
        signed_in("analyst", "wrong")
    signed_in("analyst", "sightline-demo")  # right password, but locked for a while
    assert "Too many failed attempts" in texts(app.error)
    assert SESSION_USER not in app.session_state


def test_analyst_sees_ask_and_data_only(app, signed_in) -> None:  # noqa: ANN001
    signed_in("analyst")
    assert not app.exception
    assert app.session_state[SESSION_USER] == "analyst"
    nav = app.sidebar.radio(key="nav")
    assert nav.options == [
        ":material/chat: Ask", ":material/table: Data", ":material/summarize: Reports",
        ":material/difference: Digest",
    ]  # fmt: skip
    assert "analyst" in texts(app.sidebar.markdown)


def test_analyst_is_refused_the_trail_through_a_crafted_url(app, signed_in) -> None:  # noqa: ANN001
    signed_in("analyst")
    app.query_params["page"] = "trail"
    app.run()
    assert "Access refused" in texts(app.error)
    assert "compliance" in texts(app.error)
    assert [h.value for h in app.header] == []  # nothing of the page was rendered


def test_analyst_is_refused_the_trail_through_crafted_session_state(app, signed_in) -> None:  # noqa: ANN001
    signed_in("analyst")
    # Forge what a tampered session might hold: a role and a page. The role is never read from
    # session state (the user is re-read from the users file), and the page checks it again.
    app.session_state["role"] = "compliance"
    app.session_state["user_role"] = "compliance"
    app.query_params["page"] = "trail"
    app.run()
    assert "Access refused" in texts(app.error)


def test_role_is_reread_each_run_so_a_removed_user_is_signed_out(app, signed_in, app_home) -> None:  # noqa: ANN001
    import json

    signed_in("researcher")
    assert app.session_state[SESSION_USER] == "researcher"
    users_file = app_home / "users.json"
    data = json.loads(users_file.read_text())
    data["users"] = [u for u in data["users"] if u["name"] != "researcher"]
    users_file.write_text(json.dumps(data))
    app.run()
    assert SESSION_USER not in app.session_state
    assert app.text_input(key="sign_in_name") is not None


def test_data_page_lists_the_demo_tables(app, signed_in) -> None:  # noqa: ANN001
    signed_in("analyst")
    app.query_params["page"] = "data"
    app.run()
    assert not app.exception
    tables = app.dataframe[0].value
    assert {"prices", "macro", "fundamentals", "loans", "positions"} <= set(tables["name"])
    # The DEMO book and its 2019-2020 history, plus the small INCOME book (ingestion/demo_data).
    assert int(tables.set_index("name").loc["positions", "rows"]) == 330


def test_digest_page_runs_the_digest_and_says_plainly_when_no_pair_is_visible(
    app, signed_in
) -> None:  # noqa: ANN001
    signed_in("analyst")
    app.query_params["page"] = "digest"
    app.run()
    assert not app.exception
    assert [h.value for h in app.header] == ["Digest"]
    app.text_input(key="digest_issuer").input("PFE")
    app.button[0].click()
    app.run()
    assert not app.exception
    # The demo holds one filing per issuer: the digest refuses with the reason, not a traceback.
    assert "comparable" in texts(app.error).lower()


def test_model_owner_is_refused_the_digest_page(app, signed_in) -> None:  # noqa: ANN001
    signed_in("model_owner")
    app.query_params["page"] = "digest"
    app.run()
    assert "Access refused" in texts(app.error)
    assert [h.value for h in app.header] == []


def test_unknown_page_is_reported(app, signed_in) -> None:  # noqa: ANN001
    signed_in("analyst")
    app.query_params["page"] = "nope"
    app.run()
    assert "No such page" in texts(app.error)


def test_sign_out_forgets_the_user(app, signed_in) -> None:  # noqa: ANN001
    signed_in("analyst")
    app.sidebar.button[0].click().run()
    assert SESSION_USER not in app.session_state
    assert app.text_input(key="sign_in_name") is not None
