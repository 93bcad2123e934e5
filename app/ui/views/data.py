"""Data page: the warehouse tables (rows, keys, date ranges) and the feature catalogue."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app.runtime import Runtime
from app.ui.backends import available, not_available
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
    if not available(rt, "features"):
        not_available("features")
        return
