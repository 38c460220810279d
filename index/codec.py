"""JSON records for chunks and documents, so the store never pickles code objects."""

from __future__ import annotations

from dataclasses import asdict

from ingest.types import Chunk, Sentence


def chunk_to_record(chunk: Chunk) -> dict:
    record = asdict(chunk)
    record["section"] = list(chunk.section)
    return record


def chunk_from_record(record: dict) -> Chunk:
    sentences = tuple(Sentence(**s) for s in record.get("sentences", ()))
    return Chunk(
        id=record["id"],
        source=record["source"],
        title=record["title"],
        section=tuple(record["section"]),
        text=record["text"],
        line_start=record["line_start"],
        line_end=record["line_end"],
        page=record.get("page"),
        sentences=sentences,
    )
