"""Text normalisation for uploaded documents: charset detection, NFC and invisible characters.

Hidden characters are how prompt injections hide from a human reviewer (EchoLeak, ASCII smuggling
with Unicode tag characters), so they are removed *and counted*: the counts become document flags
recorded in the catalogue. Phrases that read like instructions to an assistant are flagged too
(the text stays: it is evidence, passed to the LLM only as delimited data).
"""

from __future__ import annotations

import codecs
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field

# Zero-width and joiner characters, word joiner, BOM used as ZWNBSP, soft hyphen, Mongolian
# vowel separator: invisible in rendered text.
_INVISIBLE = "\u200b\u200c\u200d\u2060\u2061\u2062\u2063\u2064\ufeff\u00ad\u180e"
# Bidirectional controls: reorder what a reviewer sees (Trojan Source, CVE-2021-42574).
_BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"
_INVISIBLE_RE = re.compile(f"[{_INVISIBLE}]")
_BIDI_RE = re.compile(f"[{_BIDI}]")
# Unicode tag characters (U+E0000..U+E007F) carry hidden ASCII ("ASCII smuggling").
_TAG_RE = re.compile("[\U000e0000-\U000e007f]")
# C0/C1 controls except tab, newline, carriage return and form feed (page break in text files).
_CONTROL_RE = re.compile("[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f]")
_SPACES_RE = re.compile(r"[ \t\u00a0\u2000-\u200a\u202f\u205f\u3000]+")
_BLANK_LINES_RE = re.compile(r"\n{3,}")

_INJECTION_RE = re.compile(
    r"ignore (?:all |any )?(?:the )?(?:previous|prior|above|earlier) (?:instructions|prompts?)"
    r"|disregard (?:all |any )?(?:the )?(?:previous|prior|above|earlier)"
    r"|(?:reveal|print|show) (?:your |the )?system prompt"
    r"|you are now (?:a|an|in) "
    r"|new instructions?:"
    r"|<\s*/?\s*(?:system|assistant|instructions?)\s*>",
    re.IGNORECASE,
)


@dataclass
class TextFlags:
    """Counts of what normalisation removed or noticed in one document."""

    counts: Counter[str] = field(default_factory=Counter)

    def add(self, name: str, count: int) -> None:
        """Add ``count`` occurrences of ``name`` (ignored when zero)."""
        if count:
            self.counts[name] += count

    def as_dict(self) -> dict[str, int]:
        """The non-zero counts."""
        return {k: v for k, v in sorted(self.counts.items()) if v}


def clean_text(text: str, flags: TextFlags) -> str:
    """NFC-normalise ``text``, strip invisible/bidi/tag/control characters and tidy whitespace.

    Args:
        text: raw extracted text.
        flags: receives counts of ``invisible``, ``bidi``, ``tag_chars``, ``control`` and
            ``injection_phrases``.

    Returns:
        The cleaned text (paragraph breaks kept, runs of spaces collapsed).
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text, n = _TAG_RE.subn("", text)
    flags.add("tag_chars", n)
    text, n = _BIDI_RE.subn("", text)
    flags.add("bidi", n)
    text, n = _INVISIBLE_RE.subn("", text)
    flags.add("invisible", n)
    text, n = _CONTROL_RE.subn(" ", text)
    flags.add("control", n)
    text = unicodedata.normalize("NFC", text)
    text = "\n".join(_SPACES_RE.sub(" ", line).strip() for line in text.split("\n"))
    text = _BLANK_LINES_RE.sub("\n\n", text).strip()
    flags.add("injection_phrases", len(_INJECTION_RE.findall(text)))
    return text


_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


def bom_encoding(data: bytes) -> tuple[str, int] | None:
    """The encoding a byte-order mark announces and the mark's length, or None."""
    for bom, name in _BOMS:
        if data.startswith(bom):
            return name, len(bom)
    return None


def decode_text(data: bytes, flags: TextFlags) -> tuple[str, str]:
    """Decode bytes of unknown charset: BOM, then strict UTF-8, then detection.

    Invalid bytes are replaced (U+FFFD) and counted as ``invalid_bytes`` rather than failing the
    whole document: a filing with one bad byte is still worth indexing.

    Returns:
        (text, encoding name).

    Raises:
        ValueError: the bytes do not look like text in any charset.
    """
    found = bom_encoding(data)
    if found:
        name, skip = found
        text = data[skip:].decode(name, errors="replace")
        flags.add("invalid_bytes", text.count("\ufffd"))
        return text, name
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None:
        raise ValueError("the bytes are not text in any known charset")
    name = best.encoding
    text = data.decode(name, errors="replace")
    flags.add("invalid_bytes", text.count("\ufffd"))
    return text, name
