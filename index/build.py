"""Incremental, crash-safe index builds.

A document is re-parsed and re-embedded only when its bytes changed (sha256) or the
embedder/chunking settings changed; unchanged documents keep their stored chunks and
vectors. The result is always written as a new generation (see store.py), so a failed or
killed build never touches what readers use.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import numpy as np
from filelock import FileLock, Timeout

import ingest
from index import store
from index.analyzer import ANALYZER_VERSION
from index.codec import chunk_from_record, chunk_to_record
from index.dense import build_dense, save_dense
from index.embedder import Embedder, load_embedder
from index.lexical import Lexical
from ingest import INGEST_VERSION
from ingest.types import Chunk, Document, Skipped

CHUNK_SETTINGS = (
    "chunk_target_words",
    "chunk_max_words",
    "chunk_min_words",
    "chunk_overlap_sentences",
)


def _chunking(settings) -> dict:
    """What decides a document's chunks besides its bytes: reused only when all match."""
    return {**{k: getattr(settings, k) for k in CHUNK_SETTINGS}, "ingest_version": INGEST_VERSION}


class BuildProgress:
    """Hooks for a progress display; the default shows nothing."""

    def files(self, total: int) -> None: ...
    def file_done(self, source: str, chunks: int, reused: bool) -> None: ...
    def embedding(self, total: int) -> None: ...
    def embedded(self, n: int) -> None: ...
    def writing(self) -> None: ...


@dataclass
class BuildReport:
    documents: int = 0
    chunks: int = 0
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    embedded_chunks: int = 0
    seconds: float = 0.0
    generation: str = ""


def _title(chunk: Chunk) -> str:
    """The document title, unless it is only the file name (which says nothing)."""
    return "" if chunk.title == PurePosixPath(chunk.source).stem else chunk.title


def embed_text(chunk: Chunk) -> str:
    """What the dense model sees: the chunk with its document title and section path."""
    head = [p for p in (_title(chunk), *chunk.section) if p]
    deduped = [p for i, p in enumerate(head) if p not in head[:i]]
    return "\n".join([" > ".join(deduped), chunk.text]) if deduped else chunk.text


def bm25_text(chunk: Chunk) -> str:
    return " ".join([_title(chunk), *chunk.section, chunk.text])


@dataclass
class _DocEntry:
    meta: dict
    chunks: list[Chunk]
    chunk_vectors: np.ndarray
    sentence_vectors: np.ndarray
    plain_vectors: np.ndarray  # each sentence embedded on its own (see _embed_new)
    document: Document | None = None  # None when reused from the previous generation
    lines: list | None = None
    pages: list | None = None


def _load_previous(idx_dir: Path, fingerprint: str, settings) -> dict[str, _DocEntry]:
    """Per-document stored state of the committed generation, if it is compatible."""
    try:
        gen, manifest = store.read_manifest(idx_dir)
    except store.IndexProblem:
        return {}
    same_chunking = manifest["chunking"] == _chunking(settings)
    if manifest["embedder"]["fingerprint"] != fingerprint or not same_chunking:
        return {}
    chunk_vecs = np.load(gen / "chunk_vectors.npy")
    sent_vecs = np.load(gen / "sentence_vectors.npy")
    plain_vecs = np.load(gen / "plain_vectors.npy")
    entries: dict[str, _DocEntry] = {}
    with open(gen / "documents.jsonl", encoding="utf-8") as f:
        docs = [json.loads(line) for line in f]
    with open(gen / "chunks.jsonl", encoding="utf-8") as f:
        chunks = [chunk_from_record(json.loads(line)) for line in f]
    c = s = 0
    for doc in docs:
        n = doc["meta"]["chunks"]
        doc_chunks = chunks[c : c + n]
        n_sent = sum(len(ch.sentences) for ch in doc_chunks)
        entries[doc["meta"]["source"]] = _DocEntry(
            meta=doc["meta"],
            chunks=doc_chunks,
            chunk_vectors=chunk_vecs[c : c + n],
            sentence_vectors=sent_vecs[s : s + n_sent],
            plain_vectors=plain_vecs[s : s + n_sent],
            lines=doc["lines"],
            pages=doc["pages"],
        )
        c, s = c + n, s + n_sent
    return entries


def build_index(
    corpus: Path,
    idx_dir: Path,
    settings,
    embedder: Embedder | None = None,
    progress: BuildProgress | None = None,
    rebuild: bool = False,
) -> BuildReport:
    """Ingest ``corpus`` into ``idx_dir``; raises IndexProblem (Dutch) when nothing usable."""
    t0 = time.perf_counter()
    progress = progress or BuildProgress()
    idx_dir.mkdir(parents=True, exist_ok=True)
    try:
        lock = FileLock(str(idx_dir / ".build.lock"), timeout=5)
        lock.acquire()
    except Timeout as exc:
        raise store.IndexProblem(
            f"Er loopt al een ingest op {idx_dir}. Wacht tot die klaar is."
        ) from exc
    try:
        embedder = embedder or load_embedder(settings)
        previous = {} if rebuild else _load_previous(idx_dir, embedder.fingerprint, settings)
        report = BuildReport()
        entries = _collect(corpus, settings, previous, report, progress)
        if not entries:
            reasons = "; ".join(f"{s.source}: {s.reason}" for s in report.skipped[:5])
            raise store.IndexProblem(
                f"Geen enkel document uit {corpus} kon worden ingelezen"
                + (f" ({reasons})" if reasons else " (de map bevat geen ondersteunde bestanden)")
                + ". De bestaande index is niet gewijzigd."
            )
        report.embedded_chunks = _embed_new(entries, embedder, progress)
        progress.writing()
        root = Path(corpus) if Path(corpus).is_dir() else Path(corpus).parent
        report.generation = _write(idx_dir, entries, embedder, settings,
                                   corpus_root=root.resolve()).name
        report.removed = sorted(set(previous) - set(entries))
        report.documents = len(entries)
        report.chunks = sum(len(e.chunks) for e in entries.values())
        report.seconds = time.perf_counter() - t0
        return report
    finally:
        lock.release()


def _collect(corpus, settings, previous, report, progress) -> dict[str, _DocEntry]:
    corpus = Path(corpus)
    if not corpus.exists():
        raise store.IndexProblem(f"De map {corpus} bestaat niet.")
    paths = [corpus] if corpus.is_file() else ingest.iter_files(corpus, settings)
    root = corpus.parent if corpus.is_file() else corpus
    progress.files(len(paths))
    entries: dict[str, _DocEntry] = {}
    for path in paths:
        source = path.relative_to(root).as_posix()
        old = previous.get(source)
        try:
            oversized = path.stat().st_size > settings.max_file_mb * 1024 * 1024
        except OSError:
            oversized = False  # reported by the hash below
        if oversized:  # refused by its size alone: never read (or hash) a 5 GB file
            loaded = ingest.load_document(path, root, settings)
            if isinstance(loaded, Skipped):
                report.skipped.append(loaded)
                progress.file_done(source, 0, reused=False)
                continue
        try:
            digest = store.sha256_file(path)
        except OSError as exc:
            report.skipped.append(Skipped(source, f"kan het bestand niet lezen ({exc})"))
            continue
        if old is not None and old.meta["content_hash"] == digest:
            entries[source] = old
            report.unchanged.append(source)
            progress.file_done(source, len(old.chunks), reused=True)
            continue
        loaded = ingest.load_document(path, root, settings)
        if isinstance(loaded, Skipped):
            report.skipped.append(loaded)
            progress.file_done(source, 0, reused=False)
            continue
        chunks = ingest.chunk_document(loaded, settings)
        if not chunks:
            report.skipped.append(Skipped(source, "geen tekst gevonden na opschonen"))
            progress.file_done(source, 0, reused=False)
            continue
        (report.changed if old is not None else report.added).append(source)
        meta = {
            "source": source,
            "title": loaded.title,
            "kind": loaded.kind,
            "content_hash": digest,
            "chunks": len(chunks),
            "ingested_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }
        entries[source] = _DocEntry(
            meta, chunks, np.empty((0, 0)), np.empty((0, 0)), np.empty((0, 0)), document=loaded,
            lines=list(loaded.lines), pages=list(loaded.pages),
        )
        progress.file_done(source, len(chunks), reused=False)
    return entries


def _embed_new(entries: dict[str, _DocEntry], embedder: Embedder, progress) -> int:
    """Two vectors per sentence: one pooled from its chunk's forward pass ("late
    chunking", which knows the topic from the heading and neighbours) and one from the
    sentence alone (which says whether this sentence itself states a fact close to the
    question). The second doubles ingest time and pays mainly for "niet gevonden": held
    out, the question model's AUC is 0.82 with it and 0.75 without (docs/calibration.md)."""
    fresh = [e for e in entries.values() if e.document is not None]
    chunks = [c for e in fresh for c in e.chunks]
    sentences = [s.text for c in chunks for s in c.sentences]
    progress.embedding(len(chunks) + len(sentences))
    if not chunks:
        return 0
    texts, spans = [], []
    for chunk in chunks:
        text = embed_text(chunk)
        shift = len(text) - len(chunk.text)  # the chunk text ends the embedded text
        texts.append(text)
        spans.append([(s.start + shift, s.end + shift) for s in chunk.sentences])
    vectors, sentence_vectors = embedder.embed_with_spans(texts, spans, progress=progress.embedded)
    c = 0
    for e in fresh:
        n = len(e.chunks)
        e.chunk_vectors = vectors[c : c + n]
        e.sentence_vectors = (np.concatenate(sentence_vectors[c : c + n])
                              if n else np.zeros((0, embedder.dim), np.float32))
        c += n
    plain = embedder.embed_passages(sentences, progress=progress.embedded)
    s = 0
    for e in fresh:
        n = sum(len(c.sentences) for c in e.chunks)
        e.plain_vectors = plain[s : s + n].reshape(-1, embedder.dim)
        s += n
    return len(chunks)


def _write(idx_dir: Path, entries: dict[str, _DocEntry], embedder: Embedder, settings,
           corpus_root: Path | None = None) -> Path:
    ordered = [entries[k] for k in sorted(entries)]
    chunks = [c for e in ordered for c in e.chunks]
    chunk_vectors = np.concatenate([e.chunk_vectors for e in ordered]).astype(np.float32)
    sentence_vectors = np.concatenate(
        [e.sentence_vectors.reshape(-1, embedder.dim) for e in ordered]
    ).astype(np.float32)
    plain_vectors = np.concatenate(
        [e.plain_vectors.reshape(-1, embedder.dim) for e in ordered]
    ).astype(np.float32)
    gen = store.new_generation(idx_dir)
    with open(gen / "chunks.jsonl", "w", encoding="utf-8") as f:
        for chunk in chunks:
            f.write(json.dumps(chunk_to_record(chunk), ensure_ascii=False) + "\n")
    with open(gen / "documents.jsonl", "w", encoding="utf-8") as f:
        for e in ordered:
            record = {"meta": e.meta, "lines": e.lines, "pages": e.pages}
            f.write(json.dumps(record, ensure_ascii=False) + "\n")
    np.save(gen / "chunk_vectors.npy", chunk_vectors)
    np.save(gen / "sentence_vectors.npy", sentence_vectors)
    np.save(gen / "plain_vectors.npy", plain_vectors)
    save_dense(build_dense(chunk_vectors, settings), gen / "dense.faiss")
    if settings.sentence_weight:  # ~10 vectors per chunk: skipped when the list is off
        save_dense(build_dense(plain_vectors, settings), gen / "sentences.faiss")
    Lexical.build([bm25_text(c) for c in chunks], settings.bm25_decompound).save(gen / "bm25")
    manifest = {
        "embedder": {"name": embedder.name, "fingerprint": embedder.fingerprint,
                     "dim": embedder.dim},
        "chunking": _chunking(settings),
        "dense_index": "hnsw" if len(chunks) > settings.ann_threshold else "flat",
        "decompound": settings.bm25_decompound,
        "analyzer_version": ANALYZER_VERSION,
        "documents": {e.meta["source"]: e.meta for e in ordered},
        "counts": {"documents": len(ordered), "chunks": len(chunks),
                   "sentences": int(sentence_vectors.shape[0])},
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        # the folder this index mirrors; the service stores uploads inside it
        "corpus_root": str(corpus_root) if corpus_root is not None else None,
    }
    return store.commit_generation(idx_dir, gen, manifest)
