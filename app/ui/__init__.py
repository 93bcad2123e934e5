"""The Streamlit app: shell, pages, and the helpers they share."""
