"""Flattened tables: "hoeveel ... in 2027?" is answered by the row under the year's header,
"wat kost ...?" by the row holding the amount that the ranker's sentence lacks."""

from __future__ import annotations

import pytest

from qa.tables import is_header, is_pair, is_row
from tests.conftest import WordIndex, chunk_of

BEGROTING = """Begroting beheer openbare ruimte 2025-2027

1. Inleiding

Het college wil de openbare ruimte de komende jaren beter onderhouden. In 2026 start
een nieuw bestek voor het maaien van bermen en het snoeien van bomen, omdat het oude
contract dan afloopt. Bewoners worden in 2026 betrokken bij de inrichting van hun
straat.

2. Middelen

Tabel 1. Budget per jaar (x € 1.000)
Onderdeel                  2025     2026     2027
Onderhoud wegen             120      140      160
Groenbeheer                  80       85       95
Straatverlichting            40       55       60

Het onderhoud van bruggen valt buiten deze tabel en wordt in 2026 geraamd op
€ 210.000 per jaar.
"""


@pytest.mark.parametrize("text, header, row", [
    ("Onderdeel 2025 2026 2027", True, False),
    ("2025 2026 2027 Totaal", True, False),
    ("Groenbeheer 80 85 95", False, True),
    ("Sportaccommodaties € 0,4 mln € 0,3 mln € 1,7 mln", False, True),
    ("De regeling loopt van 2025 tot 2027.", False, False),  # prose, not a table line
    ("Veldhuizen-Zuid: circa 620 woningen, start bouw in 2026;", False, False),
    ("Groenbeheer", False, False),
])
def test_table_lines_are_told_from_prose(text, header, row):
    assert (is_header(text), is_row(text)) == (header, row)


@pytest.mark.parametrize("text, pair", [
    ("Totaal € 751.000", True),
    ("Raadsvergadering: 3 juli 2027", True),
    ("Ontbreken brandmeldinstallatie € 5.000 per week", True),
    ("Tabel 2 Gemeentelijke kosten 2026", False),  # a caption holds no values
    ("De leges bedragen € 78,50.", False),  # prose
    ("De tabel geeft de ontwikkeling weer.¹", False),  # prose with a footnote mark
    ("2.1 Kosten", False),  # starts with a number: a heading, not a label
    ("Een lange regel zonder punt aan het eind die gewoon doorloopt op de volgende regel "
     "van de tekst € 5", False),
])
def test_label_and_value_lines(text, pair):
    assert is_pair(text, max_words=12) == pair


@pytest.fixture(scope="module")
def table_qa(settings, embedder, tmp_path_factory):
    from index import Index, build_index
    from qa import QA

    root = tmp_path_factory.mktemp("tables")
    (root / "docs").mkdir()
    (root / "docs" / "begroting.txt").write_text(BEGROTING, "utf-8")
    # Abstention is not what is tested here: a three-paragraph corpus says little.
    local = settings.model_copy(update={"index_dir": root / "index", "abstain_threshold": 0.0})
    build_index(root / "docs", local.index_dir, local, embedder=embedder)
    return QA(Index.load(local.index_dir, local, embedder=embedder), local)


def _line(n: int) -> str:
    return BEGROTING.split("\n")[n - 1]


def test_cell_question_quotes_its_row_and_the_header(table_qa):
    answer = table_qa.answer("hoeveel geld is er in 2026 voor groenbeheer")
    assert answer.found and "85" in answer.text
    spans = [(c.line_start, c.line_end) for c in answer.citations]
    lines = {n for a, b in spans for n in range(a, b + 1)}
    assert {_line(n).split()[0] for n in lines} >= {"Onderdeel", "Groenbeheer"}
    assert not any(_line(n).startswith(("Onderhoud", "Straatverlichting")) for n in lines)


def test_a_prose_sentence_that_answers_is_not_displaced_by_a_row(table_qa):
    answer = table_qa.answer("hoeveel kost het onderhoud van bruggen in 2026")
    assert answer.found and "210.000" in answer.text
    assert answer.citations[0].quote.rstrip().endswith(".")


def _candidates(source: str, lines: list[str]):
    from qa.features import Candidate

    chunk = chunk_of([(text, False) for text in lines], source)
    return [Candidate(0, chunk, s, {}) for s in chunk.sentences]


def test_a_row_in_another_documents_table_never_answers():
    from qa.tables import table_cell

    question = "hoeveel subsidie krijgt de bieb in 2027"
    library = _candidates("bieb.txt", ["Voor 2026 bedraagt de subsidie € 1.385.000."])
    poverty = _candidates("armoede.txt", ["Post 2026 2027 2028", "Subsidies 155 155 160",
                                          "Subsidie partners 155 160 160"])
    assert table_cell(library + poverty, question, "money", WordIndex(), 12) is None
    header, row = table_cell(poverty + library, question, "money", WordIndex(), 12)
    assert (header.sentence.text, row.sentence.text) == ("Post 2026 2027 2028",
                                                         "Subsidie partners 155 160 160")


def test_a_best_sentence_without_an_amount_gives_way_to_the_row():
    from qa.tables import table_cell

    # names the year and the organisation, but holds no amount: it cannot answer
    best = "De hogere subsidie voor Humanitas in 2026 is nodig omdat er 40 vrijwilligers komen."
    rows = ["Organisatie 2025 2026 2027", "Humanitas respijt 38.000 52.000 53.000",
            "Logeerhuis 64.000 70.000 70.000"]
    found = table_cell(_candidates("nota.txt", [best, *rows]),
                       "hoeveel subsidie krijgt humanitas in 2026", "money", WordIndex(), 12)
    assert found is not None and found[1].sentence.text == rows[1]


def test_a_clause_number_is_no_amount():
    from qa.tables import table_cell

    lines = ["3.1 Bij het bepalen van de hoogte van een dwangsom telt het voordeel.",
             "Overtreding Dwangsom", "Ontbreken rookmelder € 5.000 per week",
             "Bouwen zonder vergunning € 2.500 per week"]
    header, row = table_cell(_candidates("vth.txt", lines),
                             "hoe hoog is de dwangsom als een rookmelder ontbreekt", "money",
                             WordIndex(), 12)
    assert (header.sentence.text, row.sentence.text) == (lines[1], lines[2])


def test_a_best_sentence_with_an_amount_keeps_its_place_without_a_year():
    from qa.tables import table_cell

    lines = ["De leges voor een kapvergunning bedragen € 78,50.", "Soort Leges",
             "Kapvergunning aanvragen € 80,00"]
    assert table_cell(_candidates("leges.txt", lines), "wat kost een kapvergunning",
                      "money", WordIndex(), 12) is None


def test_a_tables_own_number_and_reference_day_count_nothing():
    from qa.tables import table_cell

    # the caption is the ranker's best line; its only numbers name the table and a day
    lines = ["Tabel 1. Lichtpunten naar type armatuur (peildatum 1 januari 2025)",
             "LED 6.120 62%", "Overig 3.720 38%", "Totaal 9.840 100%"]
    found = table_cell(_candidates("licht.txt", lines),
                       "hoeveel lichtpunten zijn er in totaal", "number", WordIndex(), 12)
    assert found is not None and found[1].sentence.text == lines[3]
    # a count in the caption itself is still a value the ranker's line answers with
    counted = ["Tabel 1. De 9.840 lichtpunten naar type (peildatum 1 januari 2025)", *lines[1:]]
    assert table_cell(_candidates("licht.txt", counted),
                      "hoeveel lichtpunten zijn er in totaal", "number", WordIndex(), 12) is None


def test_a_row_labelled_by_the_asked_year_answers_under_its_column_labels():
    from qa.tables import table_cell

    lines = ["Het aantal klachten over het terrein neemt toe.", "Jaar klachten melders",
             "2023 118 52", "2024 162 71", "2025 140 60"]
    header, row = table_cell(_candidates("geluid.txt", lines),
                             "hoeveel klachten kwamen er in 2024", "number", WordIndex(), 12)
    assert (header.sentence.text, row.sentence.text) == (lines[1], lines[3])
    # without a year asked, a bare year row says nothing about what is counted
    assert table_cell(_candidates("geluid.txt", lines), "hoeveel klachten kwamen er",
                      "number", WordIndex(), 12) is None


def test_a_year_row_is_quoted_under_its_column_labels_not_the_caption():
    from qa.tables import table_cell

    lines = ["De uitgaven stegen elk jaar.", "Tabel 1. Uitgaven inhuur 2022-2024",
             "Jaar Loonsom Uitgaven inhuur", "2022 € 41,2 mln € 6,8 mln",
             "2023 € 43,9 mln € 8,9 mln"]
    header, row = table_cell(_candidates("inhuur.txt", lines),
                             "hoeveel was de inhuur in 2023", "money", WordIndex(), 12)
    assert (header.sentence.text, row.sentence.text) == (lines[2], lines[4])
    # labels wrapped onto a second line are quoted from their first line
    wrapped = [*lines[:2], "Jaar Loonsom Uitgaven", "eigen personeel inhuur", *lines[3:]]
    header, row = table_cell(_candidates("inhuur.txt", wrapped),
                             "hoeveel was de inhuur in 2023", "money", WordIndex(), 12)
    assert (header.sentence.text, row.sentence.text) == (wrapped[2], wrapped[5])
