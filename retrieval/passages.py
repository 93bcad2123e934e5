"""The passage: one retrieved chunk with everything a citation needs."""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Passage:
    """A chunk returned by a search, with its document's metadata and its fused score."""

    chunk_id: str
    doc_id: str  # sha256 of the uploaded file
    doc_name: str  # file stem
    title: str
    issuer: str | None
    doc_date: str | None  # YYYY-MM-DD
    page_start: int  # 1-based
    page_end: int
    text: str
    content_sha256: str  # sha256 of ``text``
    access_groups: tuple[str, ...]
    score: float

    def as_dict(self) -> dict[str, object]:
        """JSON-ready form (``access_groups`` as a list)."""
        out = asdict(self)
        out["access_groups"] = list(self.access_groups)
        return out
