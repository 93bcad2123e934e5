"""Guards that keep Sightline offline: no model hub, no tokenizer download, no telemetry.

Applied once by each entry point before any library that might reach the network is imported.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path


def tiktoken_cache_dir() -> Path | None:
    """The tiktoken BPE files that llama-index-core ships (so tiktoken never downloads them)."""
    spec = importlib.util.find_spec("llama_index.core")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "_static" / "tiktoken_cache"
    return path if path.is_dir() else None


def apply_offline_guards() -> None:
    """Point every library at local files and switch off anything that phones home."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")  # chromadb
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("STREAMLIT_BROWSER_GATHER_USAGE_STATS", "false")
    cache = tiktoken_cache_dir()
    if cache is not None:
        os.environ.setdefault("TIKTOKEN_CACHE_DIR", str(cache))
