"""The learned answer ranker: loading it safely, fitting it, and what its features mean."""

from __future__ import annotations

import json
from dataclasses import replace
from types import SimpleNamespace

import numpy as np
import pytest

from eval.calibrate import (
    NO_SKILL_SHARE,
    Row,
    fit_question,
    fit_sentences,
    held_out_sentence_models,
    thresholds_by_type,
)
from qa.features import (
    QUESTION_FEATURES,
    SENTENCE_FEATURES,
    Candidate,
    Candidates,
    question_features,
)
from qa.ranker import DEFAULT_PATH, Ranker, RankerProblem
from tests.conftest import MERGED_SECTIONS_MD, WordIndex, chunk_of


def test_shipped_ranker_matches_the_features_this_code_computes():
    ranker = Ranker.load()
    assert set(ranker.sentence_weights) == set(SENTENCE_FEATURES)
    assert set(ranker.question_weights) == set(QUESTION_FEATURES)
    assert 0.0 < ranker.abstain_threshold < 1.0 and ranker.second_sentence_margin >= 0.0


def test_missing_ranker_is_a_dutch_error_that_says_how_to_fix_it(tmp_path):
    with pytest.raises(RankerProblem, match="ontbreekt.*eval.calibrate --write"):
        Ranker.load(tmp_path / "weg.json")


def test_ranker_for_other_features_is_refused_in_dutch(tmp_path):
    data = json.loads(DEFAULT_PATH.read_text("utf-8"))
    data["sentence"]["weights"].pop("dense")
    data["sentence"]["weights"]["retired_feature"] = 1.0
    path = tmp_path / "oud.json"
    path.write_text(json.dumps(data), "utf-8")
    with pytest.raises(RankerProblem, match="past niet bij deze versie"):
        Ranker.load(path)


def _candidate(**features) -> Candidate:
    full = dict.fromkeys(SENTENCE_FEATURES, 0.0) | features
    return Candidate(hit_rank=0, chunk=None, sentence=None, features=full)


def test_score_sorts_by_the_weighted_features():
    ranker = Ranker.load()
    ranker = replace(ranker, sentence_weights=dict.fromkeys(SENTENCE_FEATURES, 0.0) | {"lex": 2.0})
    pool = Candidates("what", [_candidate(lex=0.1), _candidate(lex=0.9), _candidate(lex=0.5)])
    ranker.score(pool)
    assert [c.features["lex"] for c in pool.items] == [0.9, 0.5, 0.1]
    assert pool.items[0].score == pytest.approx(1.8)


def test_question_features_ignore_a_shift_of_all_scores():
    """Softmax scores have no fixed zero: a refit may shift them all, the verdict may not move."""
    rng = np.random.default_rng(1)
    items = [_candidate(lex=float(rng.random()), ctx=float(rng.random()),
                        plain=float(rng.random()), cue_date=float(i % 2)) for i in range(6)]
    for c, s in zip(items, sorted(rng.normal(size=6), reverse=True), strict=True):
        c.score = float(s)
    pool = Candidates("date", items, {"max_dense": 0.8, "max_plain": 0.7,
                                       "top_chunk_dense": 0.6})
    before = question_features(pool)
    for c in items:
        c.score += 7.5
    assert question_features(pool) == pytest.approx(before)
    assert set(before) == set(QUESTION_FEATURES)


def test_fit_sentences_finds_the_feature_that_marks_the_answer():
    """Synthetic questions where only feature k tells the answer apart from noise."""
    rng = np.random.default_rng(0)
    k = SENTENCE_FEATURES.index("cue_date")
    rows = []
    for _ in range(120):  # enough questions that the noise weights stay small
        x = rng.normal(size=(8, len(SENTENCE_FEATURES)))
        answer = int(rng.integers(8))
        x[answer, k] += 3.0
        right = np.zeros(8, bool)
        right[answer] = True
        rows.append(Row(item=None, pool=None, x=x, right=right, cited=right.copy()))
    w = fit_sentences(rows, l2=3.0)
    assert int(np.argmax(w)) == k
    assert w[k] > 5 * np.abs(np.delete(w, k)).max()


def _synthetic_rows(fold: str, feature: str, n: int, rng, answerable: bool = True) -> list[Row]:
    k = SENTENCE_FEATURES.index(feature)
    rows = []
    for i in range(n):
        x = rng.normal(size=(6, len(SENTENCE_FEATURES)))
        right = np.zeros(6, bool)
        if answerable:
            right[i % 6] = True
            x[i % 6, k] += 5.0  # far above the noise: a model that learned k finds it
        item = SimpleNamespace(id=f"q{i}", answerable=answerable)
        rows.append(Row(item=item, pool=None, x=x, right=right, cited=right.copy(), fold=fold))
    return rows


def test_each_fold_is_scored_by_a_model_that_never_saw_it():
    """The sets' writers differ: a set whose answers carry one mark is scored by a model
    that learned only the other sets' mark, so its held-out scores cannot find them. A
    leak (the set in its own training data) would find them at once."""
    rng = np.random.default_rng(3)
    own = _synthetic_rows("set-a", "cue_date", 40, rng)
    others = _synthetic_rows("set-b", "cue_money", 40, rng) + _synthetic_rows(
        "set-c", "cue_money", 40, rng)
    loose = _synthetic_rows(None, "cue_money", 5, rng, answerable=False)  # no fold
    scores, w_mean = held_out_sentence_models(own + others + loose, l2=3.0)
    found = np.mean([np.argmax(scores[r.key]) == np.argmax(r.right) for r in own])
    assert found < 0.5
    found = np.mean([np.argmax(scores[r.key]) == np.argmax(r.right) for r in others])
    assert found > 0.8  # set-b is scored by a model that learned set-c's mark, and back
    assert all(np.allclose(scores[r.key], r.x @ w_mean) for r in loose)
    assert len(scores) == len(own) + len(others) + len(loose)  # same ids, other folds


def test_fit_question_is_balanced_and_separates_a_clear_signal():
    rng = np.random.default_rng(2)
    y = np.array([True] * 90 + [False] * 10)  # as lopsided as the gold set
    q = rng.normal(size=(100, 3))
    q[:, 1] += np.where(y, 1.5, -1.5)
    w, b = fit_question(q, y, l2=1.0)
    p = 1 / (1 + np.exp(-(q @ w + b)))
    assert int(np.argmax(np.abs(w))) == 1 and w[1] > 0
    # class balancing: the unanswerable minority is not simply predicted away
    assert (p[~y] < 0.5).mean() > 0.7 and (p[y] >= 0.5).mean() > 0.7


def test_a_type_the_question_model_cannot_tell_apart_keeps_only_a_low_threshold():
    # "date": unanswerable questions score lower; "list": they score as high as the rest.
    answerable = np.array([True] * 100 + [False] * 30 + [True] * 100 + [False] * 30)
    p = np.concatenate([np.linspace(0.3, 1.0, 100), np.linspace(0.0, 0.5, 30),
                        np.linspace(0.0, 1.0, 100), np.linspace(0.05, 1.0, 30)])
    types = np.array(["date"] * 130 + ["list"] * 130)
    out = thresholds_by_type(p, answerable, types, false_abstention=0.10)
    date = types == "date"
    assert out["date"] > 0.3
    assert (p[date & answerable] < out["date"]).mean() <= 0.10
    assert (p[date & ~answerable] < out["date"]).mean() > 0.5
    # A threshold on "list" would refuse answerable questions as often as unanswerable ones;
    # it keeps one that refuses only the lowest-scoring few.
    list_ = types == "list"
    value = np.quantile(p[list_ & answerable], 0.10, method="lower")
    assert (p[list_ & ~answerable] < value).mean() <= 0.10
    assert 0.0 < out["list"] < value
    assert (p[list_ & answerable] < out["list"]).mean() <= NO_SKILL_SHARE


def test_a_type_with_too_few_answerable_questions_keeps_the_common_threshold():
    answerable = np.array([True] * 10 + [False] * 5)
    types = np.array(["why"] * 15)
    assert thresholds_by_type(np.linspace(0, 1, 15), answerable, types, 0.10) == {}


def test_threshold_setting_overrides_the_ranker(settings, demo_index):
    """Threshold 1 refuses everything; 0 answers everything the pool can cite."""
    from qa import QA

    question = "hoeveel woningen worden er gebouwd?"
    strict = QA(demo_index, settings.model_copy(update={"abstain_threshold": 1.0}))
    lenient = QA(demo_index, settings.model_copy(update={"abstain_threshold": 0.0}))
    assert not strict.answer(question).found
    assert lenient.answer(question).found


def test_each_question_type_has_its_own_threshold_unless_one_is_set(settings):
    ranker = Ranker.load()
    assert {"date", "number", "money", "what"} <= set(ranker.type_thresholds)
    assert all(0.0 < t < 1.0 for t in ranker.type_thresholds.values())
    assert ranker.threshold("date") == ranker.type_thresholds["date"]
    assert ranker.threshold("no-such-type") == ranker.abstain_threshold
    fixed = ranker.overridden(settings.model_copy(update={"abstain_threshold": 0.5}))
    assert fixed.threshold("date") == fixed.threshold("what") == 0.5


def test_a_type_threshold_refuses_only_questions_of_that_type(settings, demo_index, tmp_path):
    from qa import QA

    data = json.loads(DEFAULT_PATH.read_text("utf-8"))
    data["question"]["type_thresholds"] = {"date": 1.0}
    data["question"]["abstain_threshold"] = 0.0
    path = tmp_path / "ranker.json"
    path.write_text(json.dumps(data), "utf-8")
    qa = QA(demo_index, settings.model_copy(update={"ranker_path": path}))
    assert qa.answer("wanneer loopt de sportaal-opdracht af?").question_type == "date"
    assert not qa.answer("wanneer loopt de sportaal-opdracht af?").found
    assert qa.answer("hoeveel hectare zoekt enschede voor een nieuw bedrijventerrein").found


@pytest.mark.parametrize(("qtype", "question", "sentence", "expected"), [
    ("number", "hoeveel deelnemers waren er in 2017?", "Het forum was in 2017 in Twente.", 0.0),
    ("number", "hoeveel deelnemers waren er in 2017?", "In 2017 kwamen er 300 deelnemers.", 1.0),
    ("number", "hoeveel deelnemers waren er?", "Er was een forum voor de deelnemers.", 0.0),
    ("date", "wanneer loopt de opdracht af?", "De opdracht loopt eind 2026 af.", 1.0),
    ("date", "wat gebeurt er in 2026?", "In 2026 sluit de fabriek.", 0.0),
    ("money", "hoeveel geld krijgt Enschede?", "Enschede krijgt subsidie.", 0.0),
    ("money", "hoeveel geld krijgt Enschede?", "Enschede krijgt € 2,5 mln.", 1.0),
    ("money", "wat kost een vergunning?", "Een vergunning kost tachtig euro per jaar.", 1.0),
    ("number", "hoeveel leden zijn er?", "Er zijn vijfentwintig leden.", 1.0),
    ("number", "hoeveel leden zijn er?", "De leden staan achter het plan.", 0.0),
    ("who", "wie beheert de ijsbaan van Enschede?", "De ijsbaan in Enschede is open.", 0.0),
    ("who", "wie beheert de ijsbaan?", "De ijsbaan wordt beheerd door Sportaal.", 1.0),
])
def test_new_value_wants_a_value_the_question_does_not_state(qtype, question, sentence,
                                                            expected):
    from qa.cues import new_value

    assert new_value(qtype, sentence, question) == expected


def test_a_day_or_month_is_a_stronger_date_cue_than_a_year_alone():
    from qa.cues import cue_score

    day = cue_score("date", "De raad besluit op 3 juli 2027 over de nota.")
    month = cue_score("date", "De opening is in september 2028.")
    year = cue_score("date", "De Voorjaarsnota 2027 legt de kaders vast.")
    none = cue_score("date", "De raad besluit over de nota.")
    assert day == month > year > none == 0.0


# The cue says whether a sentence has the form an answer of the type takes: a count, not
# a year, date, label or article; an amount, not a money word alone; a verdict; a name.
@pytest.mark.parametrize(("qtype", "sentence", "cue"), [
    ("number", "In 2025 werden 186 casussen aangemeld.", 1.0),
    ("number", "De laatste woningen volgen eenentwintig maanden later.", 1.0),
    ("number", "Het raadslid behoudt zestien weken de vergoeding.", 1.0),
    ("number", "1.122 leerlingen deden mee.", 1.0),
    ("number", "Het convenant is op 9 januari 2026 ondertekend.", 0.3),
    ("number", "Tabel 2. Deelnemers per school in schooljaar 2024-2025", 0.3),
    ("number", "2.1 Deelnemende scholen", 0.3),
    ("number", "Er is een plan voor het gebied.", 0.3),
    ("number", "Het plan is klaar.", 0.0),
    ("money", "De gemeente reserveert jaarlijks € 6.500 voor scholing.", 1.0),
    ("money", "Het budget bedraagt 2,5 miljoen.", 1.0),
    ("money", "Tabel 1. Jaarbudget adviesraad (vanaf 2027) Post Bedrag per jaar", 0.3),
    ("money", "Deskundigheidsbevordering en scholing       6.500", 0.3),  # € in the caption
    ("money", "De raad stelt het budget vast.", 0.0),
    ("yes_no", "Voor de raadsleden geldt geen aparte vergoeding.", 1.0),
    ("yes_no", "Een monument mag alleen met een vergunning worden verbouwd.", 1.0),
    ("yes_no", "De vergaderingen zijn openbaar, tenzij de adviesraad anders besluit.", 0.3),
    ("yes_no", "De externe leden ontvangen € 285 per vergadering.", 0.3),
    ("who", "De directeur-bestuurder is de heer T. (Thijs) Vermaning.", 1.0),
    ("who", "Portefeuillehouder: wethouder M.J. (Marco) Kuipers", 1.0),
    ("who", "Het werk wordt gegund aan Van Dorp Wegservice B.V. uit Schoonrijk.", 1.0),
    ("who", "Het jongerenwerk wordt uitgevoerd door Stichting Welzijn Lindewaarde.", 1.0),
    ("who", "Het onderzoek is gedaan door Lumenadvies uit Deventer.", 0.6),  # no title
    ("who", "De gemeente betaalt de kosten van het onderzoek.", 0.6),  # a body, no name
    ("who", "Het onderzoek duurt drie maanden.", 0.0),
])
def test_cue_grades_the_form_the_answer_takes(qtype, sentence, cue):
    from qa.cues import cue_score

    assert cue_score(qtype, sentence) == cue


@pytest.mark.parametrize(("question", "qtype"), [
    ("hoe vaak wordt het restafval opgehaald?", "number"),
    ("hoe hoog is de drempel?", "number"),
    ("hoe heet het programma?", "what"),
    ("hoe lang loopt de proef?", "number"),  # a duration: "zes maanden"
    ("hoe lang geldt de regeling nog?", "date"),  # "nog": until when
])
def test_question_type_reads_hoe_plus_adverb(question, qtype):
    from qa.cues import question_type

    assert question_type(question) == qtype


@pytest.mark.parametrize(("question", "qtype"), [
    ("wat betaal je per uur voor een plek op straat", "money"),
    ("hoe hoog is de dwangsom als er geen brandmelder is", "money"),
    ("wat zijn de leges voor een kapvergunning?", "money"),
    ("wie betaalt de kosten van het onderzoek?", "who"),  # a payer, not an amount
    ("krijgt een club subsidie voor het dak?", "yes_no"),
    ("waarom is het budget verhoogd?", "why"),
    ("wat moet ik allemaal meesturen met de aanvraag", "list"),
    ("welke corporaties doen mee aan de city deal", "list"),
    ("welke duitse steden tekenden de intentieverklaring", "list"),
    ("welke wijk is aangewezen als proeftuin", "what"),  # "is" is no plural
    ("bij wie kan ik terecht met vragen over de subsidie", "who"),
    ("welk bedrijf onderhoudt de gemalen", "who"),
    ("welk adviesbureau deed het onderzoek", "who"),
    ("welke bedrijven doen mee aan de pilot", "list"),  # a plural asks for a list
    ("welke 3 groepen mogen de pendel gebruiken", "list"),  # a count of things asks for them
    ("op welke vier criteria toetst de commissie", "list"),
    ("welke wijk krijgt drie nieuwe speeltuinen", "what"),  # a count, but not after "welke"
    ("geldt de regel ook voor winkels?", "yes_no"),  # a finite verb first
    ("betaalt de provincie mee aan de brug", "yes_no"),
    ("op welke dag is de inzameling", "date"),
    ("hoelang duurt de proef", "number"),
    ("binnen welke termijn beslist het college", "number"),
    ("wat waren de drie lessen uit de pilot", "list"),  # "wat waren de" + a plural
    ("wat zijn volgens ouders de grootste knelpunten", "list"),
    ("top 3 ergernissen in de buurt?", "list"),
    ("wat gebeurt er als de huur niet betaald wordt", "what"),  # a consequence, no amount
    ("wat verandert er aan munten betalen bij de automaat", "what"),
    ("welk deel van de kosten draagt het rijk", "number"),
    ("hoe breed wordt het fietspad", "number"),
    ("wat kostte de renovatie van het gemeentehuis", "money"),
    ("wat is het totaalbudget voor het programma", "money"),
    ("hoe hoog is de huur?", "money"),
    ("max subsidie per adres?", "money"),  # a bare noun phrase naming an amount
    ("hoeveel krijgt een club per jeugdlid", "money"),  # what is given is an amount
    ("hoeveel huishoudens kregen de inkomenstoeslag?", "number"),  # ...but households count
    ("over hoeveel jaar moet je de lening terugbetalen?", "number"),
    ("wat doen we met de winst uit de grondexploitatie?", "what"),
    ("mijn pand is een monument, kan ik de subsidie aanvragen?", "yes_no"),
    ("was het verzuim lager dan gemiddeld?", "yes_no"),
])
def test_question_type_reads_forms_without_the_usual_question_word(question, qtype):
    from qa.cues import question_type

    assert question_type(question) == qtype


def test_subject_drops_the_form_word_after_hoe_only(demo_index):
    from qa.cues import subject

    terms = set(demo_index.term_weights(subject("Hoe vaak wordt het restafval opgehaald?")))
    assert "vaak" not in terms and "restafval" in terms
    assert "vaak" in demo_index.term_weights(subject("is het restafval vaak vol?"))


def test_ranker_fitted_on_another_embedder_warns_in_dutch(settings, demo_index, caplog):
    from qa.extractive import ExtractiveAnswerer

    own = Ranker.load()
    assert own.embedder == demo_index.manifest["embedder"]["name"]
    with caplog.at_level("WARNING", logger="qa.extractive"):
        ExtractiveAnswerer(demo_index, settings, ranker=own)
        assert not caplog.records
        ExtractiveAnswerer(demo_index, settings, ranker=replace(own, embedder="ander-model"))
    assert any("Fit het opnieuw" in r.getMessage() for r in caplog.records)


def test_answer_leads_with_the_best_sentence_not_the_earlier_one():
    from ingest.types import Chunk, Sentence
    from qa.extractive import with_runner_ups

    text = "Een nieuwe opdracht start in 2027. De opdracht loopt eind 2026 af."
    first, second = Sentence(text[:34], 0, 34, 1, 1), Sentence(text[35:], 35, len(text), 2, 2)
    chunk = Chunk("c", "a.txt", "a", (), text, 1, 2, sentences=(first, second))
    best = Candidate(0, chunk, second, {}, score=5.0)
    runner_up = Candidate(0, chunk, first, {}, score=4.5)
    far_behind = Candidate(0, chunk, first, {}, score=1.0)
    assert with_runner_ups(best, [runner_up], 1.0, 2, 400) == [best, runner_up]
    assert with_runner_ups(best, [far_behind], 1.0, 2, 400) == [best]


@pytest.mark.parametrize("room, fits", [(91, True), (92, False)])
def test_runner_up_fits_with_both_markers_inside_the_answer_limit(room, fits):
    """The best quote's own " [1]" counts too: a runner-up that only fitted beside the
    bare best quote took answers to 405 characters, over the limit staff are promised.
    And the count is exact: 91 characters fit, to the last one."""
    from ingest.types import Chunk, Sentence
    from qa.chain import format_answer
    from qa.extractive import with_runner_ups
    from qa.types import Answer, Citation

    def cand(text, line, score):
        chunk = Chunk(f"c{line}", "a.txt", "a", (), text, line, line,
                      sentences=(Sentence(text, 0, len(text), line, line),))
        return Candidate(0, chunk, chunk.sentences[0], {}, score=score)

    best, runner_up = cand("b" * 299 + ".", 1, 5.0), cand("r" * (room - 1) + ".", 9, 4.9)
    chosen = with_runner_ups(best, [runner_up], 1.0, 2, 400)
    assert (runner_up in chosen) is fits
    quotes = [c.sentence.text for c in chosen]
    answer = Answer("vraag?", True, "", citations=[
        Citation(n, "a.txt", "", 1, 1, None, q, q, 0, len(q)) for n, q in enumerate(quotes, 1)])
    assert len(format_answer(answer).text) <= 400


def test_runner_up_that_repeats_the_best_quote_from_another_chunk_is_left_out():
    from ingest.types import Chunk, Sentence
    from qa.extractive import with_runner_ups

    long = "In 2026 volgt het plan. Daarna beslist de raad."
    short = "In 2026  volgt het\nplan."
    other = "De raad beslist in 2027."
    a = Chunk("a", "a.txt", "a", (), long, 1, 2, sentences=(Sentence(long, 0, len(long), 1, 2),))
    b = Chunk("b", "a.txt", "a", (), short, 1, 2, sentences=(Sentence(short, 0, len(short), 1, 2),))
    c = Chunk("c", "a.txt", "a", (), other, 9, 9, sentences=(Sentence(other, 0, len(other), 9, 9),))
    best = Candidate(0, a, a.sentences[0], {}, score=5.0)
    repeat = Candidate(1, b, b.sentences[0], {}, score=4.9)
    new = Candidate(2, c, c.sentences[0], {}, score=4.8)
    assert with_runner_ups(best, [repeat, new], 1.0, 2, 400) == [best, new]
    assert with_runner_ups(repeat, [best], 1.0, 2, 400) == [repeat, best]  # says more
    # The same words at another place are a second source: kept, shown as a marker only.
    d = Chunk("d", "a.txt", "a", (), short, 40, 41,
              sentences=(Sentence(short, 0, len(short), 40, 41),))
    elsewhere = Candidate(3, d, d.sentences[0], {}, score=4.9)
    assert with_runner_ups(best, [elsewhere], 1.0, 2, 400) == [best, elsewhere]
    assert with_runner_ups(best, [elsewhere, new], 1.0, 2, 400, repeat_min_words=6) == [best, new]


def test_repeated_quote_adds_only_its_marker():
    from qa.chain import format_answer
    from qa.types import Answer, Citation

    def cite(n, quote, line):
        return Citation(n, "a.txt", "", line, line, None, quote, quote, 0, len(quote))

    answer = Answer("vraag?", True, "", citations=[
        cite(1, "Het plan Einddatum: 2040", 3), cite(2, "het plan\neinddatum: 2040", 90),
        cite(3, "Het plan Einddatum: 2040 met de raad.", 4)])
    assert format_answer(answer).text == (
        "Het plan Einddatum: 2040 [1][2] Het plan Einddatum: 2040 met de raad. [3]")


def test_list_answer_does_not_grow_into_a_heading(settings):
    from qa.extractive import shown

    parts = [("Doel", True), ("De regeling kent drie onderdelen:", False),
             ("afvalstoffenheffing", False), ("rioolheffing", False), ("Aanvragen", True)]
    chunk = chunk_of(parts)
    grown = shown(Candidate(0, chunk, chunk.sentences[2], {}), "list", settings)
    assert grown.sentence.text.split("\n") == [p for p, _ in parts[1:4]]
    assert (grown.sentence.line_start, grown.sentence.line_end) == (2, 4)


def test_list_item_grows_back_to_its_lead_in_and_no_further(settings):
    from qa.extractive import shown

    parts = [("De gemeente kent sinds 2020 een subsidieregeling.", False),
             ("Subsidie is mogelijk voor:", False), ("een groen dak;", False),
             ("een regenton.", False)]
    chunk = chunk_of(parts)
    grown = shown(Candidate(0, chunk, chunk.sentences[2], {}), "list", settings)
    assert (grown.sentence.line_start, grown.sentence.line_end) == (2, 4)
    # without a lead-in the item still takes its neighbours
    plain = chunk_of([parts[0], parts[2], parts[3]])
    grown = shown(Candidate(0, plain, plain.sentences[1], {}), "list", settings)
    assert (grown.sentence.line_start, grown.sentence.line_end) == (1, 3)


def test_list_stops_at_its_last_item(settings):
    from qa.extractive import shown

    parts = [("Het plan omvat de volgende projecten:", False),
             ("IKC De Regenboog: nieuwbouw;", False),
             ("Kindcentrum Molenkwartier: nieuwbouw;", False),
             ("SBO De Wissel: nader onderzoek na 2031.", False),
             ("Tijdens de bouw is tijdelijke huisvesting nodig in noodlokalen.", False)]
    chunk = chunk_of(parts)
    for start in (0, 2):
        grown = shown(Candidate(0, chunk, chunk.sentences[start], {}), "list", settings)
        assert (grown.sentence.line_start, grown.sentence.line_end) == (1, 4)
    # Items that each end in a full stop give no such sign: the list goes on.
    dotted = chunk_of([(t.replace(";", "."), h) for t, h in parts])
    grown = shown(Candidate(0, dotted, dotted.sentences[0], {}), "list", settings)
    assert grown.sentence.line_end == 5


def test_a_lead_up_to_a_list_gives_way_to_the_items_it_crowds_out(settings):
    from qa.extractive import shown

    items = [(f"het {name} is niet op orde en moet hersteld worden;", False)
             for name in ("dak", "kozijn", "riool", "hek")]
    parts = [("De huidige brandweerpost aan de Kerkstraat dateert uit 1968 en voldoet niet "
              "meer aan de eisen van deze tijd.", False),
             ("Bij de inspectie werden deze gebreken gevonden:", False), *items]
    chunk = chunk_of(parts)
    best = Candidate(0, chunk, chunk.sentences[0], {})
    roomy = shown(best, "list", settings)  # everything fits: the lead-up stays
    assert (roomy.sentence.line_start, roomy.sentence.line_end) == (1, 6)
    room = 8 + sum(len(t) + 1 for t, _ in parts[1:])
    tight = settings.model_copy(update={"answer_max_chars": room})
    grown = shown(best, "list", tight)
    assert (grown.sentence.line_start, grown.sentence.line_end) == (2, 6)
    # Other question types keep their best sentence.
    assert shown(best, "what", tight).sentence.line_start == 1
    # A label before prose is no list: "Einddatum:" does not push the best sentence out.
    label = chunk_of([parts[0], ("Einddatum:", False),
                      *[("Als het college wil bijsturen is 2026 een logisch moment", False)] * 4])
    kept = shown(Candidate(0, label, label.sentences[0], {}), "list", tight)
    assert kept.sentence.line_start == 1


def test_a_best_sentence_that_gave_way_to_its_list_follows_it_if_there_is_room(settings):
    from qa.extractive import quotes_for

    parts = [("Alleen de Europaweg blijft 50 km/uur.", False),
             ("De omzetting gebeurt in deze fasen:", False),
             *[(f"fase {n}: de wijk {w};", False) for n, w in enumerate("ABCDE", 1)],
             ("fase 6: de wijk F.", False)]
    chunk = chunk_of(parts)
    best = Candidate(0, chunk, chunk.sentences[0], {}, score=5.0)
    picks = quotes_for([best], "list", 3.0, settings)  # at most six sentences in one quote
    assert [(p.sentence.line_start, p.sentence.line_end) for p in picks] == [(2, 7), (1, 1)]


def test_list_runner_up_item_grows_into_its_list_but_a_statement_does_not(settings):
    from qa.extractive import quotes_for

    parts = [("De raad besluit:", False), ("1. kennis te nemen van de nota;", False),
             ("2. in te stemmen met het plan;", False), ("3. het fonds in te stellen.", False),
             ("Kosten", True), ("Het plan kost niets.", False), ("Het fonds wel.", False)]
    chunk = chunk_of(parts)
    elsewhere = chunk_of([("Het windpark krijgt vier turbines.", False)], source="b.md")
    best = Candidate(0, elsewhere, elsewhere.sentences[0], {}, score=5.0)
    item = Candidate(0, chunk, chunk.sentences[2], {}, score=4.5)
    picks = quotes_for([best, item], "list", 3.0, settings)
    assert (picks[1].sentence.line_start, picks[1].sentence.line_end) == (1, 4)
    # Other question types quote the item as it is; so does a list question whose
    # runner-up is a statement of its own.
    picks = quotes_for([best, item], "what", 3.0, settings)
    assert (picks[1].sentence.line_start, picks[1].sentence.line_end) == (3, 3)
    statement = Candidate(0, chunk, chunk.sentences[-1], {}, score=4.5)
    picks = quotes_for([best, statement], "list", 3.0, settings)
    assert picks[1].sentence.text == "Het fonds wel."


def test_enumeration_members_are_its_lead_in_its_marked_items_and_its_last_short_item():
    from qa.cues import enumeration

    chunk = chunk_of([
        ("De gemeente kent sinds 2020 een subsidieregeling.", False),
        ("Subsidie is mogelijk voor:", False), ("een groen dak;", False),
        ("een regenton", False), ("een geveltuin.", False),
        ("Aanvragen kan het hele jaar.", False), ("2. Voorwaarden", True),
        ("De aanvrager woont in de gemeente", False), ("a. de rioolheffing", False),
        ("De rest van deze paragraaf gaat over de hoogte van de bijdrage en over de "
         "voorwaarden die de gemeente daaraan verbindt, en over wat er gebeurt als een "
         "aanvrager daar niet aan voldoet.", False),
    ])
    assert enumeration(chunk.sentences) == [
        False, True, True, True, True, False, False, False, True, False]


@pytest.mark.parametrize("first, grows", [
    ("Waarom is de schaalsprong nodig?", True),  # a question names the topic only
    ("Het college kiest voor de schaalsprong.", True),
    ("De schaalsprong is nodig omdat Twente krimpt.", False),  # the reason is already there
])
@pytest.mark.parametrize("qtype", ["why", "what", "yes_no"])
def test_why_what_or_yes_no_answer_without_a_reason_quotes_the_next_sentence(settings, first, grows,
                                                                      qtype):
    from qa.extractive import shown

    chunk = chunk_of([(first, False), ("Twente wil de brede welvaart behouden.", False),
                       ("Aanpak", True)])
    sentences = chunk.sentences
    quote = shown(Candidate(0, chunk, sentences[0], {}), qtype, settings).sentence
    assert (quote.line_start, quote.line_end) == ((1, 2) if grows else (1, 1))
    # a date answer is the sentence alone
    alone = shown(Candidate(0, chunk, sentences[1 if grows else 0], {}), "date", settings)
    assert alone.sentence.line_start == alone.sentence.line_end
    # the sentence before a heading has nothing after it to borrow
    last = shown(Candidate(0, chunk, sentences[1], {}), qtype, settings).sentence
    assert (last.line_start, last.line_end) == (2, 2)


@pytest.mark.parametrize("qtype", ["why", "what"])
def test_a_next_sentence_that_opens_a_list_is_quoted_with_its_items(settings, qtype):
    from qa.extractive import shown

    chunk = chunk_of([("Inwoners kunnen gratis de Kanaalpendel gebruiken.", False),
                      ("De pendel is bedoeld voor:", False),
                      ("inwoners van 75 jaar en ouder;", False),
                      ("ouders met kinderwagens.", False), ("Een rit vraagt u vooraf aan.", False)])
    quote = shown(Candidate(0, chunk, chunk.sentences[0], {}), qtype, settings).sentence
    assert (quote.line_start, quote.line_end) == (1, 4)  # the items, not the next topic
    # items that do not all fit: as many as fit, never the promise alone
    tight = settings.model_copy(update={"answer_max_chars": 125})
    quote = shown(Candidate(0, chunk, chunk.sentences[0], {}), qtype, tight).sentence
    assert (quote.line_start, quote.line_end) == (1, 3)
    # yes or no: the items would crowd out the runner-up that says it
    quote = shown(Candidate(0, chunk, chunk.sentences[0], {}), "yes_no", settings).sentence
    assert (quote.line_start, quote.line_end) == (1, 2)


@pytest.mark.parametrize("second, with_previous", [
    ("De huishoudens worden daardoor kleiner.", True),  # the cause is said just before
    ("Hierom bouwen wij een nieuw centrum.", True),
    ("Daarom is het gebouw te groot, omdat de zorg krimpt.", False),  # gives its own reason
])
def test_why_answer_that_points_back_quotes_the_sentence_before(settings, second,
                                                                with_previous):
    from qa.extractive import shown

    chunk = chunk_of([("Aanleiding", True), ("Mensen wonen langer zelfstandig.", False),
                       (second, False)])
    sentences = chunk.sentences
    quote = shown(Candidate(0, chunk, sentences[2], {}), "why", settings).sentence
    assert (quote.line_start, quote.line_end) == ((2, 3) if with_previous else (3, 3))
    # a heading before it is not the cause
    alone = chunk_of([("Aanleiding", True), ("Daardoor groeit de vraag.", False)])
    quote = shown(Candidate(0, alone, alone.sentences[1], {}), "why", settings).sentence
    assert (quote.line_start, quote.line_end) == (2, 2)


def test_a_question_in_the_document_is_answered_by_its_next_sentence_never_quoted_alone(
        settings):
    from ingest.types import Chunk, Sentence
    from qa.extractive import ExtractiveAnswerer

    text = "Wat omvat de schaalsprong?\nDe schaalsprong omvat 30.000 woningen."
    first, second = Sentence(text[:26], 0, 26, 1, 1), Sentence(text[27:], 27, len(text), 2, 2)
    chunk = Chunk("c", "a.md", "a", (), text, 1, 2, sentences=(first, second))
    other = Chunk("d", "a.md", "a", (), "Waarom groeit Twente?", 9, 9,
                  sentences=(Sentence("Waarom groeit Twente?", 0, 21, 9, 9),))
    answerer = ExtractiveAnswerer(None, settings, Ranker.load())
    best = Candidate(0, chunk, first, {}, score=5.0)
    asked = Candidate(1, other, other.sentences[0], {}, score=4.9)
    chosen = answerer._choose([best, asked], "what", "wat omvat de schaalsprong?")
    assert [(c.sentence.line_start, c.sentence.line_end) for c in chosen] == [(1, 2)]
    assert chosen[0].sentence.text.endswith("30.000 woningen.")


def test_citation_names_the_heading_above_the_quote_in_a_merged_chunk():
    from ingest import chunk_document, document_from_text
    from qa.extractive import _section_of
    from vraagbaak.settings import Settings

    doc = document_from_text(MERGED_SECTIONS_MD, source="beleid.md", kind="md")
    [chunk] = chunk_document(doc, Settings())  # small sections merge into one chunk
    assert chunk.section == ("Kwijtschelding",)
    by_text = {s.text: s for s in chunk.sentences}
    quote = by_text["Het gaat om de afvalstoffenheffing en de rioolheffing."]
    assert _section_of(chunk, quote) == "Kwijtschelding > Belastingen"
    assert _section_of(chunk, by_text["Kwijtschelding"]) == "Kwijtschelding"


@pytest.mark.parametrize("qtype, grows", [("why", True), ("what", True), ("date", False)])
def test_an_enumerated_reason_is_answered_with_its_whole_list(settings, qtype, grows):
    from qa.extractive import ExtractiveAnswerer

    parts = [("Locatiekeuze", True), ("Voor deze polder is gekozen omdat:", False),
             ("de locatie in de RES is aangewezen als zoekgebied;", False),
             ("de afstand tot woningen overal groter is dan 650 meter;", False),
             ("er een netaansluiting op 2 km ligt.", False)]
    chunk = chunk_of(parts)
    item = Candidate(0, chunk, chunk.sentences[3], {}, score=1.0)
    answerer = ExtractiveAnswerer(WordIndex(), settings, Ranker.load())
    quote = answerer._choose([item], qtype, "waarom komen de molens in die polder")[0].sentence
    assert (quote.line_start, quote.line_end) == ((2, 5) if grows else (4, 4))


class _OwnLines:
    """provable_lines stand-in: a chunk's own lines are the original document."""

    def __init__(self, chunk):
        self.lines = chunk.text.split("\n")

    def provable_lines(self, source, line_start, line_end):
        return tuple(self.lines[line_start - 1:line_end])


@pytest.mark.parametrize("n, marked", [
    (1, True),  # "De regeling kent drie onderdelen:" opens a list that follows
    (2, True),  # "afvalstoffenheffing;" one item, more follow
    (3, False),  # "rioolheffing." the list ends here
    (4, False),  # "Totaal € 751.000" a table row is whole
])
def test_answer_marks_where_the_document_goes_on(settings, n, marked):
    """Staff read a quoted list item as the whole list unless the answer says it goes on."""
    from qa.chain import format_answer
    from qa.extractive import ExtractiveAnswerer
    from qa.types import Answer

    chunk = chunk_of([("Doel", True), ("De regeling kent drie onderdelen:", False),
                      ("afvalstoffenheffing;", False), ("rioolheffing.", False),
                      ("Totaal € 751.000", False)])
    answerer = ExtractiveAnswerer(_OwnLines(chunk), settings, Ranker.load())
    citation = answerer._cite(Candidate(0, chunk, chunk.sentences[n], {}), 1)
    text = format_answer(Answer("vraag?", True, "", citations=[citation])).text
    assert text == chunk.sentences[n].text + (" … [1]" if marked else " [1]")


def test_answer_marks_a_quote_cut_at_the_length_limit(settings):
    from qa.chain import format_answer
    from qa.extractive import ExtractiveAnswerer
    from qa.types import Answer

    long = "De gemeente " + "investeert verder in de wijk " * 30 + "tot 2030."
    chunk = chunk_of([(long, False)])
    answerer = ExtractiveAnswerer(_OwnLines(chunk), settings, Ranker.load())
    citation = answerer._cite(Candidate(0, chunk, chunk.sentences[0], {}), 1)
    text = format_answer(Answer("vraag?", True, "", citations=[citation])).text
    assert citation.quote != long and long.startswith(citation.quote)
    assert text.endswith(" … [1]") and len(text) <= settings.answer_max_chars


class _NoVectors(WordIndex):
    """Word overlap only: the row features are read from the text, not from vectors."""

    def embed_query(self, question):
        return None

    def sentence_similarities(self, chunk, qvec):
        zeros = np.zeros(len(chunk.sentences))
        return zeros, zeros


@pytest.mark.parametrize(("question", "qtype", "marked"), [
    ("hoeveel subsidie krijgt de bibliotheek", "money", True),
    ("hoeveel leden heeft de bibliotheek", "number", True),
    ("waarom krijgt de bibliotheek subsidie", "why", False),
])
def test_a_table_row_is_marked_only_for_questions_that_ask_for_a_value(question, qtype, marked):
    from index.search import Hit
    from qa.features import build_candidates

    chunk = chunk_of([("Baten 2025 2024", False),
                      ("Subsidie gemeente bibliotheek 1.512.000 1.468.000", False),
                      ("De subsidie steeg met 3,0% ten opzichte van 2024.", False)])
    pool = build_candidates(question, [Hit(chunk, 1.0, ("bm25",))], qtype, _NoVectors(), 5)
    row, header, prose = (pool.items[i].features for i in (1, 0, 2))
    assert row["table_row"] == float(marked)
    assert header["table_row"] == prose["table_row"] == 0.0  # column labels and prose
    # the row's share of the question's words counts only where it is marked a row
    assert row["row_lex"] == (row["lex"] if marked else 0.0)
    assert not marked or row["row_lex"] > 0
