"""Typo repair of questions (index/spelling.py) with the real Dutch word list."""

from __future__ import annotations

from index.spelling import Speller


def _speller(*corpus: str, max_edits: int = 1) -> Speller:
    words = frozenset(corpus)
    return Speller(words, words.__contains__, min_chars=5, max_edits=max_edits)


def test_typo_becomes_the_corpus_word_one_edit_away():
    speller = _speller("honden", "geregistreerd")
    assert (speller.correct("hoeveel honden staan er geregisteerd?")
            == "hoeveel honden staan er geregistreerd?")


def test_valid_dutch_words_stay_though_a_corpus_word_is_one_edit_away():
    speller = _speller("daarom", "bepalen")
    assert speller.correct("waarom betalen we dit") == "waarom betalen we dit"


def test_a_capitalised_name_is_not_taken_for_a_typo():
    speller = _speller("sporthal")
    assert speller.correct("wat doet Sportaal precies") == "wat doet Sportaal precies"
    assert speller.correct("wat doet sportaal precies") == "wat doet sporthal precies"


def test_question_words_are_repaired_from_the_dutch_list():
    speller = _speller("bouw")
    assert speller.correct("wnneer start de bouw") == "wanneer start de bouw"
    assert speller.correct("hoeveeel woningen") == "hoeveel woningen"


def test_two_edits_are_too_many_by_default():
    assert _speller("monumenteneigenaren").correct("monumenteigenaren") == "monumenteigenaren"
    assert (_speller("monumenteneigenaren", max_edits=2).correct("monumenteigenaren")
            == "monumenteneigenaren")


def test_short_words_abbreviations_and_numbers_stay():
    speller = _speller("prins", "grens")
    assert speller.correct("prio grex 2026 nr. 5") == "prio grex 2026 nr. 5"


def test_demo_typo_question_finds_what_the_spelled_one_finds(qa, demo_index):
    typed = "welke vorm van afvalscheidng heeft de raad gekozen in de grondstoffenvisie"
    spelled = typed.replace("afvalscheidng", "afvalscheiding")
    assert demo_index.corrected(typed) == spelled
    answer = qa.answer(typed)
    assert answer.question == typed and answer.searched_as == spelled
    assert answer.found and answer.text == qa.answer(spelled).text
    assert "bronscheiding" in answer.text
    assert qa.answer(spelled).searched_as is None


def test_the_chat_shows_the_repaired_question_so_a_wrong_repair_is_seen(qa):
    from vraagbaak.sources_html import render_answer_markdown

    chat = render_answer_markdown(qa.answer("hoeveel hectare zoekt enschede voor een nieuw "
                                            "bedrijventerein"))
    assert chat.startswith("*Gezocht als:* hoeveel hectare zoekt enschede voor een nieuw "
                           "bedrijventerrein")
    assert "Gezocht als" not in render_answer_markdown(qa.answer("wat is streettriage?"))


def test_repair_can_be_switched_off(settings, embedder, demo_build):
    from index import Index

    off = settings.model_copy(update={"spell_max_edits": 0})
    index = Index.load(off.index_dir, off, embedder=embedder)
    assert index.corrected("afvalscheidng") == "afvalscheidng"
