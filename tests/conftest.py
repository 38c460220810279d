"""Shared fixtures: the demo index is built once per test session (real model)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "data" / "demo"
SPORTAAL_SOURCE = "001_911975feb7864931.txt"
SPORTAAL_LINE = 1049
SPORTAAL_QUESTION = "wanneer loopt de Sportaal-opdracht af?"
# Two small sections that the chunker merges into one chunk under the title.
MERGED_SECTIONS_MD = (
    "# Kwijtschelding\n\n## Doel\n\nDe regeling helpt huishoudens met een laag inkomen.\n\n"
    "## Belastingen\n\nHet gaat om de afvalstoffenheffing en de rioolheffing.\n"
)


def chunk_of(parts: list[tuple[str, bool]], source: str = "a.md"):
    """A chunk of one sentence per line; ``parts`` are (text, is_heading). For tests of
    the answerer's choices, which need sentences with spans but no index."""
    from ingest.types import Chunk, Sentence

    sentences, pos = [], 0
    for n, (text, heading) in enumerate(parts, 1):
        sentences.append(Sentence(text, pos, pos + len(text), n, n, heading=heading))
        pos += len(text) + 1
    return Chunk(source, source, source, (), "\n".join(t for t, _ in parts), 1, len(parts),
                 sentences=tuple(sentences))


class WordIndex:
    """An index stand-in whose terms are lowercased words, each weighing 1: enough for
    the answerer's word-overlap choices (table rows) without building an index."""

    @staticmethod
    def terms(text):
        return frozenset(text.lower().split())

    def term_weights(self, text):
        return dict.fromkeys(self.terms(text), 1.0)


@pytest.fixture(scope="session")
def settings(tmp_path_factory):
    from vraagbaak.settings import Settings

    work = tmp_path_factory.mktemp("vraagbaak")
    return Settings(
        index_dir=work / "index",
        feedback_file=work / "feedback" / "feedback.jsonl",
        upload_dir=work / "uploads",
    )


@pytest.fixture(scope="session")
def embedder(settings):
    from index.embedder import load_embedder

    return load_embedder(settings)


@pytest.fixture(scope="session")
def demo_corpus(tmp_path_factory) -> Path:
    """A private copy, so tests that add or change files never touch data/demo."""
    target = tmp_path_factory.mktemp("corpus") / "demo"
    shutil.copytree(DEMO, target)
    return target


@pytest.fixture(scope="session")
def demo_build(settings, embedder, demo_corpus):
    from index import build_index

    return build_index(demo_corpus, settings.index_dir, settings, embedder=embedder)


@pytest.fixture(scope="session")
def demo_index(settings, embedder, demo_build):
    from index import Index

    return Index.load(settings.index_dir, settings, embedder=embedder)


@pytest.fixture(scope="session")
def qa(settings, demo_index):
    from qa import QA

    return QA(demo_index, settings)
