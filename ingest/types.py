"""Values that leave the ingest stage.

A ``Document`` keeps the original lines exactly as the loader produced them, so every
later stage can prove a quote against them. A ``Chunk`` carries its own sentences with
their line spans: the answerer cites a sentence's smallest span, not the whole chunk.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Sentence:
    text: str  # cleaned sentence text, a substring of the chunk text at [start, end)
    start: int  # char offsets inside Chunk.text
    end: int
    line_start: int  # 1-based, inclusive, in the original document lines
    line_end: int
    page: int | None = None
    heading: bool = False  # a heading line inside the chunk text: it names, never answers


@dataclass(frozen=True)
class Chunk:
    id: str
    source: str  # path relative to the ingested root, with "/" separators
    title: str  # document title
    section: tuple[str, ...]  # heading path, outermost first
    text: str  # cleaned text
    line_start: int
    line_end: int
    page: int | None = None  # first page (PDF only)
    sentences: tuple[Sentence, ...] = field(default=(), compare=False)

    @property
    def section_path(self) -> str:
        return " > ".join(self.section)

    @staticmethod
    def make_id(source: str, line_start: int, line_end: int, text: str) -> str:
        h = hashlib.sha256(f"{source}\x00{line_start}\x00{line_end}\x00{text}".encode())
        return h.hexdigest()[:16]


@dataclass(frozen=True)
class Document:
    source: str  # path relative to the ingested root
    title: str
    kind: str  # "pdf", "docx", "html", "md", "txt"
    lines: tuple[str, ...]  # original lines; line n is lines[n-1]
    pages: tuple[int | None, ...]  # page of each line (PDF), else all None
    headings: dict[int, int] = field(default_factory=dict)  # line -> level, from markup
    content_hash: str = ""  # sha256 of the file bytes


@dataclass(frozen=True)
class Skipped:
    """A file that was not ingested; ``reason`` is Dutch and shown to the user."""

    source: str
    reason: str
