"""Hybrid search: dense, BM25 and best-sentence candidates fused by reciprocal rank fusion.

RRF needs no score calibration between a cosine and a BM25 score, which is why it is the
fusion here; weights and candidate depths are settings. The loaded index is read-only and
shared by all request threads.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from index import store
from index.analyzer import ANALYZER_VERSION
from index.build import bm25_text
from index.codec import chunk_from_record
from index.dense import build_dense, load_dense, search_dense
from index.embedder import Embedder, load_embedder
from index.lexical import Lexical
from index.spelling import Speller
from ingest.clean import without_furniture
from ingest.types import Chunk

log = logging.getLogger(__name__)

QUERY_CACHE = 256  # recent query vectors kept in memory
TERM_CACHE = 50_000  # analysed sentences and chunks kept in memory
SENTENCES_PER_CHUNK = 4  # sentence hits fetched per wanted chunk, as several share one


@dataclass(frozen=True)
class Hit:
    chunk: Chunk
    score: float  # fused RRF score (or the single retriever's score)
    retrievers: tuple[str, ...]  # which retrievers found it: "dense", "bm25", "sentence"
    dense_score: float | None = None
    bm25_score: float | None = None


def diversify(hits: list[Hit], per_section: int) -> list[Hit]:
    """Move hits beyond ``per_section`` from one top-level section behind the rest.

    A section about one subject (say "Sportaal") otherwise fills the whole top 5 with
    near-duplicates and pushes out the one line elsewhere that answers the question;
    measured on the gold set: recall@5 0.913 -> 0.934 with at most 3 per section.
    """
    counts: dict[tuple[str, str], int] = {}
    first, later = [], []
    for hit in hits:
        key = (hit.chunk.source, hit.chunk.section[0] if hit.chunk.section else "")
        counts[key] = counts.get(key, 0) + 1
        (first if counts[key] <= per_section else later).append(hit)
    return first + later


@dataclass(frozen=True)
class DocumentInfo:
    source: str
    title: str
    kind: str
    chunks: int
    ingested_at: str


class Index:
    """A loaded index generation; build with ``Index.load``."""

    def __init__(self, path, manifest, chunks, docs, dense, lexical, sent_vecs, plain_vecs,
                 sentence_dense, embedder, settings):
        self.path = path
        self.manifest = manifest
        self.chunks: list[Chunk] = chunks
        self._lines = {d["meta"]["source"]: tuple(d["lines"]) for d in docs}
        self._kinds = {d["meta"]["source"]: d["meta"]["kind"] for d in docs}
        self._provable: dict[str, tuple[str, ...]] = {}
        self.documents = [
            DocumentInfo(m["source"], m["title"], m["kind"], m["chunks"], m["ingested_at"])
            for m in (d["meta"] for d in docs)
        ]
        self._dense = dense
        self._lexical = lexical
        self._sentence_vectors = sent_vecs
        self._plain_vectors = plain_vecs
        counts = [len(c.sentences) for c in chunks]
        offsets = np.cumsum([0] + counts)
        self._sentence_offset = {c.id: int(o) for c, o in zip(chunks, offsets, strict=False)}
        self._sentence_owner = np.repeat(np.arange(len(chunks)), counts)
        self._sentence_dense = sentence_dense
        self.embedder = embedder
        self.settings = settings
        self._terms = lru_cache(maxsize=TERM_CACHE)(self._analyse)
        self._query_cache: dict[str, np.ndarray] = {}
        self._cache_lock = threading.Lock()
        self._speller: Speller | None = None

    @classmethod
    def load(cls, idx_dir: Path, settings, embedder: Embedder | None = None) -> Index:
        idx_dir = Path(idx_dir)
        gen, manifest = store.read_manifest(idx_dir)
        wanted = manifest["embedder"]["name"]
        embedder = embedder or load_embedder(settings)
        if embedder.fingerprint != manifest["embedder"]["fingerprint"]:
            raise store.IndexProblem(
                f"De index in {idx_dir} is gebouwd met embedder '{wanted}', maar nu is "
                f"'{embedder.name}' ingesteld. " + store.rebuild_hint(idx_dir)
            )
        try:
            with open(gen / "chunks.jsonl", encoding="utf-8") as f:
                chunks = [chunk_from_record(json.loads(line)) for line in f]
            with open(gen / "documents.jsonl", encoding="utf-8") as f:
                docs = [json.loads(line) for line in f]
            dense = load_dense(gen / "dense.faiss", settings)
            lexical = Lexical.load(gen / "bm25")
            sent_vecs = np.load(gen / "sentence_vectors.npy")
            plain_vecs = np.load(gen / "plain_vectors.npy")
            sentence_dense = None
            if (gen / "sentences.faiss").exists():
                sentence_dense = load_dense(gen / "sentences.faiss", settings)
            elif settings.sentence_weight:  # built before 2026-11-25, or with the list off
                sentence_dense = build_dense(plain_vecs, settings)
        except Exception as exc:  # checksums passed, so this is a format problem
            raise store.IndexProblem(
                f"De index in {idx_dir} kan niet worden gelezen ({exc}). "
                + store.rebuild_hint(idx_dir)
            ) from exc
        if manifest.get("analyzer_version") != ANALYZER_VERSION:
            # an index from before an analyzer change: its terms would miss the questions'.
            # Rebuilt in memory (under a second for the demo), so the service still starts.
            log.warning("De index in %s is gebouwd met een oudere tekstanalyse; de BM25-termen "
                        "worden bij elke start opnieuw opgebouwd. Eén keer 'vraagbaak ingest "
                        "<map> --index %s' maakt dat blijvend (zonder opnieuw te embedden).",
                        idx_dir, idx_dir)
            lexical = Lexical.build([bm25_text(c) for c in chunks],
                                    manifest.get("decompound", settings.bm25_decompound))
        if (dense.ntotal != len(chunks) or lexical.bm25.scores["num_docs"] != len(chunks)
                or sent_vecs.shape != plain_vecs.shape
                or (sentence_dense is not None and sentence_dense.ntotal != len(plain_vecs))):
            raise store.IndexProblem(
                f"De index in {idx_dir} is inconsistent. " + store.rebuild_hint(idx_dir)
            )
        return cls(gen, manifest, chunks, docs, dense, lexical, sent_vecs, plain_vecs,
                   sentence_dense, embedder, settings)

    # --- queries ------------------------------------------------------------------
    def embed_query(self, question: str) -> np.ndarray:
        """Cached: the retriever and the answerer both need the same query vector."""
        with self._cache_lock:
            cached = self._query_cache.get(question)
        if cached is not None:
            return cached
        vector = self.embedder.embed_query(question)
        with self._cache_lock:
            self._query_cache[question] = vector
            while len(self._query_cache) > QUERY_CACHE:
                self._query_cache.pop(next(iter(self._query_cache)))
        return vector

    def search(
        self,
        question: str,
        k: int | None = None,
        query_vector: np.ndarray | None = None,
        mode: str = "hybrid",
        timings: dict | None = None,
    ) -> list[Hit]:
        """Top-k hits; ``mode`` is "hybrid", "dense" or "bm25" (the latter two for eval)."""
        s = self.settings
        k = k or s.top_k
        timings = {} if timings is None else timings
        dense: list[tuple[int, float]] = []
        lexical: list[tuple[int, float]] = []
        sentences: list[tuple[int, float]] = []
        if mode in ("hybrid", "dense"):
            t = time.perf_counter()
            if query_vector is None:
                query_vector = self.embed_query(question)
            timings["embed_ms"] = (time.perf_counter() - t) * 1000
            t = time.perf_counter()
            dense = search_dense(self._dense, query_vector, max(k, s.dense_candidates))
            if mode == "hybrid" and s.sentence_weight and self._sentence_dense is not None:
                sentences = self._by_best_sentence(query_vector, max(k, s.sentence_candidates),
                                                   dense)
            timings["dense_ms"] = (time.perf_counter() - t) * 1000
        if mode in ("hybrid", "bm25"):
            t = time.perf_counter()
            lexical = self._lexical.search(question, max(k, s.bm25_candidates))
            timings["bm25_ms"] = (time.perf_counter() - t) * 1000
        t = time.perf_counter()
        if mode == "dense":
            hits = [Hit(self.chunks[i], sc, ("dense",), dense_score=sc) for i, sc in dense]
        elif mode == "bm25":
            hits = [Hit(self.chunks[i], sc, ("bm25",), bm25_score=sc) for i, sc in lexical]
        else:
            hits = self._fuse(dense, lexical, sentences)
        hits = diversify(hits, s.max_hits_per_section)[:k]
        timings["fusion_ms"] = (time.perf_counter() - t) * 1000
        return hits

    def _by_best_sentence(self, query_vector: np.ndarray, k: int,
                          dense: list[tuple[int, float]]) -> list[tuple[int, float]]:
        """Chunks ranked by their best sentence read alone: a chunk about several things
        ranks low as a whole although one of its sentences answers the question. A chunk
        whose sentences are no prose (table rows, a list of names) matches as a whole or
        not at all, so its own vector competes too, a handicap behind (docs/calibration.md)."""
        ranked: dict[int, float] = {}
        for i, score in search_dense(self._sentence_dense, query_vector,
                                     k * SENTENCES_PER_CHUNK):
            ranked.setdefault(int(self._sentence_owner[i]), score)
        for i, score in dense:
            ranked[i] = max(ranked.get(i, -1.0), score - self.settings.sentence_chunk_handicap)
        return sorted(ranked.items(), key=lambda kv: (-kv[1], kv[0]))[:k]

    def _fuse(self, dense, lexical, sentences) -> list[Hit]:
        s = self.settings
        fused: dict[int, float] = {}
        for weight, ranked in ((s.dense_weight, dense), (s.bm25_weight, lexical),
                               (s.sentence_weight, sentences)):
            for rank, (i, _) in enumerate(ranked):
                fused[i] = fused.get(i, 0.0) + weight / (s.rrf_k + rank + 1)
        d, b, by_sentence = dict(dense), dict(lexical), dict(sentences)
        order = sorted(fused, key=lambda i: (-fused[i], i))
        return [
            Hit(
                self.chunks[i],
                fused[i],
                tuple(name for name, found in (("dense", i in d), ("bm25", i in b),
                                               ("sentence", i in by_sentence)) if found),
                dense_score=d.get(i),
                bm25_score=b.get(i),
            )
            for i in order
        ]

    # --- what the answerer needs --------------------------------------------------
    def sentence_similarities(self, chunk: Chunk, query_vector: np.ndarray
                              ) -> tuple[np.ndarray, np.ndarray]:
        """Cosine of the query with each sentence of ``chunk``: its late-chunked vector
        (the sentence read in its chunk) and its plain vector (the sentence alone)."""
        start = self._sentence_offset[chunk.id]
        end = start + len(chunk.sentences)
        q = query_vector.astype(np.float32)
        return self._sentence_vectors[start:end] @ q, self._plain_vectors[start:end] @ q

    def source_lines(self, source: str, line_start: int, line_end: int) -> tuple[str, ...]:
        lines = self._lines.get(source, ())
        return lines[max(0, line_start - 1) : line_end]

    def provable_lines(self, source: str, line_start: int, line_end: int) -> tuple[str, ...]:
        """The lines a quote is proven against: the original ones with page furniture
        (running headers and footers, contents entries) blanked, as ingest dropped them
        (computed once per document)."""
        lines = self._provable.get(source)
        if lines is None:
            lines = tuple(without_furniture(self._lines.get(source, ()),
                                            self._kinds.get(source, "")))
            self._provable[source] = lines
        return lines[max(0, line_start - 1) : line_end]

    @property
    def stats(self) -> dict:
        return {
            "documents": len(self.documents),
            "chunks": len(self.chunks),
            "embedder": self.manifest["embedder"]["name"],
            "built_at": self.manifest.get("built_at"),
        }

    def corrected(self, question: str) -> str:
        """``question`` with typos repaired against the corpus's words (index/spelling.py);
        unchanged when spelling repair is off."""
        if not self.settings.spell_max_edits:
            return question
        with self._cache_lock:
            if self._speller is None:
                self._speller = Speller(self._lexical.analyzer.vocabulary, self._lexical.knows,
                                        self.settings.spell_min_chars,
                                        self.settings.spell_max_edits)
        return self._speller.correct(question)

    def term_weights(self, text: str) -> dict[str, float]:
        """Analysed terms of ``text`` with their corpus IDF, for lexical overlap scoring."""
        return {t: self._lexical.idf(t) for t in self._lexical.analyzer.terms(text)}

    def terms(self, text: str) -> frozenset[str]:
        """Cached: the answerer analyses the same candidate sentences for every question."""
        return self._terms(text)

    def _analyse(self, text: str) -> frozenset[str]:
        return frozenset(self._lexical.analyzer.terms(text))
