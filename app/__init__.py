"""The application (top layer): settings, users, CLI, agent loop, answer trail, Streamlit UI."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("sightline")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+source"
