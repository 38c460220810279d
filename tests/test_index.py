"""Index stage: hybrid retrieval quality, incremental builds, public search output."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest

from conftest import DEMO, ROOT, SPORTAAL_LINE, SPORTAAL_QUESTION, SPORTAAL_SOURCE


def _holds(hit, source, line):
    c = hit.chunk
    return c.source == source and c.line_start <= line <= c.line_end


def test_sportaal_line_in_top5(demo_index):
    hits = demo_index.search(SPORTAAL_QUESTION, 5)
    assert any(_holds(h, SPORTAAL_SOURCE, SPORTAAL_LINE) for h in hits), [
        (h.chunk.source, h.chunk.line_start, h.chunk.line_end) for h in hits
    ]
    hit = next(h for h in hits if _holds(h, SPORTAAL_SOURCE, SPORTAAL_LINE))
    assert "Onderwerp 1J Sport" in hit.chunk.section_path


def _gold_with_lines():
    gold = []
    for line in (ROOT / "eval" / "gold.jsonl").read_text(encoding="utf-8").splitlines():
        g = json.loads(line)
        if g["type"] == "unanswerable":
            continue
        lines = (DEMO / g["source"]).read_text(encoding="utf-8").split("\n")
        g["lines"] = [i + 1 for i, text in enumerate(lines) if g["evidence"] in text]
        gold.append(g)
    return gold


def test_hybrid_beats_each_retriever_alone(demo_index):
    gold = _gold_with_lines()
    recall = {}
    for mode in ("dense", "bm25", "hybrid"):
        found = 0
        for g in gold:
            hits = demo_index.search(g["question"], 5, mode=mode)
            found += any(_holds(h, g["source"], n) for h in hits for n in g["lines"])
        recall[mode] = found / len(gold)
    assert recall["hybrid"] > recall["dense"], recall
    assert recall["hybrid"] > recall["bm25"], recall
    assert recall["hybrid"] >= 0.85, recall


def test_hits_say_which_retrievers_found_them(demo_index):
    hits = demo_index.search("woningabonnement Deventer voorfinanciering", 10)
    assert hits and all(set(h.retrievers) <= {"dense", "bm25", "sentence"} and h.retrievers
                        for h in hits)
    assert hits == sorted(hits, key=lambda h: -h.score)
    both = [h for h in hits if h.retrievers[:2] == ("dense", "bm25")]
    assert both and both[0].dense_score is not None and both[0].bm25_score is not None


def test_second_ingest_of_unchanged_corpus_embeds_nothing(settings, embedder, demo_corpus,
                                                         demo_build):
    from index import build_index

    again = build_index(demo_corpus, settings.index_dir, settings, embedder=embedder)
    assert again.embedded_chunks == 0
    assert sorted(again.unchanged) == sorted(demo_build.added)
    assert again.chunks == demo_build.chunks
    assert again.seconds < demo_build.seconds / 5


def test_changed_file_is_reembedded_alone(settings, embedder, tmp_path):
    from index import Index, build_index

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(DEMO / "000_4905b858c5d87b03.txt", corpus)
    (corpus / "notitie.md").write_text(
        "# Fietsparkeren\n\nDe nieuwe fietsenstalling bij het station heeft 812 plekken.\n",
        encoding="utf-8")
    idx = tmp_path / "index"
    first = build_index(corpus, idx, settings, embedder=embedder)
    assert sorted(first.added) == ["000_4905b858c5d87b03.txt", "notitie.md"]

    (corpus / "notitie.md").write_text(
        "# Fietsparkeren\n\nDe nieuwe fietsenstalling bij het station heeft 1250 plekken.\n",
        encoding="utf-8")
    second = build_index(corpus, idx, settings, embedder=embedder)
    assert second.changed == ["notitie.md"]
    assert second.unchanged == ["000_4905b858c5d87b03.txt"]
    assert second.embedded_chunks == 1  # the one chunk of the changed file
    index = Index.load(idx, settings, embedder=embedder)
    top = index.search("hoeveel plekken heeft de fietsenstalling", 1)[0]
    assert "1250" in top.chunk.text

    (corpus / "notitie.md").unlink()
    third = build_index(corpus, idx, settings, embedder=embedder)
    assert third.removed == ["notitie.md"] and third.embedded_chunks == 0
    index = Index.load(idx, settings, embedder=embedder)
    assert {d.source for d in index.documents} == {"000_4905b858c5d87b03.txt"}


def test_index_built_by_other_ingest_rules_is_rechunked(settings, embedder, tmp_path,
                                                       monkeypatch):
    """New cleaning or chunking rules reach documents whose bytes did not change."""
    import index.build
    from index import build_index

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "notitie.md").write_text(
        "# Fietsparkeren\n\nDe nieuwe fietsenstalling bij het station heeft 812 plekken.\n",
        encoding="utf-8")
    idx = tmp_path / "index"
    build_index(corpus, idx, settings, embedder=embedder)
    assert build_index(corpus, idx, settings, embedder=embedder).unchanged == ["notitie.md"]
    monkeypatch.setattr(index.build, "INGEST_VERSION", index.build.INGEST_VERSION + 1)
    again = build_index(corpus, idx, settings, embedder=embedder)
    assert again.unchanged == [] and again.embedded_chunks == 1


def test_chunks_rank_by_their_best_sentence(demo_index):
    """The third list must rank every chunk by its best sentence, or by its own vector a
    handicap behind: checked against a brute-force maximum over all vectors."""
    import numpy as np

    from index.dense import search_dense

    question = "hoeveel woningen wil men verduurzamen met de voorfinanciering"
    q = demo_index.embed_query(question)
    best = np.full(len(demo_index.chunks), -np.inf)
    np.maximum.at(best, demo_index._sentence_owner, demo_index._plain_vectors @ q)
    chunk_vectors = demo_index._dense.reconstruct_n(0, demo_index._dense.ntotal)
    best = np.maximum(best, chunk_vectors @ q - demo_index.settings.sentence_chunk_handicap)
    dense = search_dense(demo_index._dense, q, demo_index.settings.dense_candidates)
    ranked = demo_index._by_best_sentence(q, 10, dense)
    assert [i for i, _ in ranked] == list(np.argsort(-best, kind="stable")[:10])
    assert np.allclose([score for _, score in ranked], np.sort(best)[::-1][:10], atol=1e-5)
    hits = demo_index.search(question, 10)
    assert any("sentence" in h.retrievers for h in hits)


def test_an_index_without_a_sentence_file_still_loads(settings, embedder, tmp_path):
    """Indexes built before the best-sentence list have no sentences.faiss: the list is
    then built from the stored sentence vectors at load, with no re-embedding."""
    from index import Index, build_index, store

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "hal.txt").write_text(
        "De sporthal opent in maart. Het dak wordt in 2027 vervangen door zonnepanelen.\n",
        encoding="utf-8")
    build_index(corpus, tmp_path / "index", settings, embedder=embedder)
    gen, manifest = store.read_manifest(tmp_path / "index")
    (gen / "sentences.faiss").unlink()
    del manifest["files"]["sentences.faiss"]
    (gen / store.MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
    hits = Index.load(tmp_path / "index", settings, embedder=embedder).search(
        "wanneer komt het nieuwe dak", 1)
    assert hits and "sentence" in hits[0].retrievers

    off = settings.model_copy(update={"sentence_weight": 0.0})  # large corpora: not built
    build_index(corpus, tmp_path / "off", off, embedder=embedder)
    assert not (store.read_manifest(tmp_path / "off")[0] / "sentences.faiss").exists()
    hits = Index.load(tmp_path / "off", off, embedder=embedder).search("het nieuwe dak", 1)
    assert hits and "sentence" not in hits[0].retrievers


def test_an_index_from_an_older_analyzer_has_its_terms_rebuilt(settings, embedder, tmp_path,
                                                              monkeypatch, caplog):
    """After an upgrade the stored BM25 terms must still meet the question's: the old
    analyzer stored "2e" as it is, the question's "tweede" would never find it."""
    import re

    import index.analyzer
    import index.build
    from index import Index, build_index

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "tarieven.txt").write_text("Een vergunning voor de 2e auto kost € 390.\n",
                                        encoding="utf-8")
    monkeypatch.setattr(index.analyzer, "_ORDINAL", re.compile(r"(?!)"))
    monkeypatch.setattr(index.build, "ANALYZER_VERSION", 1)
    build_index(corpus, tmp_path / "index", settings, embedder=embedder)
    monkeypatch.undo()
    hits = Index.load(tmp_path / "index", settings, embedder=embedder).search("tweede", 1)
    assert hits and hits[0].bm25_score is not None
    assert "vraagbaak ingest" in caplog.text  # the rebuild is made lasting by one ingest
    caplog.clear()
    build_index(corpus, tmp_path / "index", settings, embedder=embedder)
    Index.load(tmp_path / "index", settings, embedder=embedder)
    assert "oudere tekstanalyse" not in caplog.text


def test_index_built_with_other_embedder_gives_dutch_rebuild_message(settings, embedder,
                                                                    tmp_path):
    from index import Index, IndexProblem, build_index
    from index.embedder import load_embedder, minilm_path

    corpus = tmp_path / "c"
    corpus.mkdir()
    (corpus / "a.txt").write_text("De gemeente Enschede ligt in Twente. " * 5, "utf-8")
    english = settings.model_copy(update={"embedder": str(minilm_path())})
    build_index(corpus, tmp_path / "idx", english, embedder=load_embedder(english))
    with pytest.raises(IndexProblem) as exc:
        Index.load(tmp_path / "idx", settings, embedder=embedder)
    assert "vraagbaak ingest" in str(exc.value) and "embedder" in str(exc.value)


def test_ingest_of_nothing_fails_clearly_and_keeps_old_index(settings, embedder, tmp_path):
    from index import IndexProblem, build_index
    from index.store import current_generation

    corpus = tmp_path / "c"
    corpus.mkdir()
    (corpus / "a.txt").write_text("Het college besluit over de begroting van 2027. " * 4,
                                  "utf-8")
    build_index(corpus, tmp_path / "idx", settings, embedder=embedder)
    before = current_generation(tmp_path / "idx")
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "leeg.txt").write_text("", "utf-8")
    with pytest.raises(IndexProblem, match="Geen enkel document"):
        build_index(empty, tmp_path / "idx", settings, embedder=embedder)
    assert current_generation(tmp_path / "idx") == before


def test_langchain_retriever_returns_documents_with_spans(demo_index):
    from index import HybridRetriever

    docs = HybridRetriever(index=demo_index, k=3).invoke(SPORTAAL_QUESTION)
    assert len(docs) == 3
    for doc in docs:
        assert doc.metadata["line_start"] <= doc.metadata["line_end"]
        assert doc.page_content == doc.metadata["hit"].chunk.text


def test_search_batch_cli_prints_public_json(settings, demo_index, tmp_path):
    questions = tmp_path / "q.jsonl"
    questions.write_text(
        json.dumps({"id": "s1", "question": SPORTAAL_QUESTION}) + "\n"
        + json.dumps({"id": "s2", "question": "regiokassier regio deal"}) + "\n", "utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "vraagbaak.cli", "search", "--batch", str(questions),
         "--index", str(settings.index_dir), "--k", "5"],
        capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["id"] for r in rows] == ["s1", "s2"]
    for row in rows:
        assert set(row) == {"id", "hits"} and len(row["hits"]) == 5
        for hit in row["hits"]:
            assert set(hit) == {"source", "section", "line_start", "line_end", "page",
                                "score", "text"}
    assert any(h["source"] == SPORTAAL_SOURCE
               and h["line_start"] <= SPORTAAL_LINE <= h["line_end"] for h in rows[0]["hits"])


def test_an_ordinal_in_digits_meets_the_written_word():
    """Staff type "2e auto" and "4e kwartaal"; documents write "tweede" and "vierde"."""
    from index.lexical import Lexical

    texts = ["Een vergunning voor de eerste auto kost € 156.",
             "Een vergunning voor de tweede auto kost € 390.",
             "In het vierde kwartaal daalde het aantal ritten."]
    lexical = Lexical.build(texts, decompound=True)
    assert lexical.search("wat kost een vergunning voor een 2e auto", 3)[0][0] == 1
    assert lexical.search("ritten in het 4de kwartaal", 3)[0][0] == 2
    assert lexical.analyzer.terms("de 1ste keer") == lexical.analyzer.terms("de eerste keer")


def test_compound_splits_on_the_stem_of_a_corpus_word():
    """"bouwkosten" must meet a question about "de bouw" and "wat kost": the corpus may
    only have "bouwen" and "kosten", so a part may be the stem of a corpus word."""
    from index.lexical import Lexical

    texts = ["Wij bouwen een nieuw centrum.", "De kosten zijn hoog.",
             "De bouwkosten zijn geraamd op 2,4 miljoen euro."]
    lexical = Lexical.build(texts, decompound=True)
    assert lexical.analyzer.split_compound("bouwkosten") == ["bouw", "kosten"]
    assert lexical.analyzer.split_compound("bouwplaat") == []  # "plaat" is no corpus word
    assert lexical.search("wat kost de bouw", 3)[0][0] == 2
