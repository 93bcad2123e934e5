"""Streamlit entry point (`make run`): shows what is loaded in the warehouse.

The full app (chat, documents, trail, models) builds on this page; see docs/app.md.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app.offline import apply_offline_guards
from app.runtime import Runtime
from app.settings import load_settings


@st.cache_resource
def runtime() -> Runtime:
    """One Runtime per server process."""
    apply_offline_guards()
    return Runtime(load_settings())


def main() -> None:
    """Render the data overview page."""
    from ingestion.tables import table_overview

    st.set_page_config(page_title="Sightline", layout="wide")
    st.title("Sightline")
    rt = runtime()
    with rt.warehouse.reader() as con:
        overview = table_overview(con)
    st.subheader("Warehouse tables")
    if not overview:
        st.info("No data loaded yet: run `sightline demo`.")
        return
    st.dataframe(pd.DataFrame(overview), hide_index=True, use_container_width=True)


main()
