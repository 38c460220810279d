"""FAISS over L2-normalised vectors: inner product equals cosine similarity.

Exact search (``IndexFlatIP``) is both fastest to build and exact up to a few hundred
thousand chunks on 2 cores; above ``ann_threshold`` an HNSW graph keeps queries in
milliseconds at the cost of a slower build (numbers in bench/).
"""

from __future__ import annotations

from pathlib import Path

import faiss
import numpy as np


def build_dense(vectors: np.ndarray, settings) -> faiss.Index:
    n, dim = vectors.shape if vectors.size else (0, vectors.shape[-1])
    if n > settings.ann_threshold:
        index = faiss.IndexHNSWFlat(dim, settings.hnsw_m, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = settings.hnsw_ef_construction
        index.hnsw.efSearch = settings.hnsw_ef_search
    else:
        index = faiss.IndexFlatIP(dim)
    if n:
        index.add(np.ascontiguousarray(vectors, dtype=np.float32))
    return index


def save_dense(index: faiss.Index, path: Path) -> None:
    faiss.write_index(index, str(path))


def load_dense(path: Path, settings) -> faiss.Index:
    index = faiss.read_index(str(path))
    if isinstance(index, faiss.IndexHNSW):
        index.hnsw.efSearch = settings.hnsw_ef_search
    return index


def search_dense(index: faiss.Index, query: np.ndarray, k: int) -> list[tuple[int, float]]:
    if index.ntotal == 0:
        return []
    scores, ids = index.search(query.reshape(1, -1).astype(np.float32), min(k, index.ntotal))
    return [(int(i), float(s)) for i, s in zip(ids[0], scores[0], strict=True) if i >= 0]
