"""The demo corpus (text extracted from PDFs, with its damage) stays fully traceable."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from ingest import Chunk, Document, chunk_document, iter_files, load_document, quote_in_lines
from ingest.clean import prepare, without_furniture
from ingest.verify import has_words, traceability_problems
from vraagbaak.settings import Settings

DEMO = Path(__file__).resolve().parents[1] / "data" / "demo"
SETTINGS = Settings()
TOPICS = "001_911975feb7864931.txt"
DOUBLE_SPACED = "000_4905b858c5d87b03.txt"
FILES = sorted(p.name for p in DEMO.glob("*.txt"))


@pytest.fixture(scope="module")
def corpus() -> dict[str, tuple[Document, list[Chunk]]]:
    out = {}
    for path in iter_files(DEMO, SETTINGS):
        doc = load_document(path, DEMO, SETTINGS)
        assert isinstance(doc, Document), doc
        out[doc.source] = (doc, chunk_document(doc, SETTINGS))
    assert sorted(out) == FILES
    return out


def test_line_1049_lands_in_sport_topic(corpus):
    doc, chunks = corpus[TOPICS]
    assert doc.lines[1048] == "Opdracht Sportaal 2022-2026 Eindatum: 2026"
    hits = [c for c in chunks if c.line_start <= 1049 <= c.line_end and "Sportaal 2022" in c.text]
    assert hits
    for c in hits:
        assert any("Onderwerp 1J Sport" in part for part in c.section)
    sentences = [s for c in hits for s in c.sentences if s.line_start == s.line_end == 1049]
    assert sentences and all("2026" in s.text for s in sentences)
    assert quote_in_lines(sentences[0].text, [doc.lines[1048]])


@pytest.mark.parametrize("name", FILES)
def test_every_word_traceable_and_every_line_covered(corpus, name):
    doc, chunks = corpus[name]
    assert chunks
    assert traceability_problems(doc, chunks) == []
    # the original lines; only running page numbers ("-7-") are dropped, nothing else
    lines = without_furniture(doc.lines, doc.kind)
    assert sum(a != b for a, b in zip(lines, doc.lines, strict=True)) <= 2
    covered = set()
    for c in chunks:
        span = lines[c.line_start - 1 : c.line_end]
        assert quote_in_lines(c.text, span)
        for s in c.sentences:
            assert c.text[s.start : s.end] == s.text
            assert quote_in_lines(s.text, lines[s.line_start - 1 : s.line_end])
            assert quote_in_lines(s.text, span)
        covered.update(range(c.line_start, c.line_end + 1))
    bullets_only = re.compile(r"[\s\uf0b7\uf0a7\uf0d8•▪➢*\-–]*")
    for n, line in enumerate(lines, 1):
        if not bullets_only.fullmatch(prepare(line)):
            assert n in covered, (n, line)


def test_double_spaced_file_joins_broken_sentences(corpus):
    doc, chunks = corpus[DOUBLE_SPACED]
    # "...willen wij huiseigenaren ondersteunen" / blank line / "bij het investeren in ..."
    assert doc.lines[9] == "" and doc.lines[10].startswith("bij het investeren")
    s = next(s for c in chunks for s in c.sentences if "huiseigenaren ondersteunen" in s.text)
    assert "ondersteunen bij het investeren in de verduurzaming" in s.text
    assert s.line_start == 9 and s.line_end >= 13
    c = next(c for c in chunks if "initiator van deze City Deal" in c.text)
    assert c.section == ("Energiebesparing door de markt", "Stand van zaken")


def test_topics_are_never_mixed(corpus):
    doc, chunks = corpus[TOPICS]
    topic_lines = [
        n for n, line in enumerate(doc.lines, 1) if re.match(r"\s*Onderwerp(\s*$|\s+\d)", line)
    ]
    assert len(topic_lines) == 49
    for c in chunks:
        assert not [n for n in topic_lines if c.line_start < n <= c.line_end], c.section
        assert c.section and c.section[0].startswith("Onderwerp")


def test_topic_title_on_following_lines(corpus):
    _, chunks = corpus[TOPICS]
    sections = {c.section[0] for c in chunks}
    assert "Onderwerp 3H Schaalsprong" in sections  # line 2779: "Onderwerp" alone
    assert any(s.startswith("Onderwerp 2C Groen en duurzaam") for s in sections)  # line 1574


def test_structural_headings(corpus):
    sections = {c.section for _, chunks in corpus.values() for c in chunks}
    flat = {part for sec in sections for part in sec}
    assert "DEEL 3: Afspraken" in flat
    assert "Artikel 6 - Regiokassier" in flat
    assert "De lijn die we hebben ingezet is……" in flat
    assert "Als het nieuwe college op deze lijn wil bijsturen is" in flat


def test_chunk_sizes_and_url_lines(corpus):
    words = [len(c.text.split()) for _, chunks in corpus.values() for c in chunks]
    assert max(words) <= SETTINGS.chunk_max_words
    assert sum(words) / len(words) >= 60
    small = sum(w < SETTINGS.chunk_min_words for w in words)
    assert small <= 0.05 * len(words)
    _, chunks = corpus[TOPICS]
    assert not any("https://" in c.text for c in chunks)  # URL lines stay in spans only


def test_lines_without_words_are_not_sentences(corpus):
    for doc, chunks in corpus.values():
        for c in chunks:
            assert all(has_words(s.text) for s in c.sentences), doc.source


def test_whole_corpus_is_fast():
    start = time.perf_counter()
    total = 0
    for path in iter_files(DEMO, SETTINGS):
        doc = load_document(path, DEMO, SETTINGS)
        total += len(chunk_document(doc, SETTINGS))
    elapsed = time.perf_counter() - start
    assert total > 300
    assert elapsed < 5.0, f"load+clean+chunk took {elapsed:.2f}s"
