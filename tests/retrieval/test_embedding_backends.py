"""The ONNX int8 backend against torch fp32 on real text, and embedding versions never mixed."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ingestion.errors import ConfigError
from tests.retrieval.conftest import DEMO_DOCS, write

# Real filing-style sentences of the lengths chunks and queries have (short query to a full chunk).
TEXTS = [
    "What was the capital expenditure in FY2022?",
    "Net revenue increased 12% to $4.1 billion, driven by higher volume in North America.",
    "The Board of Directors declared a quarterly dividend of $0.94 per share, payable in March.",
    "Purchases of property, plant and equipment were $1,749 million in 2022 compared with "
    "$1,613 million in 2021, reflecting investment in manufacturing capacity and digital tools. "
    "We expect capital expenditures of $1.5 to $1.8 billion in 2023.",
]


@pytest.fixture(scope="module")
def onnx_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One data dir for the module: the int8 model is exported and quantized once into it."""
    return tmp_path_factory.mktemp("onnx-home")


def _demo_texts() -> list[str]:
    texts = []
    for path in sorted(DEMO_DOCS.glob("*.md")):
        words = path.read_text(encoding="utf-8").split()
        texts.append(" ".join(words[:180]))  # a chunk's worth of a real demo document
    return texts


def test_onnx_int8_matches_torch_fp32(onnx_dir: Path) -> None:
    from retrieval.embeddings import Embedder

    texts = TEXTS + _demo_texts()
    torch_vectors = Embedder(device="cpu", backend="torch").embed(texts)
    onnx = Embedder(backend="onnx", data_dir=onnx_dir)
    onnx_vectors = onnx.embed(texts)
    assert (onnx_dir / "models").is_dir() and list((onnx_dir / "models").glob("*.onnx"))
    cosine = (torch_vectors * onnx_vectors).sum(axis=1)
    assert cosine.min() >= 0.99, cosine
    assert np.allclose(np.linalg.norm(onnx_vectors, axis=1), 1.0, atol=1e-4)
    # The same nearest neighbour for every query-like text: the ranking, not only the angle.
    assert (torch_vectors @ torch_vectors[0]).argsort()[-2] == (
        onnx_vectors @ onnx_vectors[0]
    ).argsort()[-2]
    assert onnx.version != Embedder(backend="torch").version
    assert onnx.version.endswith("+onnx-int8-dynamic-v2")


def test_onnx_single_and_batched_agree(onnx_dir: Path) -> None:
    from retrieval.embeddings import Embedder

    onnx = Embedder(backend="onnx", data_dir=onnx_dir, batch_size=2)
    batched = onnx.embed(TEXTS)
    alone = np.stack([onnx.embed_query(t) for t in TEXTS])
    # A text's vector does not depend on what it is embedded with (the cache is keyed by text).
    assert np.array_equal(batched, alone)


def test_query_vectors_are_remembered() -> None:
    from retrieval.embeddings import Embedder

    embedder = Embedder(device="cpu", query_cache=2)
    first = embedder.embed_query("capital expenditure 2022")
    assert embedder.computed == 1
    assert embedder.embed_query("capital expenditure 2022") is first
    assert embedder.computed == 1
    embedder.embed_query("dividend per share")
    embedder.embed_query("net revenue")  # evicts the oldest
    embedder.embed_query("capital expenditure 2022")
    assert embedder.computed == 4
    with pytest.raises(ValueError):
        first[0] = 1.0  # shared between callers: read-only


def test_unknown_backend_is_refused() -> None:
    from retrieval.embeddings import Embedder

    with pytest.raises(ConfigError) as err:
        Embedder(backend="tensorrt")
    assert "SIGHTLINE_EMBEDDING_BACKEND" in str(err.value)


def test_mixed_embedding_versions_are_refused_until_reembedded(
    tmp_path: Path, onnx_dir: Path
) -> None:
    from retrieval.factory import open_document_index

    home = tmp_path / "home"
    torch_index = open_document_index(home, device="cpu", backend="torch")
    doc = write(
        tmp_path / "ACME_2023_10K.txt",
        "Acme capital expenditures were $120 million in 2023.\fAcme declared a dividend.",
    )
    old = tmp_path / "OLD_NOTE.txt"
    write(old, "Acme old note about pricing.")
    torch_index.ingest([doc, old], groups=["public"], uploaded_by="researcher")
    write(old, "Acme new note about pricing and inventory.")  # supersedes: old stays resolvable
    torch_index.ingest([old], groups=["public"], uploaded_by="researcher")
    before = torch_index.vectors.count()

    onnx_index = open_document_index(home, backend="onnx")
    onnx_index.embedder.data_dir = onnx_dir  # reuse the module's built model
    with pytest.raises(ConfigError) as err:
        onnx_index.search("capital expenditures", groups=["public"])
    assert "sightline docs reembed" in str(err.value) and torch_index.embedder.version in str(
        err.value
    )
    with pytest.raises(ConfigError):
        onnx_index.ingest([write(tmp_path / "B.txt", "Beta")], groups=["public"], uploaded_by="r")

    done = onnx_index.reembed(actor="admin")
    assert len(done) == 3  # two active documents and the superseded version
    assert {d["after"] for d in done} == {onnx_index.embedder.version}
    assert onnx_index.vectors.count() == before  # replaced in place, nothing added
    (top, *_) = onnx_index.search("capital expenditures", groups=["public"], k=3)
    assert top.doc_name == "ACME_2023_10K"
    assert onnx_index.search("pricing", groups=["deal-team"]) == []  # barriers unchanged
    assert [e["action"] for e in onnx_index.catalogue.events()][:3] == ["reembed"] * 3
    assert onnx_index.reembed(actor="admin") == []  # idempotent
    # And the torch index now refuses in turn.
    with pytest.raises(ConfigError):
        torch_index.search("capital expenditures", groups=["public"])
