"""Ingest stage: files -> ``Document`` (original lines) -> ``Chunk`` (cleaned, traceable).

Public API::

    load_document(path, root, settings) -> Document | Skipped
    iter_files(root, settings) -> list[Path]
    chunk_document(doc, settings) -> list[Chunk]
    quote_in_lines(quote, lines) -> bool
    traceability_problems(doc, chunks) -> list[str]   # [] = every citation provable

Every chunk and every sentence carries its original 1-based line span (and PDF page), and
``quote_in_lines`` proves a quote against those lines; see verify.py for what "occurs"
means.
"""

from ingest.chunker import chunk_document
from ingest.clean import split_lines
from ingest.loaders import iter_files, load_document
from ingest.types import Chunk, Document, Sentence, Skipped
from ingest.verify import has_words, quote_in_lines, traceability_problems

# Raised whenever cleaning, structure or chunking rules change what a document becomes:
# an index built by another version re-chunks every document instead of reusing them.
INGEST_VERSION = 12

__all__ = [
    "INGEST_VERSION",
    "Chunk",
    "Document",
    "Sentence",
    "Skipped",
    "chunk_document",
    "document_from_text",
    "has_words",
    "iter_files",
    "load_document",
    "quote_in_lines",
    "split_lines",
    "traceability_problems",
]


def document_from_text(text: str, source: str = "tekst.txt", kind: str = "txt") -> Document:
    """A Document from a string, as the TXT loader would build it (tests, pasted text)."""
    import dataclasses
    import hashlib

    from ingest.loaders import markdown_headings
    from ingest.structure import document_title

    lines = tuple(split_lines(text))
    doc = Document(
        source=source,
        title="",
        kind=kind,
        lines=lines,
        pages=(None,) * len(lines),
        headings=markdown_headings(text, list(lines)) if kind == "md" else {},
        content_hash=hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest(),
    )
    return dataclasses.replace(doc, title=document_title(doc))
