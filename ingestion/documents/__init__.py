"""Research documents: bytes -> sniffed type -> sandboxed parse -> normalised pages -> chunks.

The pieces, bottom up:

* ``sniff``: decide the file type from its magic bytes (never trust the extension alone);
* ``normalize``: charset detection, NFC, stripping of invisible/bidi/tag characters (flagged);
* ``parsers``: PDF (pypdfium2, pypdf fallback), HTML, Markdown, plain text, XML, DOCX -> pages;
* ``worker`` / ``sandbox``: run a parser in a child process under time and memory limits;
* ``chunking``: pages -> page-accurate chunks sized to the embedder.

This subpackage belongs to the ingestion layer: it imports no other Sightline package. Indexing
(embeddings, Chroma, keyword index, entitlements) lives in ``retrieval``.
"""
