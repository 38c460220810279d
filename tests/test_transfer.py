"""The ranker fitted on the five demo documents must still answer, and still refuse, on a
collection of one document (eval/transfer.py measures this over the whole gold set)."""

from __future__ import annotations

from eval.gold import load_gold
from eval.transfer import off_corpus, summary
from tests.conftest import DEMO

EFO_SOURCE = "000_4905b858c5d87b03.txt"
# Measured 2026-11-24 at the threshold read off 26 independent sets (0.3776, sentence
# model also fitted on the sets): 0.69 of this third of the other documents' questions
# refused (0.64 at sixteen sets' 0.3564 with the demo-only sentence model); with one
# threshold per question type off thirty sets, 0.78 of all of them (eval/transfer.py). One question
# is noise, a rate is behaviour; the floor leaves room for the sample.
OFF_CORPUS_FLOOR = 0.45


def test_off_corpus_turns_a_question_into_one_that_must_be_refused():
    item = next(g for g in load_gold() if g.answerable and g.source == EFO_SOURCE)
    moved = off_corpus(item)
    assert not moved.answerable
    assert (moved.id, moved.question) == (item.id, item.question)
    assert moved.source is None and moved.evidence_lines == () and moved.must_contain == ()


def test_summary_counts_each_group_apart():
    own = [{"answerable": True, "correct": True, "cited_ok": False, "found": True},
           {"answerable": True, "correct": False, "cited_ok": False, "found": False}]
    refused = [{"answerable": False, "found": f} for f in (False, True, False, False)]
    row = summary(own, refused, [])
    assert (row["n"], row["answer"], row["citation"], row["false_abstention"]) == (2, .5, 0, .5)
    assert row["abstention"] == 0.75
    assert row["off_corpus_abstention"] is None  # no such questions: no number


def test_one_document_index_answers_its_own_question_and_refuses_another(
        settings, embedder, tmp_path):
    from index import Index, build_index
    from qa import QA

    local = settings.model_copy(update={"index_dir": tmp_path / "index"})
    build_index(DEMO / EFO_SOURCE, local.index_dir, local, embedder=embedder)
    qa = QA(Index.load(local.index_dir, local, embedder=embedder), local)

    own = qa.answer("hoeveel woningen met de voorfinanciering van efo?")
    assert own.found and "600" in own.text
    assert all(c.source == EFO_SOURCE for c in own.citations)

    # questions about the other documents: their subject is absent, so they are refused
    others = [g for g in load_gold() if g.answerable and g.source != EFO_SOURCE][::3]
    answers = [qa.answer(g.question) for g in others]
    refused = [a for a in answers if not a.found]
    assert len(refused) / len(answers) >= OFF_CORPUS_FLOOR, (len(refused), len(answers))
    assert all(a.passages for a in refused)  # "misschien relevant" is still shown
