"""QA stage: cited extractive answers, abstention, verified quotes, the batch format."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from conftest import DEMO, ROOT, SPORTAAL_QUESTION, SPORTAAL_SOURCE


def test_sportaal_question_answers_2026_with_citation(qa):
    answer = qa.answer(SPORTAAL_QUESTION)
    assert answer.found
    assert "2026" in answer.text and "[1]" in answer.text
    assert len(answer.text) <= 400
    cited = [c for c in answer.citations if "2026" in c.quote]
    assert cited and all(c.source == SPORTAAL_SOURCE for c in cited)
    original = (DEMO / SPORTAAL_SOURCE).read_text("utf-8").split("\n")
    for c in cited:
        span = " ".join(original[c.line_start - 1 : c.line_end])
        assert "2026" in span and "Sportaal" in span


def test_unanswerable_question_says_niet_gevonden_with_passages(qa):
    answer = qa.answer("wat is de hoofdstad van australië?")
    assert not answer.found
    assert answer.text == "Niet gevonden in de documenten."
    assert answer.citations == [] and len(answer.passages) >= 3


def _verified(citation) -> bool:
    """Verbatim in the original lines of its span; running page headers and footers
    ("-7-") are the only lines a quote may skip."""
    from ingest import quote_in_lines
    from ingest.clean import without_furniture

    lines = without_furniture((DEMO / citation.source).read_text("utf-8").split("\n"), "txt")
    return quote_in_lines(citation.quote, lines[citation.line_start - 1 : citation.line_end])


def test_every_citation_is_verbatim_in_its_source_span_over_the_gold_set(qa):
    from qa.extractive import repeats

    gold = [json.loads(x) for x in (ROOT / "eval" / "gold.jsonl").read_text("utf-8").splitlines()]
    n_citations = 0
    for g in gold:
        answer = qa.answer(g["question"])
        for c in answer.citations:
            n_citations += 1
            assert _verified(c), (g["id"], c)
            assert c.chunk_text[c.quote_start : c.quote_end] == c.quote
            assert f"[{c.n}]" in answer.text
        if answer.found:  # the answer is the quotes, each once, and nothing else but "…"
            stripped, shown, quotes = answer.text, [], []
            for c in answer.citations:
                marker = f" [{c.n}]" if f" [{c.n}]" in stripped else f"[{c.n}]"
                stripped = stripped.replace(marker, "", 1)
                if not any(repeats(c.quote, q) for q in quotes):
                    quotes.append(c.quote)
                    shown.append(c.quote + (" …" if c.continues else ""))
            assert stripped == " ".join(shown)
    assert n_citations > len(gold) // 2


@pytest.mark.parametrize(("question", "text", "other"), [
    ("hoeveel casussen in 2024?", "In 2025 werden 186 casussen aangemeld.", True),
    ("hoeveel casussen in 2024?", "In 2024 werden 186 casussen aangemeld.", False),
    ("budget in 2027?", "De raming voor 2026-2028 is € 4 miljoen.", False),  # a period
    ("budget in 2027?", "Het budget is € 4 miljoen.", False),  # no year: cannot tell
    ("hoeveel casussen?", "In 2025 werden 186 casussen aangemeld.", False),
])
def test_other_year(question, text, other):
    from qa.cues import other_year

    assert other_year(question, text) is other


@pytest.mark.parametrize(("question", "quotes", "misses"), [
    ("wat kost de wadistrook?", ["Langs de Kerkstraat komt een wadistrook."], True),
    ("wat kost de wadistrook?", ["De wadistrook kost € 85.000."], False),
    ("wat kost de wadistrook?", ["De wadistrook kost 2,1 miljoen."], False),
    ("wat kost de vergunning voor mantelzorgers?", ["Zij krijgen hem kosteloos."], False),
    ("wat kost de wadistrook in 2027?", ["Post 2026 2027\nWadistrook 400 380"], False),
    ("wat kost de wadistrook in 2027?", ["In 2026 kost de wadistrook € 85.000."], True),
    ("wanneer is de verklaring over 2024 gegeven?", ["Op 9 april 2025."], False),
    ("hoeveel uur per week werkt de secretaris?", ["De secretaris werkt 24 uur."], False),
    ("hoeveel uur per week werkt de secretaris?", ["De secretaris is benoemd."], True),
    ("welk percentage is gescheiden?", ["Het is 62 procent."], False),
    ("welk percentage is gescheiden?", ["Er is 4.100 ton gescheiden."], True),
    ("in welk jaar is het plein klaar?", ["Het plein is in 2027 klaar."], False),
    ("wie is de directeur van de bibliotheek?", ["De Bibliotheek Oost leidt het Taalhuis."],
     True),
    ("wie is de directeur van de bibliotheek?", ["Directeur is Ingrid Wolters."], False),
    ("wie is de voorzitter van de jongerenraad?", ["Die wordt voorgezeten door Sem Kaya."],
     False),
    ("wie is de voorzitter van de jongerenraad?", ["Namens de raad, mr. A.C. Bos."], False),
    ("wie is bij ons de bibob-coordinator?", ["De Bibob-coördinator is Sanne Hek."], False),
    ("wie is de bibob-coordinator?", ["De gemeente toetst aanvragen met Bibob."], True),
    ("wie is de trekker van het project?", ["Hengelo neemt het voortouw."], False),
    ("wie betaalt de directeur?", ["De gemeente betaalt."], False),
])
def test_misses_form(question, quotes, misses):
    from qa.cues import question_type
    from qa.extractive import misses_form

    assert misses_form(question, question_type(question), quotes) is misses


def test_evidence_about_another_year_is_no_answer(qa, monkeypatch):
    """The Regio Deal money of the demo is named for other years than 2019: quoting it
    would answer a question the documents leave open."""
    from qa import extractive

    question = "hoeveel geld krijgt twente in 2019 uit de regio deal?"
    answer = qa.answer(question)
    assert not answer.found and answer.passages
    monkeypatch.setattr(extractive, "other_year", lambda *_: False)
    assert qa.answer(question).found  # the rule, not the threshold, refused it
    assert qa.answer(question.replace(" in 2019", "")).found


def test_an_organisation_is_no_answer_to_who_its_officer_is(qa, monkeypatch):
    """The demo names no director of Novel-T, only what Novel-T does; it does name the
    city-centre manager."""
    from qa import extractive

    question = "wie is de directeur van novel-t?"
    assert not qa.answer(question).found
    monkeypatch.setattr(extractive, "names_no_officer", lambda *_: False)
    assert qa.answer(question).found  # the rule, not the threshold, refused it
    monkeypatch.undo()
    answer = qa.answer("wie is centrummanager in enschede")
    assert answer.found and "Gringhuis" in answer.text


def test_list_question_quotes_the_items_together(qa):
    answer = qa.answer("noem de ministers die partij zijn bij de regio deal twente")
    assert answer.found
    assert sum(name in answer.text for name in ("BZK", "EZK", "SZW", "OCW", "VWS",
                                                "Jonge", "Adriaansens", "Gennip")) >= 2


@pytest.mark.parametrize("question,fragment", [
    ("", "leeg"),
    ("   \n\t ", "leeg"),
    ("?!... ---", "geen woorden"),
    ("waarom " * 400, "te lang"),
])
def test_bad_questions_get_dutch_messages(qa, question, fragment):
    from qa import QuestionError

    with pytest.raises(QuestionError, match=fragment):
        qa.answer(question)


def test_chain_is_a_langchain_runnable(settings, demo_index):
    from langchain_core.runnables import Runnable

    from qa import build_chain

    chain = build_chain(demo_index, settings)
    assert isinstance(chain, Runnable)
    assert "2026" in chain.invoke(SPORTAAL_QUESTION).text


def test_ask_batch_cli_prints_public_json(settings, demo_index, tmp_path):
    questions = tmp_path / "q.jsonl"
    questions.write_text("\n".join(json.dumps(x) for x in [
        {"id": "a", "question": SPORTAAL_QUESTION},
        {"id": "b", "question": "wat is de hoofdstad van australië?"},
        {"id": "c", "question": "   "},
    ]) + "\n", "utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "vraagbaak.cli", "ask", "--batch", str(questions),
         "--index", str(settings.index_dir)],
        capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    rows = {r["id"]: r for r in map(json.loads, result.stdout.splitlines())}
    keys = {"id", "question", "found", "answer", "citations", "latency_ms"}
    assert set(rows["a"]) == keys and set(rows["b"]) == keys
    assert rows["a"]["found"] and "2026" in rows["a"]["answer"]
    citation = rows["a"]["citations"][0]
    assert set(citation) == {"n", "source", "section", "line_start", "line_end", "page",
                             "quote", "text"}
    assert citation["quote"] in citation["text"] or citation["quote"][:40] in citation["text"]
    assert rows["b"]["found"] is False and rows["b"]["citations"] == []
    assert rows["c"]["found"] is False and "leeg" in rows["c"]["error"]
