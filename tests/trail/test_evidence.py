"""The HTML evidence pack (Jinja2, autoescaped): hostile record text stays inert text."""

from __future__ import annotations

from html.parser import HTMLParser

from app.trail import AnswerRecord, Citation, ToolCall
from app.trail.evidence import render_evidence
from tests.trail.conftest import make_answer
from tests.trail.test_record import make_prediction

SCRIPT = "<script>alert(document.cookie)</script>"
IMG = '<img src=x onerror="alert(1)">'
TEMPLATE_TAGS = {
    "html", "head", "meta", "title", "style", "body", "h1", "h2", "h3", "p", "table", "tr",
    "th", "td", "pre", "code",
}  # fmt: skip


class Tags(HTMLParser):
    """Every start tag and attribute name a browser would see."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attributes: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attributes += [name for name, _ in attrs]


def _parse(page: str) -> Tags:
    parser = Tags()
    parser.feed(page)
    return parser


def test_hostile_question_answer_snippet_and_tool_output_are_escaped(store) -> None:
    record = make_answer(
        question=f"what is {SCRIPT}?",
        answer=f"It is {IMG} [1]",
        citations=[
            Citation(
                doc_id="d",
                doc_name=f"{IMG}.pdf",
                title=SCRIPT,
                page_start=1,
                page_end=1,
                chunk_id="c",
                content_sha256="ab" * 32,
                snippet=f"snippet {IMG} {SCRIPT}",
            )
        ],
        tool_calls=[
            ToolCall(
                tool=SCRIPT,
                args={"q": IMG},
                result={"html": SCRIPT},
                error=IMG,
                started="2026-01-01T00:00:00Z",
                ms=1,
            )
        ],
        warnings=[IMG],
        details={"note": SCRIPT},
    )
    stored = store.append(record)
    review = store.append(
        AnswerRecord(
            kind="review",
            user="carl",
            role="compliance",
            status="flagged",
            refers_to=stored.id,
            note=f"see {IMG}",
        )
    )
    page = render_evidence(stored, [review])
    seen = _parse(page)
    assert set(seen.tags) <= TEMPLATE_TAGS, set(seen.tags) - TEMPLATE_TAGS
    assert not [a for a in seen.attributes if a.startswith("on")]
    assert "<script" not in page and "<img" not in page
    assert page.count("&lt;script&gt;alert(document.cookie)&lt;/script&gt;") >= 4
    assert "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;" in page
    assert "default-src 'none'" in page  # and the page may not load anything at all


def test_pack_of_a_prediction_shows_the_live_sequence(store) -> None:
    stored = store.append(make_prediction())
    page = render_evidence(stored, [])
    assert "<title>Prediction record " in page and "Result as served" in page
    assert "event sequence" in page and "18231" in page and "pd@2" in page
    assert "Feature values used" in page and "default_probability" in page


def test_pack_of_an_answer_keeps_every_section(store) -> None:
    stored = store.append(make_answer())
    page = render_evidence(stored, [])
    for heading in (
        "Question", "Answer as shown", "Cited passages", "SQL run", "Feature values used",
        "Versions", "Tool calls", "Reviews and corrections", "Integrity",
    ):  # fmt: skip
        assert f"<h2>{heading}</h2>" in page
    assert "event sequence" not in page  # batch feature values have none
    assert stored.hash in page and stored.prev_hash in page and "APPLE_2022_10K.pdf" in page
