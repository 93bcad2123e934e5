"""Data page: the warehouse tables (rows, keys, date ranges) and the feature catalogue."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app.runtime import Runtime
from app.ui.guard import require
from app.users import User


def render(rt: Runtime, user: User) -> None:
    """Show what is loaded: tables first, then the feature definitions with versions."""
    require(user, "data.view")
    from ingestion.tables import table_overview

    st.header("Data")
    with rt.warehouse.reader() as con:
        overview = table_overview(con)
    st.subheader("Warehouse tables")
    if not overview:
        st.info("No data loaded yet: run `sightline demo` or `sightline ingest TABLE FILE`.")
    else:
        frame = pd.DataFrame(overview)
        frame["keys"] = frame["keys"].map(", ".join)
        st.dataframe(frame, hide_index=True, width="stretch")
    st.subheader("Feature catalogue")
    from features.store import list_features

    with rt.warehouse.reader() as con:
        features = list_features(con)
    if not features:
        st.info("No features defined yet.")
        return
    frame = pd.DataFrame(features)
    # A stored version that differs from the definition's means the table is stale.
    frame["current"] = frame["stored_version"].fillna("") == frame["version"]
    columns = [
        "name", "entity_kind", "description", "unit", "window", "source", "version",
        "fresh_as_of", "computed_at", "current",
    ]  # fmt: skip
    st.caption(
        "Each feature is defined once; its version is the hash of its definition, and the "
        "answer trail records the version and as-of date of every value an answer used."
    )
    st.dataframe(frame[[c for c in columns if c in frame]], hide_index=True, width="stretch")
