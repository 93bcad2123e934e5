"""SECURITY 8/19: information barriers hold in retrieval, under any sequence of lifecycle actions.

A hypothesis state machine (as in Chroma's own test suite) ingests, supersedes, retags and deletes
documents and queries as random users, against a real embedded Chroma and a real Chroma server.
Invariants: retrieved ⊆ entitled; a deleted or superseded version never returns; deleted chunks
leave the vector store; an entitled document is still found (filters do not over-block).
"""

from __future__ import annotations

import shutil
import tempfile
import uuid
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

GROUPS = ("public", "deal-team", "risk")
NAMES = ("alpha", "bravo", "charlie", "delta")
TEXTS = (
    "Gross margin widened on lower freight costs and price increases.",
    "The bridge loan is priced at SOFR plus 225 basis points with a commitment fee.",
    "Net income rose to 5,363 million while capital expenditure was 1,577 million.",
    "Management expects revenue growth in the mid single digits next fiscal year.",
)
QUERIES = (
    "gross margin freight",
    "bridge loan pricing",
    "net income capital expenditure",
    "revenue growth outlook",
    "confidential deal",
)
group_sets = st.frozensets(st.sampled_from(GROUPS), min_size=1)


def barrier_machine(vectors: str, cache_dir: Path) -> type[RuleBasedStateMachine]:
    from retrieval.embeddings import Embedder, EmbeddingCache
    from retrieval.index import DocumentIndex
    from retrieval.vectors import open_vectors

    class BarrierMachine(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.dir = Path(tempfile.mkdtemp(dir=cache_dir))
            home = self.dir / "home"
            self.index = DocumentIndex(
                home / "documents",
                vectors=open_vectors(vectors, home, collection=f"b{uuid.uuid4().hex}"),
                embedder=Embedder(device="cpu", cache=EmbeddingCache(cache_dir / "emb.sqlite")),
            )
            self.live: dict[str, tuple[str, frozenset[str]]] = {}  # name -> (doc_id, groups)
            self.dead: set[str] = set()  # doc_ids deleted or superseded

        def teardown(self) -> None:
            shutil.rmtree(self.dir, ignore_errors=True)

        @rule(name=st.sampled_from(NAMES), text=st.integers(0, len(TEXTS) - 1), groups=group_sets)
        def ingest(self, name: str, text: int, groups: frozenset[str]) -> None:
            path = self.dir / "files" / f"{name}.md"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(f"# {name} note\n{TEXTS[text]}\nReference {name} marker.\n")
            (result,) = self.index.ingest([path], groups=sorted(groups), uploaded_by="r")
            if result.status == "unchanged":
                return  # same content already active: its groups change only by retag
            assert result.status == "indexed"
            old = self.live.get(name)
            if old and old[0] != result.doc_id:
                self.dead.add(old[0])
                assert result.superseded == [old[0]]
            self.dead.discard(result.doc_id)  # a re-upload is a new, recorded upload
            self.live[name] = (result.doc_id, groups)

        @rule(name=st.sampled_from(NAMES))
        def delete(self, name: str) -> None:
            if name in self.live:
                doc_id, _ = self.live.pop(name)
                self.index.delete(doc_id, actor="r")
                self.dead.add(doc_id)

        @rule(name=st.sampled_from(NAMES), groups=group_sets)
        def retag(self, name: str, groups: frozenset[str]) -> None:
            if name in self.live:
                doc_id, _ = self.live[name]
                self.index.retag(doc_id, sorted(groups), actor="r")
                self.live[name] = (doc_id, groups)

        @rule(user=st.frozensets(st.sampled_from(GROUPS)), query=st.sampled_from(QUERIES))
        def query(self, user: frozenset[str], query: str) -> None:
            entitled = {doc_id: groups for doc_id, groups in self.live.values() if groups & user}
            for passage in self.index.search(query, groups=sorted(user), k=10):
                assert passage.doc_id in entitled, "retrieved a document the user may not see"
                assert passage.doc_id not in self.dead, "a deleted/superseded version returned"
                assert frozenset(passage.access_groups) == entitled[passage.doc_id]

        @rule(user=st.frozensets(st.sampled_from(GROUPS), min_size=1), name=st.sampled_from(NAMES))
        def find_by_name(self, user: frozenset[str], name: str) -> None:
            found = {p.doc_id for p in self.index.search(f"{name} marker", groups=sorted(user))}
            if name in self.live and self.live[name][1] & user:
                assert self.live[name][0] in found, "an entitled document was filtered out"

        @invariant()
        def vectors_match_the_catalogue(self) -> None:
            kept = self.index.documents(statuses=("active", "superseded"))
            assert self.index.vectors.count() == sum(d["chunks"] for d in kept)

    return BarrierMachine


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["embedded", "server"])
def test_barrier_state_machine(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    vectors = request.getfixturevalue("chroma_server") if backend == "server" else "chroma"
    machine = barrier_machine(vectors, tmp_path)
    run_state_machine_as_test(
        machine,
        settings=settings(
            max_examples=8 if backend == "embedded" else 4,
            stateful_step_count=10,
            deadline=None,
            suppress_health_check=list(HealthCheck),
        ),
    )


@pytest.fixture(scope="module")
def chroma_server(tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN201
    from tests.retrieval.conftest import run_chroma_server

    with run_chroma_server(tmp_path_factory.mktemp("chroma-server")) as setting:
        yield setting


@pytest.mark.slow
def test_public_analyst_never_sees_the_deal_team_memo(demo_runtime) -> None:  # noqa: ANN001
    from app.cli import cli

    question = "Project Bluebird committed bridge financing pricing SOFR Best Buy"
    public = demo_runtime.documents.search(question, groups=demo_runtime.user("analyst").groups)
    assert public and all("deal-team" not in p.access_groups for p in public)
    assert all("Bluebird" not in p.text for p in public)
    private = demo_runtime.documents.search(
        question, groups=demo_runtime.user("analyst_private").groups, k=3
    )
    assert private[0].doc_name == "deal_team_memo"
    runner = CliRunner()
    out = runner.invoke(cli, ["search", question, "--json", "--user", "analyst"])
    assert (
        out.exit_code == 0 and "Bluebird" not in out.output and "deal_team_memo" not in out.output
    )
    out = runner.invoke(cli, ["docs", "list", "--json", "--user", "analyst"])
    assert out.exit_code == 0 and "deal_team_memo" not in out.output
    out = runner.invoke(cli, ["search", question, "--json", "--user", "analyst_private"])
    assert out.exit_code == 0 and "deal_team_memo" in out.output
